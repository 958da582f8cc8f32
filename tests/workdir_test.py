"""Tests of vamp_tf.workdir: preparing a run's folder, reading it, restoring its model."""

import contextlib
import json
import os
import subprocess

import numpy as np
import pytest

from vamp_tf import checkpoints, config, workdir


def cfg(seed=3, **train):
    return config.Config(config.ModelConfig(latent_dim=2, hidden_units=4, num_components=2),
                         config.TrainConfig(seed=seed, **train))


def test_a_workdir_with_another_config_is_refused_unless_overwrite(tmp_path):
    run = str(tmp_path / "run")
    workdir.prepare(cfg(), run)
    open(os.path.join(run, "results.json"), "w").write("{}")
    with pytest.raises(workdir.WorkdirConflict, match="(?s)train.seed: 3 -> 4.*--overwrite"):
        workdir.prepare(cfg(seed=4), run)
    assert os.path.exists(os.path.join(run, "results.json"))  # nothing lost
    workdir.prepare(cfg(epochs=7), run)  # the epoch budget may change between reruns
    workdir.prepare(cfg(seed=4), run, overwrite=True)
    assert json.load(open(os.path.join(run, "config.json")))["train"]["seed"] == 4
    assert not os.path.exists(os.path.join(run, "results.json"))


def test_a_workdir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "notadir"
    path.write_text("keep me")
    with pytest.raises(workdir.WorkdirConflict, match="is a file; pass a directory"):
        workdir.prepare(cfg(), str(path))
    assert path.read_text() == "keep me"


def test_restore_model_names_what_is_missing(tmp_path):
    with pytest.raises(workdir.RunNotFound, match="no config.json"):
        checkpoints.restore_model(str(tmp_path))
    workdir.prepare(cfg(), str(tmp_path))
    with pytest.raises(workdir.RunNotFound, match="no checkpoint in .*train the run first"):
        checkpoints.restore_model(str(tmp_path))


def test_a_data_initialised_run_restores_without_its_training_images(small_runs):
    run = small_runs["frey_vamp"]  # pseudo_init='data'
    model, config_, path = checkpoints.restore_model(run)
    assert config_.model.pseudo_init == "data" and path.endswith("ckpt-1")
    assert workdir.read_results(run)["complete"] and [h["epoch"] for h in workdir.read_history(run)] == [1]
    u = model.prior.pseudo_inputs.numpy()
    assert u.shape == (5, 28, 20, 1) and np.std(u) > 0.1  # face images, not the random start N(0.5, 0.02)


def test_a_workdir_under_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "afile").write_text("keep me")
    with pytest.raises(workdir.WorkdirConflict, match="cannot be created: .*afile is a file, not a directory"):
        workdir.prepare(cfg(), str(tmp_path / "afile" / "run"))
    assert (tmp_path / "afile").read_text() == "keep me"


@contextlib.contextmanager
def read_only(directory):
    """A read-only bind mount of `directory` (root ignores permission bits, so chmod is no test)."""
    mounted = subprocess.run(["mount", "--bind", directory, directory], capture_output=True).returncode == 0
    if mounted:
        mounted = subprocess.run(["mount", "-o", "remount,ro,bind", directory], capture_output=True).returncode == 0
        if not mounted:
            subprocess.run(["umount", directory], capture_output=True)
    if not mounted:
        pytest.skip("cannot bind-mount read-only here (needs root and mount rights); the read-only cases are untested")
    try:
        yield directory
    finally:
        subprocess.run(["umount", directory], check=True)


def test_read_only_storage_reads_a_finished_run_and_refuses_training_at_the_start(small_runs, tmp_path):
    from vamp_tf import train_lib
    import shutil
    root = str(tmp_path / "ro")
    shutil.copytree(small_runs["mnist_mog"], os.path.join(root, "finished"))
    finished_config = workdir.read_config(os.path.join(root, "finished"))
    with read_only(root):
        results = train_lib.train_and_evaluate(finished_config, os.path.join(root, "finished"))
        assert results == workdir.read_results(os.path.join(root, "finished"))  # nothing rewritten
        model, _, _ = checkpoints.restore_model(os.path.join(root, "finished"))
        assert model.config == finished_config.model
        with pytest.raises(workdir.WorkdirConflict, match="cannot write the run into .*new: Read-only file system"):
            workdir.prepare(cfg(), os.path.join(root, "new"))
        with pytest.raises(workdir.WorkdirConflict, match="Read-only file system"):
            workdir.prepare(cfg(seed=9), os.path.join(root, "finished"), overwrite=True)
    assert os.path.exists(os.path.join(root, "finished", "results.json"))


def _wait_for_lock_holder(lock_path, pid, timeout=120.0):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(lock_path) and f'"pid": {pid}' in open(lock_path).read():
            return
        time.sleep(0.2)
    raise AssertionError(f"process {pid} never took {lock_path}")


def test_a_second_trainer_on_a_live_run_stops_at_once_and_a_dead_holders_lock_is_taken_over(
        tmp_path, real_data_dir, trainer, start_trainer):
    import signal
    run = tmp_path / "run"
    first = start_trainer(run, real_data_dir, "--epochs=100000")
    try:
        _wait_for_lock_holder(run / workdir.RunLock.NAME, first.pid)
        second = trainer(run, real_data_dir, "--epochs=100000", timeout=120)
        assert second.returncode == 2, second.stderr[-2000:]
        errors = [line for line in second.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and f"is in use: process {first.pid} on" in errors[0] and "kill" in errors[0]
        assert first.poll() is None  # the first is untouched
    finally:
        first.send_signal(signal.SIGKILL)  # as a lost machine or kill -9 would leave it: its lock file names it
        first.wait()
    assert f'"pid": {first.pid}' in (run / workdir.RunLock.NAME).read_text()
    third = trainer(run, real_data_dir, "--epochs=1")  # resumes whatever the first finished, or trains epoch 1
    assert third.returncode == 0, third.stderr[-2000:]
    assert f"taking over {run} from process {first.pid}" in third.stderr
    assert (run / workdir.RunLock.NAME).read_text() == ""  # released
    assert workdir.read_results(str(run))["complete"]


def test_the_lock_is_held_for_the_block_and_released_after(tmp_path):
    run = str(tmp_path / "run")
    with workdir.RunLock(run) as lock:
        assert json.loads(open(lock.path).read())["pid"] == os.getpid()
        with pytest.raises(workdir.WorkdirLocked, match=f"is in use: process {os.getpid()}"):
            with workdir.RunLock(run):  # a second open file description: flock refuses it, as for another process
                pass
    assert open(os.path.join(run, workdir.RunLock.NAME)).read() == ""
    with workdir.RunLock(run):  # free again
        pass
