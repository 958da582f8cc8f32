"""Tests of tools/rate_distortion_plane.py: the plane from the records of the sweep."""

import os

import pytest
from absl import app

from tools import rate_distortion_plane, records


def _record(records_dir, name, prior, beta, rate, distortion, complete=True, split=True):
    metrics = {"rate_distortion": {"rate": [rate, 0.1], "distortion": [distortion, 0.2]}} if split else {}
    results = {"complete": complete, "epochs_run": 100, "metrics": metrics,
               "config": {"model": {"prior": prior}, "train": {"beta": beta}}}
    records.write({"name": name, "results": results, "commits": ["abc"]}, None, str(records_dir))


def test_the_sweep_is_the_rate_distortion_group_of_flagfiles():
    names = rate_distortion_plane.sweep_names()
    assert "mnist_vamp_l40_beta1" in names and "mnist_standard_l40_beta0p25" in names
    assert all("_beta" in n for n in names) and len(names) >= 8


def test_points_are_grouped_by_prior_ordered_by_beta_and_unrecorded_runs_left_out(tmp_path):
    _record(tmp_path, "a", "vamp", 2.0, 18.0, 80.0)
    _record(tmp_path, "b", "vamp", 0.5, 30.0, 62.0)
    _record(tmp_path, "c", "standard", 1.0, 25.0, 66.0)
    _record(tmp_path, "d", "standard", 4.0, 9.0, 99.0, complete=False)  # not finished
    _record(tmp_path, "e", "standard", 4.0, 9.0, 99.0, split=False)  # finished before the surgery
    groups = rate_distortion_plane.points(["a", "b", "c", "d", "e", "never_run"], str(tmp_path))
    assert list(groups) == ["VampPrior", "standard prior"]
    assert groups["VampPrior"]["labels"] == ["β=0.5", "β=2"] and groups["VampPrior"]["rate"] == [30.0, 18.0]
    assert groups["standard prior"]["runs"] == ["c"]
    path = rate_distortion_plane.draw(["a", "b", "c"], str(tmp_path / "plane.png"), str(tmp_path))
    assert os.path.getsize(path) > 1000


def test_no_recorded_point_is_refused_with_how_to_make_them(tmp_path):
    with pytest.raises(app.UsageError, match="run_grid --set=rate_distortion.*tools.record"):
        rate_distortion_plane.draw(["x"], str(tmp_path / "p.png"), str(tmp_path))
    assert not os.path.exists(tmp_path / "p.png")
