"""Tests of tools/progress.py: where unfinished runs stand, from synthetic workdirs."""

import json
import os

import numpy as np
import pytest
from absl import app

from tools import progress


def _workdir(root, name, epochs, curve, warmup=10, patience=20, max_epochs=400, noise=0.0, finished=False):
    d = os.path.join(root, name)
    os.makedirs(d)
    json.dump({"train": {"warmup_epochs": warmup, "early_stopping_patience": patience, "epochs": max_epochs}},
              open(os.path.join(d, "config.json"), "w"))
    wiggle = noise * np.where(np.arange(epochs) % 2, 1.0, -1.0)
    history = [{"epoch": e, "validation_neg_elbo": float(curve(e) + wiggle[e - 1])} for e in range(1, epochs + 1)]
    json.dump(history, open(os.path.join(d, "history.json"), "w"))
    if finished:
        json.dump({"complete": True}, open(os.path.join(d, "results.json"), "w"))
    return d


def test_the_fit_recovers_a_power_law_and_forecasts_where_its_gain_falls_below_the_noise():
    e = np.arange(11, 200, dtype=float)
    a, b, c, sigma = progress.fit_curve(e, 80.0 + 30.0 * e ** -0.5)
    assert a == pytest.approx(80.0, abs=1e-6) and b == pytest.approx(30.0, abs=1e-4) and c == pytest.approx(0.5)
    assert sigma == pytest.approx(0.0, abs=1e-6)
    values = 80.0 + 30.0 * e ** -0.5 + 0.02 * np.where(np.arange(len(e)) % 2, 1.0, -1.0)
    f = progress.forecast(e, values, patience=20, max_epochs=5000)
    gain = lambda x: 30.0 * (x ** -0.5 - (x + 20) ** -0.5)  # noqa: E731
    assert gain(f.stop_epoch) < f.noise <= gain(f.stop_epoch - 1)
    assert f.stop_epoch > 500 and f.noise == pytest.approx(0.02, rel=0.05)
    assert f.at_stop == pytest.approx(80 + 30 / np.sqrt(f.stop_epoch), abs=0.02)
    # A curve still far from flat at the budget stops at the budget; too short a curve gets no forecast.
    assert progress.forecast(e, 80.0 + 3000.0 * e ** -0.5, patience=20, max_epochs=300).stop_epoch == 300
    assert progress.forecast(e[:39], values[:39], patience=20, max_epochs=5000) is None


def test_runs_are_compared_at_matched_epochs_after_the_warm_up(tmp_path):
    _workdir(str(tmp_path), "a", 130, lambda e: 90.0 - e / 100)
    _workdir(str(tmp_path), "b", 75, lambda e: 95.0 - e / 100, finished=True)
    runs = [progress.read(str(tmp_path), n) for n in ("a", "b")]
    assert runs[0].best_epoch == 130 and runs[1].finished
    matched = progress.matched_lines(runs, every=50)
    assert matched[2:] == ["| 10 | 89.90 (best 89.90) | 94.90 (best 94.90) |",
                           "| 60 | 89.40 (best 89.40) | 94.40 (best 94.40) |",
                           "| 75 | 89.25 (best 89.25) | 94.25 (best 94.25) |"]
    summary = progress.summary_lines(runs)
    assert summary[2].startswith("| a | 130 / 400 | 88.70 (130) | 0 / 20 | ")
    assert summary[3] == "| b | 75 / 400 | 94.25 (75) | 0 / 20 | finished | finished | finished | finished |"


def test_a_run_not_started_or_not_yet_validated_is_refused_by_name(tmp_path):
    with pytest.raises(app.UsageError, match="no config.json in .*nope"):
        progress.read(str(tmp_path), "nope")
    _workdir(str(tmp_path), "fresh", 0, lambda e: 0.0)
    with pytest.raises(app.UsageError, match="fresh has no validated epoch yet"):
        progress.read(str(tmp_path), "fresh")
