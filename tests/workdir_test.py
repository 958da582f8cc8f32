"""Tests of vamp_tf.workdir: preparing a run's folder, reading it, restoring its model."""

import contextlib
import json
import os
import subprocess

import numpy as np
import pytest

from vamp_tf import config, workdir


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
        workdir.restore_model(str(tmp_path))
    workdir.prepare(cfg(), str(tmp_path))
    with pytest.raises(workdir.RunNotFound, match="no checkpoint in .*train the run first"):
        workdir.restore_model(str(tmp_path))


def test_a_data_initialised_run_restores_without_its_training_images(small_runs):
    run = small_runs["frey_vamp"]  # pseudo_init='data'
    model, config_, path = workdir.restore_model(run)
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
        model, _, _ = workdir.restore_model(os.path.join(root, "finished"))
        assert model.config == finished_config.model
        with pytest.raises(workdir.WorkdirConflict, match="cannot write the run into .*new: Read-only file system"):
            workdir.prepare(cfg(), os.path.join(root, "new"))
        with pytest.raises(workdir.WorkdirConflict, match="Read-only file system"):
            workdir.prepare(cfg(seed=9), os.path.join(root, "finished"), overwrite=True)
    assert os.path.exists(os.path.join(root, "finished", "results.json"))
