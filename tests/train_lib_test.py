"""Tests of vamp_tf.train_lib on real MNIST: smoke run, exact resume, interrupts, bad input."""

import json
import os
import signal

import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import config, datasets, evaluation, model, train_lib

FIGURES = ("samples", "reconstructions", "pseudo_inputs", "log_likelihood_histogram", "learning_curves")


def smoke_config(data_dir, **train):
    """The paper's MNIST model, 2 epochs on 2000 images (the issue's smoke run)."""
    kw = dict(dataset="mnist", data_dir=data_dir, epochs=2, train_examples=2000, test_examples=200,
              eval_samples=100, seed=3)
    kw.update(train)
    return config.Config(config.ModelConfig(), config.TrainConfig(**kw))


@pytest.fixture(scope="module")
def smoke_run(real_data_dir, tmp_path_factory):
    cfg = smoke_config(real_data_dir)
    workdir = str(tmp_path_factory.mktemp("smoke"))
    return cfg, workdir, train_lib.train_and_evaluate(cfg, workdir)


def test_smoke_run_writes_finite_results_and_all_figures(smoke_run):
    cfg, workdir, results = smoke_run
    m = results["metrics"]
    for key in ("test_log_likelihood", "test_elbo", "test_reconstruction", "test_kl", "best_validation_neg_elbo"):
        assert np.isfinite(m[key]), key
    assert m["test_log_likelihood"] >= m["test_elbo"] - 1.0  # IS bound is tighter than the ELBO
    assert results["epochs_run"] == 2 and results["complete"]
    usage = m["prior_usage"]
    assert usage["num_components"] == cfg.model.num_components
    assert 1 <= usage["components_used"] <= cfg.model.num_components
    assert 1.0 <= usage["effective_components"] <= cfg.model.num_components
    for name in FIGURES:
        path = os.path.join(workdir, results["figures"][name])
        assert os.path.getsize(path) > 1000, name
    with open(os.path.join(workdir, "results.json")) as f:
        assert json.load(f)["metrics"]["test_log_likelihood"] == m["test_log_likelihood"]
    assert len(np.load(os.path.join(workdir, "test_log_likelihoods.npy"))) == 200
    history = json.load(open(os.path.join(workdir, "history.json")))
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["validation_neg_elbo"] < history[0]["validation_neg_elbo"]


def test_trained_model_beats_an_untrained_one(smoke_run, real_data_dir):
    cfg, _, results = smoke_run
    untrained = model.build_model(cfg.model, seed=cfg.train.seed)
    test = datasets.examples("mnist", "test", real_data_dir, num_examples=200)
    before = evaluation.log_likelihood(untrained, test, num_samples=100, seed=cfg.train.seed)["mean"]
    assert results["metrics"]["test_log_likelihood"] > before + 50, (before, results["metrics"])


def test_finished_run_is_not_retrained(smoke_run):
    cfg, workdir, results = smoke_run
    assert train_lib.train_and_evaluate(cfg, workdir) == json.load(open(os.path.join(workdir, "results.json")))


def test_resuming_after_epoch_one_matches_an_uninterrupted_run(smoke_run, real_data_dir, tmp_path):
    cfg, _, uninterrupted = smoke_run
    workdir = str(tmp_path / "resumed")
    first = smoke_config(real_data_dir, epochs=1)
    train_lib.train_and_evaluate(first, workdir)  # stops after epoch 1 (and evaluates)
    resumed = train_lib.train_and_evaluate(cfg, workdir)  # the same command with --epochs=2
    assert resumed["epochs_run"] == 2
    assert_same_metrics(resumed, uninterrupted)


def assert_same_metrics(a, b):
    assert a["epochs_run"] == b["epochs_run"]
    for key, value in b["metrics"].items():
        if isinstance(value, dict):
            assert a["metrics"][key] == value, key
        else:
            np.testing.assert_allclose(a["metrics"][key], value, rtol=1e-5, err_msg=key)


def test_sigint_mid_epoch_saves_and_the_rerun_matches(smoke_run, real_data_dir, tmp_path, monkeypatch):
    cfg, _, uninterrupted = smoke_run
    workdir = str(tmp_path / "interrupted")
    original = train_lib._Progress.update

    def interrupt_at_epoch_2_step_7(self, step, sums):
        original(self, step, sums)
        if self.epoch == 2 and step == 7:
            os.kill(os.getpid(), signal.SIGINT)  # the real signal path: handler sets a flag
    monkeypatch.setattr(train_lib._Progress, "update", interrupt_at_epoch_2_step_7)
    with pytest.raises(train_lib.TrainingInterrupted, match="SIGINT: stopped at epoch 2, step 7/20"):
        train_lib.train_and_evaluate(cfg, workdir)
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    monkeypatch.setattr(train_lib._Progress, "update", original)
    resumed = train_lib.train_and_evaluate(cfg, workdir)
    assert_same_metrics(resumed, uninterrupted)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(real_data_dir, tmp_path, monkeypatch):
    original = train_lib.Trainer._build_train_step

    def poisoned(self):
        step = original(self)
        calls = {"n": 0}

        def wrapped(batch, beta):
            calls["n"] += 1
            out = step(batch, beta)
            return out * np.nan if calls["n"] == 23 else out  # epoch 2, step 3
        wrapped.experimental_get_tracing_count = step.experimental_get_tracing_count
        return wrapped
    monkeypatch.setattr(train_lib.Trainer, "_build_train_step", poisoned)
    workdir = str(tmp_path / "nan")
    with pytest.raises(train_lib.NonFiniteLoss, match="epoch 2, step 3 \\(global step 23\\).*epoch 1"):
        train_lib.train_and_evaluate(smoke_config(real_data_dir), workdir)
    state = dict(tf.train.list_variables(tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "latest"))))
    assert "epoch/.ATTRIBUTES/VARIABLE_VALUE" in state
    reader = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints", "latest"))
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 1


