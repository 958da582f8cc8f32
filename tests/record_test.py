"""Tests of tools/record.py: all named runs are recorded, or none."""

import os

import pytest
from absl import app

from tools import record


def test_records_every_finished_run_under_the_root(tmp_path, fake_workdir):
    runs = str(tmp_path / "runs")
    fake_workdir(runs, "mnist_vamp_l10", 3)
    fake_workdir(runs, "mnist_standard_l10", 3)
    out = str(tmp_path / "records")
    paths = record.record_runs(runs, [], out, str(tmp_path / "figures"))
    assert [os.path.basename(p) for p in paths] == ["mnist_standard_l10.json", "mnist_vamp_l10.json"]


@pytest.mark.parametrize("names, message", [
    (["mnist_vamp_l10", "mnist_standard_l10"], "mnist_standard_l10 holds no finished run"),
    (["mnist_vamp_l10", "mnist_vampp_l10"], "'mnist_vampp_l10' is not an experiment .*check the spelling"),
    (["mnist_vamp_l10", "mnist_vamp_l100"], "no workdir .*mnist_vamp_l100"),
])
def test_one_bad_run_writes_nothing(tmp_path, fake_workdir, names, message):
    runs = str(tmp_path / "runs")
    fake_workdir(runs, "mnist_vamp_l10", 3)
    fake_workdir(runs, "mnist_standard_l10", 3, finished=False)
    out = str(tmp_path / "records")
    with pytest.raises(app.UsageError, match=message):
        record.record_runs(runs, names, out, str(tmp_path / "figures"))
    assert not os.path.exists(out)


def test_a_missing_root_or_an_empty_one_is_refused(tmp_path):
    with pytest.raises(app.UsageError, match="not a directory: give the root of the workdirs"):
        record.record_runs(str(tmp_path / "nope"), [])
    with pytest.raises(app.UsageError, match="no finished run under"):
        record.record_runs(str(tmp_path), [])
