"""Tests of tools/records.py: a finished workdir becomes a record, and only a finished one."""

import os

import numpy as np
import pytest

from tools import records


def test_a_finished_run_round_trips_through_its_record(tmp_path, fake_workdir):
    workdir = fake_workdir(str(tmp_path / "runs"), "mnist_vamp_l40", 5, ll=-85.25, max_epochs=5)
    record, per_image = records.from_workdir(workdir, "mnist_vamp_l40")
    assert record["commits"] == ["abc123", "def456"] and record["results"]["epochs_run"] == 5
    assert record["results"]["config"]["train"]["epochs"] == 5
    assert "figures" not in record["results"]  # workdir paths mean nothing without the workdir
    assert per_image.dtype == np.float32
    out = str(tmp_path / "records")
    records.write(record, per_image, out)
    assert sorted(os.listdir(out)) == ["mnist_vamp_l40.json", "mnist_vamp_l40.npy"]
    loaded, loaded_per_image = records.load("mnist_vamp_l40", out)
    assert loaded == record
    np.testing.assert_allclose(loaded_per_image, np.load(os.path.join(workdir, "test_log_likelihoods.npy")), atol=1e-5)
    assert records.load("mnist_vamp_l10", out) == (None, None)


@pytest.mark.parametrize("case, message", [
    (dict(finished=False), "no finished run .* let its training and test evaluation finish"),
    (dict(evaluated_at=3), "trained to epoch 5 after its evaluation at epoch 3: rerun it"),
])
def test_an_unfinished_or_stale_run_is_refused_with_what_to_do(tmp_path, fake_workdir, case, message):
    workdir = fake_workdir(str(tmp_path), "mnist_vamp_l40", 5, **case)
    with pytest.raises(records.NotFinished, match=message):
        records.from_workdir(workdir, "mnist_vamp_l40")


def test_only_the_representative_figures_are_copied(tmp_path, fake_workdir):
    vamp = fake_workdir(str(tmp_path), "mnist_standard_l40", 2)
    other = fake_workdir(str(tmp_path), "mnist_standard_l10", 2)
    figures = str(tmp_path / "figures")
    assert records.copy_figures(vamp, "mnist_standard_l40", figures) == [
        os.path.join(figures, "mnist_standard_l40", "samples.png")]
    assert records.copy_figures(other, "mnist_standard_l10", figures) == []


def test_processor_segments_name_each_processor_and_its_epochs():
    history = [{"epoch": 1, "processor": "A"}, {"epoch": 2, "processor": "A"}, {"epoch": 3, "processor": "B"},
               {"epoch": 4, "processor": "A"}]
    assert records.processor_segments(history) == [[1, 2, "A"], [3, 3, "B"], [4, 4, "A"]]
    record = {"processors": records.processor_segments(history)}
    assert records.resumed_elsewhere(record) == (
        "resumed on another processor (epochs 1-2 on A; epochs 3-3 on B; epochs 4-4 on A): "
        "not bit-identical to an uninterrupted run on either.")


def test_one_processor_or_an_older_history_is_not_called_resumed_elsewhere():
    assert records.resumed_elsewhere({"processors": [[1, 9, "A"]]}) is None
    assert records.resumed_elsewhere({"processors": [[1, 4, None], [5, 9, "A"]]}) is None
    assert records.resumed_elsewhere({}) is None