def test_workdir_with_another_config_is_refused_unless_overwrite(smoke_run, real_data_dir, tmp_path):
    _, workdir, _ = smoke_run
    other = smoke_config(real_data_dir, seed=4)
    with pytest.raises(train_lib.WorkdirConflict, match="(?s)train.seed: 3 -> 4.*--overwrite"):
        train_lib.prepare_workdir(other, workdir)
    assert os.path.exists(os.path.join(workdir, "results.json"))  # nothing lost
    fresh = str(tmp_path / "fresh")
    train_lib.prepare_workdir(smoke_config(real_data_dir), fresh)
    train_lib.prepare_workdir(other, fresh, overwrite=True)
    assert json.load(open(os.path.join(fresh, "config.json")))["train"]["seed"] == 4


def test_train_step_is_traced_once_across_epochs_and_betas(real_data_dir):
    trainer = train_lib.Trainer(smoke_config(real_data_dir, train_examples=300))
    for epoch, beta in enumerate((0.0, 0.5, 1.0)):
        for batch in trainer.epoch_dataset(epoch):
            trainer.train_step(batch, tf.constant(beta))
    assert trainer.train_step.experimental_get_tracing_count() == 1


def test_latest_checkpoint_holds_model_optimizer_and_loop_state(smoke_run):
    cfg, workdir, _ = smoke_run
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "latest"))
    best = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "best"))
    from_latest, from_best = model.build_model(cfg.model, seed=7), model.build_model(cfg.model, seed=8)
    tf.train.Checkpoint(model=from_latest).restore(latest).expect_partial()
    tf.train.Checkpoint(model=from_best).restore(best).assert_consumed()
    for a, b in zip(from_latest.variables, from_best.variables):  # epoch 2 is the best epoch
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    reader = tf.train.load_checkpoint(latest)
    assert reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == 40  # 2 x 20 steps
    for state in ("epoch", "step_in_epoch", "best_validation", "epochs_without_improvement", "stopped_early"):
        assert reader.has_tensor(f"{state}/.ATTRIBUTES/VARIABLE_VALUE"), state


def test_hvae_with_vampprior_improves_the_validation_elbo_on_real_mnist(real_data_dir, tmp_path):
    cfg = config.Config(config.ModelConfig(model="hvae"),
                        config.TrainConfig(dataset="mnist", data_dir=real_data_dir, epochs=3, train_examples=2000,
                                           test_examples=200, eval_samples=100, seed=1))
    results = train_lib.train_and_evaluate(cfg, str(tmp_path / "hvae"))
    history = json.load(open(os.path.join(str(tmp_path / "hvae"), "history.json")))
    values = [h["validation_neg_elbo"] for h in history]
    assert values[2] < values[1] < values[0], values
    assert {"kl_z1", "kl_z2"} <= {k[len("validation_"):] for k in history[-1] if k.startswith("validation_")}
    m = results["metrics"]
    assert set(m["active_units"]) == {"z1", "z2"} and np.isfinite(m["test_kl_z1"]) and np.isfinite(m["test_kl_z2"])
    assert m["prior_usage"]["num_components"] == cfg.model.num_components  # the prior on z2
    assert m["test_log_likelihood"] >= m["test_elbo"] - 1.0


def test_checkpoints_are_numbered_by_step_and_epoch_across_resumes(smoke_run, real_data_dir, tmp_path):
    workdir = str(tmp_path / "numbers")
    train_lib.train_and_evaluate(smoke_config(real_data_dir, epochs=1), workdir)
    train_lib.train_and_evaluate(smoke_config(real_data_dir, epochs=2), workdir)  # a new process would restart counters
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "best")).endswith("ckpt-2")  # epoch 2
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "latest")).endswith("ckpt-40")  # step 40


def test_pseudo_inputs_initialised_from_training_images(real_data_dir):
    cfg = config.Config(config.ModelConfig(pseudo_init="data", num_components=20, latent_dim=4, hidden_units=8),
                        config.TrainConfig(data_dir=real_data_dir, train_examples=1000, seed=3))
    u = train_lib.Trainer(cfg).model.prior.pseudo_inputs_variable.numpy()
    train = datasets.examples("mnist", "train", real_data_dir, num_examples=1000).reshape(1000, -1)
    distance = np.abs(u[:, None, :] - train[None]).max(-1).min(-1)  # to the nearest training image
    assert np.all(distance < 0.06), distance  # image + N(0, 0.01) noise
    assert len(np.unique(np.argmin(np.abs(u[:, None, :] - train[None]).max(-1), -1))) == 20  # 20 distinct images


def test_a_workdir_that_is_a_file_is_refused(real_data_dir, tmp_path):
    path = tmp_path / "notadir"
    path.write_text("keep me")
    with pytest.raises(train_lib.WorkdirConflict, match="is a file; pass a directory"):
        train_lib.prepare_workdir(smoke_config(real_data_dir), str(path))
    assert path.read_text() == "keep me"
