"""Tests of tools/run_grid.py: the commands it would run (nothing is trained here)."""

import os

import pytest
from absl import app

from tools import records, run_grid


def test_grid_commands_cap_epochs_and_pass_threads_and_extra_flags():
    cmd = run_grid.command("frey_vamp_l40", "/r", 300, 1, ["--eval_samples=100"])
    assert cmd[1:3] == ["-m", "trainers.main"]
    assert "--workdir=/r/frey_vamp_l40" in cmd and "--epochs=300" in cmd and "--intra_op_threads=1" in cmd
    assert cmd[-1] == "--eval_samples=100"
    # A budget above the flagfile's own epochs keeps the flagfile's.
    own = run_grid.flagfile_epochs(records.flagfile("frey_vamp_l40"))
    assert f"--epochs={own}" in run_grid.command("frey_vamp_l40", "/r", 10**6, 1, [])


def test_every_named_set_points_at_existing_flagfiles():
    assert set(run_grid.SETS["all"]) >= set(run_grid.SETS["seed_frey"]) | set(run_grid.SETS["hvae"])
    for name in sorted({n for names in run_grid.SETS.values() for n in names}):  # every set, not only "all"
        assert records.flagfile(name) is not None and os.path.exists(records.flagfile(name)), name


def test_unknown_flagfile_name_is_refused_with_the_known_names():
    with pytest.raises(app.UsageError, match="no flagfile .*known: .*mnist_vamp_l40"):
        run_grid.command("mnist_vampp_l40", "/r", 10, 1, [])
