"""Tests of vamp_tf.checkpoints: a damaged checkpoint is moved aside and the newest good one
is used, for resuming, for the final evaluation and for export."""

import logging
import os
import shutil

import pytest
import tensorflow as tf

from vamp_tf import checkpoints, train_lib, workdir


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(max(1, os.path.getsize(path) // 3))


def test_a_truncated_latest_checkpoint_falls_back_to_the_previous_one(smoke_run, tmp_path, caplog, no_figures,
                                                                      damage="data"):
    # The smoke run (2 epochs of 10 steps) as a crash while its epoch-2 checkpoint was written
    # would leave it: that checkpoint truncated, and no results.json yet.
    cfg, finished, straight = smoke_run
    run = str(tmp_path / "run")
    shutil.copytree(finished, run)
    os.remove(os.path.join(run, "results.json"))
    latest = os.path.join(run, "checkpoints", "latest")
    newest = tf.train.latest_checkpoint(latest)
    assert newest.endswith("ckpt-20")
    target = newest + (".index" if damage == "index" else ".data-00000-of-00001")
    _truncate(target)
    with caplog.at_level(logging.WARNING, logger="vamp_tf"):
        results = train_lib.train_and_evaluate(cfg, run)  # resumes from epoch 1
    assert any("cannot be restored" in r.getMessage() for r in caplog.records)
    assert os.path.exists(os.path.join(latest, "damaged", os.path.basename(target)))  # kept aside, not deleted
    assert results["epochs_run"] == 2
    assert results["metrics"]["test_log_likelihood"] == pytest.approx(straight["metrics"]["test_log_likelihood"],
                                                                     rel=1e-5)


def test_a_damaged_best_checkpoint_is_named_for_export_and_evaluation(small_runs, tmp_path):
    run = str(tmp_path / "run")
    shutil.copytree(small_runs["mnist_vamp"], run)  # one epoch of 5 steps
    best = tf.train.latest_checkpoint(os.path.join(run, "checkpoints", "best"))
    _truncate(best + ".data-00000-of-00001")
    with pytest.raises(checkpoints.CheckpointDamaged, match="no checkpoint in .*best can be restored"):
        workdir.restore_model(run)
    model, _, path = workdir.restore_model(run, "latest")  # the latest checkpoint is intact
    assert path.endswith("ckpt-5")


def test_a_truncated_index_is_moved_aside_and_the_state_file_points_at_the_good_one(tmp_path):
    variable = tf.Variable(0.0)
    checkpoint = tf.train.Checkpoint(v=variable)
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path), max_to_keep=2)
    for value in (1.0, 2.0):
        variable.assign(value)
        manager.save()
    _truncate(manager.latest_checkpoint + ".index")
    variable.assign(0.0)
    path = checkpoints.restore_newest(checkpoint, str(tmp_path))
    assert path.endswith("ckpt-1") and float(variable.numpy()) == 1.0
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-1")  # the manager's state follows
    assert sorted(os.listdir(tmp_path / "damaged")) == ["ckpt-2.data-00000-of-00001", "ckpt-2.index"]  # kept aside
    _truncate(path + ".data-00000-of-00001")
    with pytest.raises(checkpoints.CheckpointDamaged, match="no checkpoint in .* can be restored"):
        checkpoints.restore_newest(checkpoint, str(tmp_path))
