"""Tests of vamp_tf.workdir: preparing a run's folder, reading it, restoring its model."""

import json
import os

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
