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
    folder = os.path.join(os.path.dirname(records.RECORDS), "rate_distortion")
    assert names == sorted(f[:-len(".flags")] for f in os.listdir(folder) if f.endswith(".flags"))
    for prior in ("standard", "vamp"):  # both priors at each of the sweep's five betas
        assert [n for n in names if n.startswith(f"mnist_{prior}_")] == [
            f"mnist_{prior}_l40_beta{b}" for b in ("0p25", "0p5", "1", "2", "4")]


def test_points_are_grouped_by_prior_ordered_by_beta_and_unrecorded_runs_left_out(tmp_path, monkeypatch):
    _record(tmp_path, "a", "vamp", 2.0, 18.0, 80.0)
    _record(tmp_path, "b", "vamp", 0.5, 30.0, 62.0)
    _record(tmp_path, "c", "standard", 1.0, 25.0, 66.0)
    _record(tmp_path, "d", "standard", 4.0, 9.0, 99.0, complete=False)  # not finished
    _record(tmp_path, "e", "standard", 4.0, 9.0, 99.0, split=False)  # finished before the surgery
    groups = rate_distortion_plane.points(["a", "b", "c", "d", "e", "never_run"], str(tmp_path))
    assert list(groups) == ["VampPrior", "standard prior"]
    assert groups["VampPrior"]["labels"] == ["β=0.5", "β=2"] and groups["VampPrior"]["rate"] == [30.0, 18.0]
    assert groups["standard prior"]["runs"] == ["c"]
    drawn = {}
    real = rate_distortion_plane.plots.rate_distortion_plane
    monkeypatch.setattr(rate_distortion_plane.plots, "rate_distortion_plane",
                        lambda groups, out, title: drawn.update(groups=groups, title=title) or real(groups, out, title))
    path = rate_distortion_plane.draw(["a", "b", "c"], str(tmp_path / "plane.png"), str(tmp_path))
    assert drawn["title"] == "Dynamic MNIST, VAE, latent 40, test set: 100 epochs each"
    assert drawn["groups"]["VampPrior"]["distortion"] == [62.0, 80.0]
    import matplotlib.image  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    pixels = matplotlib.image.imread(path)[..., :3]
    assert len({tuple(c) for c in np.round(pixels.reshape(-1, 3), 2)}) > 20  # a drawing, not a blank canvas


def test_no_recorded_point_is_refused_with_how_to_make_them(tmp_path):
    with pytest.raises(app.UsageError, match="run_grid --set=rate_distortion.*tools.record"):
        rate_distortion_plane.draw(["x"], str(tmp_path / "p.png"), str(tmp_path))
    assert not os.path.exists(tmp_path / "p.png")
