"""Tests of tools/carry.py: a run carried through the repository resumes where it was, exactly."""

import dataclasses
import os
import shutil

import numpy as np
import pytest

from tools import carry
from vamp_tf import config, datasets, train_lib, workdir


def _config(data_dir, epochs):
    info = datasets.info("mnist")
    return config.Config(
        config.ModelConfig(input_shape=info.image_shape, likelihood=info.likelihood, latent_dim=4, hidden_units=16,
                           num_components=5),
        config.TrainConfig(dataset="mnist", data_dir=data_dir, epochs=epochs, train_examples=300, test_examples=20,
                           eval_samples=10, seed=2, batch_size=50, warmup_epochs=1, figures=False))


def _in_progress_after_one_epoch(data_dir, path):
    """A run stopped after its first epoch: trained to a 1-epoch budget, its evaluation removed (what is
    left is exactly the workdir of a run with a longer budget after epoch 1)."""
    train_lib.train_and_evaluate(_config(data_dir, 1), path)
    for name in ("results.json", "test_log_likelihoods.npy"):
        os.remove(os.path.join(path, name))
    return path


def test_a_run_carried_to_an_empty_machine_ends_as_an_uninterrupted_one(tmp_path, generated_data):
    data_dir = generated_data["mnist"]
    whole = train_lib.train_and_evaluate(_config(data_dir, 2), str(tmp_path / "whole"))
    source = _in_progress_after_one_epoch(data_dir, str(tmp_path / "machine_a" / "run"))
    repo = str(tmp_path / "in_progress")
    meta = carry.save(source, "run", in_progress=repo)
    assert (meta["epoch"], meta["best_epoch"], meta["step_in_epoch"]) == (1, 1, 0)
    assert sorted(os.listdir(os.path.join(repo, "run"))) == ["carry.json", "checkpoints", "config.json",
                                                            "history.json"]
    assert meta["bytes"]["latest"] == sum(os.path.getsize(os.path.join(repo, "run", "checkpoints", "latest", f))
                                          for f in os.listdir(os.path.join(repo, "run", "checkpoints", "latest"))
                                          if f != "checkpoint")
    shutil.rmtree(tmp_path / "machine_a")  # the machine is lost
    target = str(tmp_path / "machine_b" / "run")
    carry.restore(target, "run", in_progress=repo)
    resumed = train_lib.train_and_evaluate(_config(data_dir, 2), target)
    assert resumed["metrics"]["test_log_likelihood"] == whole["metrics"]["test_log_likelihood"]
    a, b = workdir.read_history(str(tmp_path / "whole")), workdir.read_history(target)
    assert [h["validation_neg_elbo"] for h in a] == [h["validation_neg_elbo"] for h in b]


def test_restore_refuses_a_workdir_already_as_far_and_another_run(tmp_path, generated_data):
    data_dir = generated_data["mnist"]
    source = _in_progress_after_one_epoch(data_dir, str(tmp_path / "run"))
    repo = str(tmp_path / "in_progress")
    carry.save(source, "run", in_progress=repo)
    with pytest.raises(carry.CarryError, match="already at step 6, at or past the carried step 6"):
        carry.restore(source, "run", in_progress=repo)
    other = str(tmp_path / "other")
    cfg = _config(data_dir, 1)
    train_lib.train_and_evaluate(dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=3)), other)
    with pytest.raises(carry.CarryError, match=r"holds another run \(train.seed: 2 -> 3\)"):
        carry.restore(other, "run", in_progress=repo)
    with pytest.raises(carry.CarryError, match=r"nothing carried under the name 'nope' \(no .*nope/carry.json\); carried runs: run\."):
        carry.restore(other, "nope", in_progress=repo)


def test_save_refuses_a_finished_run_and_a_folder_without_a_run(tmp_path, generated_data):
    finished = str(tmp_path / "finished")
    train_lib.train_and_evaluate(_config(generated_data["mnist"], 1), finished)
    with pytest.raises(carry.CarryError, match="is finished: record it"):
        carry.save(finished, "finished", in_progress=str(tmp_path / "in_progress"))
    with pytest.raises(carry.CarryError, match="holds no run"):
        carry.save(str(tmp_path), "x", in_progress=str(tmp_path / "in_progress"))
    assert not os.path.exists(tmp_path / "in_progress")
    assert np.isfinite(workdir.read_results(finished)["metrics"]["test_log_likelihood"])
