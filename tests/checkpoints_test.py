"""Tests of vamp_tf.checkpoints: a damaged checkpoint is moved aside and the newest good one
is used, for resuming, for the final evaluation and for export."""

import json
import logging
import os
import shutil

import pytest
import tensorflow as tf

from vamp_tf import checkpoints, train_lib


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(max(1, os.path.getsize(path) // 3))


@pytest.mark.parametrize("damage", ["data", "index"])
def test_a_truncated_latest_checkpoint_falls_back_to_the_previous_one(smoke_run, tmp_path, caplog, without_figures,
                                                                      damage):
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
        results = train_lib.train_and_evaluate(without_figures(cfg), run)  # resumes from epoch 1
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
        checkpoints.restore_model(run)
    model, _, path = checkpoints.restore_model(run, "latest")  # the latest checkpoint is intact
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


KILL_INSIDE_A_SAVE = """
import os, signal, sys
sys.path.insert(0, os.getcwd())  # this checkout's trainers and vamp_tf (the test runs it from the repository)
from tensorflow.python.ops import gen_io_ops
merge, calls = gen_io_ops.merge_v2_checkpoints, [0]
def merge_or_die(*args, **kwargs):  # the shards of this save are written; its files are not yet merged
    calls[0] += 1
    if calls[0] == int(os.environ["KILL_AT_SAVE"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return merge(*args, **kwargs)
gen_io_ops.merge_v2_checkpoints = merge_or_die
from trainers import main
sys.argv = ["trainers.main"] + sys.argv[1:]
main.run()
"""


def test_a_kill_inside_a_checkpoint_save_leaves_a_run_that_resumes(tmp_path, real_data_dir, trainer, trainer_argv,
                                                                   tiny_reference):
    import subprocess
    import sys
    run = tmp_path / "run"
    script = tmp_path / "kill_inside_a_save.py"
    script.write_text(KILL_INSIDE_A_SAVE)
    # Saves: epoch 1 best (1), latest (2); epoch 2 best (3, if it improves), latest: kill in the 4th or the 3rd.
    argv = [sys.executable, str(script)] + trainer_argv(run, real_data_dir, "--epochs=2")[3:]
    killed = subprocess.run(argv, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), capture_output=True, text=True, timeout=300,
                            env={**os.environ, "KILL_AT_SAVE": "3"})
    assert killed.returncode == -9, killed.stderr[-2000:]
    left = [n for which in ("latest", "best") for n in os.listdir(run / "checkpoints" / which) if "_temp" in n]
    assert left  # the killed save's shards
    resumed = trainer(run, real_data_dir, "--epochs=2")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "left by a save that did not finish" in resumed.stderr
    assert not [n for which in ("latest", "best") for n in os.listdir(run / "checkpoints" / which) if "_temp" in n]
    results = json.load(open(run / "results.json"))
    assert results["metrics"]["test_log_likelihood"] == tiny_reference["metrics"]["test_log_likelihood"]


LEGACY = os.path.join(os.path.dirname(__file__), "data", "legacy_checkpoints")


def _legacy_model():
    """The dense HVAE of tests/data/legacy_checkpoints (written by commit c8866e0, before the HVAE's
    decoders shared one interface: its decoder's weights are under p_x_body and p_x_head)."""
    from vamp_tf import config, models
    cfg = config.ModelConfig(input_shape=(6, 5, 1), model="hvae", architecture="dense", prior="vamp",
                             num_components=3, latent_dim=2, hidden_units=4)
    return models.build_model(cfg, seed=5)  # another seed: every weight must come from the file


def test_a_checkpoint_of_the_older_hvae_layout_restores_with_the_same_outputs(tmp_path):
    import numpy as np
    directory = str(tmp_path / "best")
    shutil.copytree(os.path.join(LEGACY, "hvae_dense"), directory)
    want = dict(np.load(os.path.join(LEGACY, "legacy_hvae_outputs.npz")))
    names = [name for name, _ in tf.train.list_variables(directory)]
    assert any(n.startswith("model/p_x_body/") for n in names) and not any(n.startswith("model/p_x/") for n in names)
    model = _legacy_model()
    path = checkpoints.restore_newest(checkpoints.ModelCheckpoint(model), directory,
                                      lambda status: status.assert_consumed())
    assert path.endswith("ckpt-1")
    got = model(want["x"], noise=want["dense_noise"])
    for name, value in got.items():
        # Not bit for bit: the saved outputs came from another CPU, and an AVX2 matmul rounds the last
        # bit differently from an AVX-512 one (8.7e-8 relative seen); a weight restored wrongly moves them by far more.
        np.testing.assert_allclose(value.numpy(), want[f"dense_{name}"], rtol=1e-6, atol=1e-5, err_msg=name)
    # Saved again, it uses the current names, and restores without the legacy view.
    again = tf.train.Checkpoint(model=model).save(str(tmp_path / "new" / "ckpt"))
    assert any(n.startswith("model/p_x/body/") for n, _ in tf.train.list_variables(again))
    other = _legacy_model()
    tf.train.Checkpoint(model=other).restore(again).assert_consumed()
    np.testing.assert_array_equal(other(want["x"], noise=want["dense_noise"])["elbo"], got["elbo"])


def test_a_plain_checkpoint_object_does_not_read_the_older_layout(tmp_path):
    directory = str(tmp_path / "best")
    shutil.copytree(os.path.join(LEGACY, "hvae_dense"), directory)
    with pytest.raises(checkpoints.CheckpointDamaged):
        checkpoints.restore_newest(tf.train.Checkpoint(model=_legacy_model()), directory,
                                   lambda status: status.assert_consumed())


def test_the_state_files_temporary_twin_left_by_a_kill_is_removed_when_the_checkpoints_are_opened(tmp_path):
    variable = tf.Variable(1.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=variable), str(tmp_path), max_to_keep=1)
    manager.save(checkpoint_number=3)
    left = tmp_path / "checkpoint.tmp5f2c9a0e1b"  # TensorFlow writes the state file here, then renames it
    left.write_text('model_checkpoint_path: "ckpt-4"\n')
    removed = checkpoints.remove_partial_saves(str(tmp_path))
    assert removed == [str(left)]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-3.data-00000-of-00001", "ckpt-3.index"]
