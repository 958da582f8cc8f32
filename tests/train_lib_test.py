"""Tests of vamp_tf.train_lib on real MNIST with a tiny model: the protocol's plumbing
(results, figures, exact resume, interrupts, non-finite losses). The paper-size model's
numbers come from real runs (RESULTS.md), not from here."""

import json
import os
import shutil
import signal

import numpy as np
import pytest
import tensorflow as tf

from vamp_tf import checkpoints, config, datasets, evaluation, history, models, progress, train_lib, trainer

FIGURES = ("samples", "reconstructions", "pseudo_inputs", "pseudo_inputs_decoded", "log_likelihood_histogram",
           "learning_curves")
STEPS = 10  # per epoch of the smoke run (conftest.smoke_config): 1000 images, batch 100


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
    np.testing.assert_allclose(usage["used_mass"], usage["components_used"] / cfg.model.num_components, rtol=1e-6)
    for name in FIGURES:
        path = os.path.join(workdir, results["figures"][name])
        assert os.path.getsize(path) > 1000, name
    per_image = np.load(os.path.join(workdir, "test_log_likelihoods.npy"))
    assert len(per_image) == 100 and np.mean(per_image) == pytest.approx(m["test_log_likelihood"], rel=1e-12)
    history = json.load(open(os.path.join(workdir, "history.json")))
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["validation_neg_elbo"] < history[0]["validation_neg_elbo"]


def test_trained_model_beats_an_untrained_one(smoke_run, real_data_dir):
    cfg, _, results = smoke_run
    untrained = models.build_model(cfg.model, seed=cfg.train.seed)
    test = datasets.examples("mnist", "test", real_data_dir, num_examples=100)
    before = evaluation.log_likelihood(untrained, test, num_samples=50, seed=cfg.train.seed)["mean"]
    assert results["metrics"]["test_log_likelihood"] > before + 50, (before, results["metrics"])


def test_finished_run_is_not_retrained(smoke_run):
    cfg, workdir, results = smoke_run
    assert train_lib.train_and_evaluate(cfg, workdir) == json.load(open(os.path.join(workdir, "results.json")))


def assert_same_metrics(a, b):
    assert a["epochs_run"] == b["epochs_run"]
    for key, value in b["metrics"].items():
        if isinstance(value, dict):
            for inner, number in value.items():  # prior_usage, rate_distortion: numbers or (mean, s.e.) pairs
                np.testing.assert_allclose(a["metrics"][key][inner], number, rtol=1e-5, err_msg=f"{key}.{inner}")
        else:
            np.testing.assert_allclose(a["metrics"][key], value, rtol=1e-5, err_msg=key)


def test_resuming_after_epoch_one_matches_an_uninterrupted_run(smoke_config, smoke_run, real_data_dir, tmp_path,
                                                               without_figures):
    cfg, _, uninterrupted = smoke_run
    workdir = str(tmp_path / "resumed")
    train_lib.train_and_evaluate(smoke_config(real_data_dir, epochs=1, figures=False), workdir)  # stops after epoch 1
    resumed = train_lib.train_and_evaluate(without_figures(cfg), workdir)  # the same command with --epochs=2, a new "process"
    assert_same_metrics(resumed, uninterrupted)
    # Checkpoints are numbered by epoch (best) and global step (latest), not by per-process counters.
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "best")).endswith("ckpt-2")
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "latest")).endswith(f"ckpt-{2 * STEPS}")


def _interrupt_at(monkeypatch, label, done, signum):
    """Sends the process a real `signum` (the handler's path: it sets a flag) when the progress line
    `label` reaches `done`; returns a function that stops doing so."""
    original = progress.Progress.update

    def update_then_signal(self, count, note=""):
        original(self, count, note)
        if self.label == label and count == done:
            os.kill(os.getpid(), signum)
    monkeypatch.setattr(progress.Progress, "update", update_then_signal)
    return lambda: monkeypatch.setattr(progress.Progress, "update", original)


def test_sigint_mid_epoch_saves_and_the_rerun_matches(smoke_run, real_data_dir, tmp_path, monkeypatch, without_figures):
    cfg, _, uninterrupted = smoke_run
    cfg = without_figures(cfg)
    workdir = str(tmp_path / "interrupted")
    stop_interrupting = _interrupt_at(monkeypatch, "epoch 2", 7, signal.SIGINT)
    with pytest.raises(train_lib.TrainingInterrupted, match=f"SIGINT: stopped at epoch 2, step 7/{STEPS}"):
        train_lib.train_and_evaluate(cfg, workdir)
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    stop_interrupting()
    resumed = train_lib.train_and_evaluate(cfg, workdir)
    assert_same_metrics(resumed, uninterrupted)


def _scoring_starts(monkeypatch):
    """The `start` of every evaluation.log_likelihood_batches call from now on."""
    starts, original = [], evaluation.log_likelihood_batches

    def spy(*args, start=0, **kwargs):
        starts.append(start)
        return original(*args, start=start, **kwargs)
    monkeypatch.setattr(evaluation, "log_likelihood_batches", spy)
    return starts


def test_sigterm_while_scoring_keeps_the_scored_images_and_the_rerun_scores_the_rest(
        smoke_run, real_data_dir, tmp_path, monkeypatch, without_figures):
    cfg, smoke_workdir, uninterrupted = smoke_run
    cfg = without_figures(cfg)
    workdir = str(tmp_path / "scoring")
    stop_interrupting = _interrupt_at(monkeypatch, "test log-likelihood", 40, signal.SIGTERM)
    with pytest.raises(train_lib.TrainingInterrupted, match="SIGTERM: stopped the test log-likelihood after 40 of 100"):
        train_lib.train_and_evaluate(cfg, workdir)
    partial = os.path.join(workdir, "test_log_likelihoods.partial.npz")
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    assert np.load(partial)["per_image"].shape == (40,)
    stop_interrupting()
    starts = _scoring_starts(monkeypatch)
    resumed = train_lib.train_and_evaluate(cfg, workdir)
    assert starts == [40]  # the 40 scored images are not scored again
    assert_same_metrics(resumed, uninterrupted)
    np.testing.assert_array_equal(np.load(os.path.join(workdir, "test_log_likelihoods.npy")),
                                  np.load(os.path.join(smoke_workdir, "test_log_likelihoods.npy")))
    assert not os.path.exists(partial)


def _signal_when(monkeypatch, owner, name, signum=signal.SIGTERM, when=lambda *args, **kwargs: True):
    """Sends the process a real `signum` when owner.name is called (and `when` holds), before it runs;
    returns a function that stops doing so."""
    original = getattr(owner, name)

    def signal_then_call(*args, **kwargs):
        if when(*args, **kwargs):
            os.kill(os.getpid(), signum)
        return original(*args, **kwargs)
    monkeypatch.setattr(owner, name, signal_then_call)
    return lambda: monkeypatch.setattr(owner, name, original)


def test_sigterm_during_the_last_epochs_tensorboard_stops_before_scoring_and_the_rerun_matches(
        smoke_run, tmp_path, monkeypatch, without_figures):
    from vamp_tf import tensorboard
    cfg, _, uninterrupted = smoke_run
    cfg = without_figures(cfg)
    workdir = str(tmp_path / "last_epoch")
    stop = _signal_when(monkeypatch, tensorboard.RunSummaries, "epoch", when=lambda self, item, *a: item["epoch"] == 2)
    with pytest.raises(train_lib.TrainingInterrupted, match="SIGTERM: stopped after epoch 2 \\(the last\\), before the "
                                                            "test evaluation; its checkpoint is saved"):
        train_lib.train_and_evaluate(cfg, workdir)
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    assert not os.path.exists(os.path.join(workdir, "test_log_likelihoods.partial.npz"))  # not a single image scored
    stop()
    assert_same_metrics(train_lib.train_and_evaluate(cfg, workdir), uninterrupted)


def test_sigterm_during_the_figures_stops_there_leaves_no_temporary_file_and_the_rerun_matches(
        smoke_run, tmp_path, monkeypatch):
    from vamp_tf import plots
    cfg, smoke_workdir, uninterrupted = smoke_run
    workdir = str(tmp_path / "figures")
    stop = _signal_when(monkeypatch, plots, "reconstructions")
    with pytest.raises(train_lib.TrainingInterrupted, match="SIGTERM: stopped while drawing the figures; every test "
                                                            "image's score is kept"):
        train_lib.train_and_evaluate(cfg, workdir)
    assert not os.path.exists(os.path.join(workdir, "results.json"))
    assert [n for n in os.listdir(os.path.join(workdir, "figures")) if n.startswith(".tmp-")] == []
    stop()
    starts = _scoring_starts(monkeypatch)
    resumed = train_lib.train_and_evaluate(cfg, workdir)
    assert starts == [100]  # all 100 test images were scored before the stop: none is scored again
    assert_same_metrics(resumed, uninterrupted)
    assert sorted(os.listdir(os.path.join(workdir, "figures"))) == sorted(os.listdir(os.path.join(smoke_workdir,
                                                                                                 "figures")))


def test_a_half_written_figure_left_by_a_kill_is_removed_by_the_rerun(smoke_run, tmp_path):
    cfg, smoke_workdir, uninterrupted = smoke_run
    import shutil
    workdir = str(tmp_path / "killed")
    shutil.copytree(smoke_workdir, workdir)
    os.remove(os.path.join(workdir, "results.json"))  # killed (-9) while drawing: no results, a 0-byte temporary
    open(os.path.join(workdir, "figures", ".tmp-abc123.png"), "wb").close()
    assert_same_metrics(train_lib.train_and_evaluate(cfg, workdir), uninterrupted)
    assert not [n for n in os.listdir(os.path.join(workdir, "figures")) if n.startswith(".tmp-")]


def test_saved_scores_of_another_evaluation_are_not_reused(smoke_run, tmp_path, monkeypatch, without_figures, caplog):
    cfg, smoke_workdir, uninterrupted = smoke_run
    workdir = str(tmp_path / "copy")
    shutil.copytree(smoke_workdir, workdir)
    os.remove(os.path.join(workdir, "results.json"))  # trained, not yet scored
    partial = os.path.join(workdir, "test_log_likelihoods.partial.npz")
    other = {"best_epoch": uninterrupted["metrics"]["best_epoch"], "eval_samples": 5000, "seed": 3,
             "num_images": 100}  # the same weights, scored with another S
    np.savez(partial, per_image=np.zeros(60), key=json.dumps(other))
    starts = _scoring_starts(monkeypatch)
    resumed = train_lib.train_and_evaluate(without_figures(cfg), workdir)
    assert starts == [0]
    assert "holds the scores of another evaluation" in caplog.text
    assert_same_metrics(resumed, uninterrupted)


def _poison_step(monkeypatch, at_call, factor=np.nan):
    original = trainer.Trainer._build_train_step

    def poisoned(self):
        step = original(self)
        calls = {"n": 0}

        def wrapped(batch, beta):
            calls["n"] += 1
            out = step(batch, beta)
            return out * factor if calls["n"] >= at_call else out
        return wrapped
    monkeypatch.setattr(trainer.Trainer, "_build_train_step", poisoned)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(smoke_config, real_data_dir, tmp_path, monkeypatch):
    _poison_step(monkeypatch, STEPS + 3)  # epoch 2, step 3
    workdir = str(tmp_path / "nan")
    with pytest.raises(train_lib.NonFiniteLoss, match=f"epoch 2, step 3 \\(global step {STEPS + 3}\\).*"
                                                      f"ckpt-{STEPS} \\(after epoch 1\\) is the last good one"):
        train_lib.train_and_evaluate(smoke_config(real_data_dir), workdir)
    reader = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints", "latest"))
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 1


def test_nan_loss_before_any_checkpoint_says_nothing_was_saved(smoke_config, real_data_dir, tmp_path, monkeypatch):
    _poison_step(monkeypatch, 2)
    with pytest.raises(train_lib.NonFiniteLoss, match="epoch 1, step 2 .*no checkpoint was saved before it.*Settings "
                                                      "that can cause it: --learning_rate=0.003 \\(lower it\\), "
                                                      "--optimizer=adam .*, --beta=4 \\(the KL's weight\\)"):
        train_lib.train_and_evaluate(smoke_config(real_data_dir, beta=4.0), str(tmp_path / "nan0"))


@pytest.mark.parametrize("select_after_warmup,best_epoch,saved_epochs", [(False, 3, [1, 2, 3]), (True, 5, [4, 5])])
def test_the_best_epoch_is_of_any_epoch_or_of_the_full_kl_ones(select_after_warmup, best_epoch, saved_epochs):
    class Saved:  # records which epochs' weights would be kept as the best
        def __init__(self):
            self.epochs = []

        def save_best(self, epoch):
            self.epochs.append(epoch)

    state, saved = checkpoints.LoopState(), Saved()
    for epoch, value in enumerate([10.0, 9.0, 8.0, 9.5, 9.2, 9.3], start=1):  # warm-up: epochs 1-4
        train_lib._keep_best(state, saved, None, epoch, value, warmup_epochs=4, eval_every=1,
                             select_after_warmup=select_after_warmup)
    assert int(state.best_epoch.numpy()) == best_epoch and saved.epochs == saved_epochs
    assert int(state.epochs_without_improvement.numpy()) == (2 if best_epoch == 3 else 1)


def test_latest_checkpoint_holds_model_optimizer_and_loop_state(smoke_run):
    cfg, workdir, _ = smoke_run
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "latest"))
    best = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints", "best"))
    from_latest, from_best = models.build_model(cfg.model, seed=7), models.build_model(cfg.model, seed=8)
    tf.train.Checkpoint(model=from_latest).restore(latest).expect_partial()
    tf.train.Checkpoint(model=from_best).restore(best).assert_consumed()
    for a, b in zip(from_latest.variables, from_best.variables):  # epoch 2 is the best epoch
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    reader = tf.train.load_checkpoint(latest)
    assert reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == 2 * STEPS
    for state in ("epoch", "step_in_epoch", "best_validation", "epochs_without_improvement", "stopped_early"):
        assert reader.has_tensor(f"{state}/.ATTRIBUTES/VARIABLE_VALUE"), state


def test_hvae_with_vampprior_improves_the_validation_elbo_on_real_mnist(smoke_config, real_data_dir, tmp_path):
    cfg = smoke_config(real_data_dir, kind="hvae", epochs=3, train_examples=2000, seed=1, figures=False)
    results = train_lib.train_and_evaluate(cfg, str(tmp_path / "hvae"))
    history = json.load(open(os.path.join(str(tmp_path / "hvae"), "history.json")))
    values = [h["validation_neg_elbo"] for h in history]
    assert values[2] < values[1] < values[0], values
    assert {"kl_z1", "kl_z2"} <= {k[len("validation_"):] for k in history[-1] if k.startswith("validation_")}
    m = results["metrics"]
    assert set(m["active_units"]) == {"z1", "z2"} and np.isfinite(m["test_kl_z1"]) and np.isfinite(m["test_kl_z2"])
    assert m["prior_usage"]["num_components"] == cfg.model.num_components  # the prior on z2
    assert m["test_log_likelihood"] >= m["test_elbo"] - 1.0


def test_an_exploding_loss_stops_and_keeps_the_last_good_epoch(smoke_config, real_data_dir, tmp_path, monkeypatch):
    _poison_step(monkeypatch, 2 * STEPS + 1, factor=1e6)  # epoch 3's losses are 1e6 times larger
    workdir = str(tmp_path / "diverged")
    with pytest.raises(train_lib.TrainingDiverged, match=f"diverged at epoch 3: .*ckpt-{2 * STEPS} \\(after epoch 2\\)"
                                                         ".*--divergence_factor=0"):
        train_lib.train_and_evaluate(smoke_config(real_data_dir, epochs=3), workdir)
    reader = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints", "latest"))
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 2


def test_the_best_checkpoint_goes_by_the_objective_trained_d_plus_beta_r():
    validation = {"elbo": -100.0, "reconstruction": -80.0, "kl": 20.0}
    assert train_lib._validation_objective(validation, 1.0) == 100.0  # the -ELBO itself
    assert train_lib._validation_objective(validation, 4.0) == 80.0 + 4 * 20.0
    assert train_lib._validation_objective(validation, 0.25) == 80.0 + 5.0
    # Under beta = 4, a lower -ELBO bought with more rate is not the better model of D + 4 R.
    more_rate = {"elbo": -95.0, "reconstruction": -65.0, "kl": 30.0}
    assert train_lib._validation_objective(more_rate, 4.0) > train_lib._validation_objective(validation, 4.0)


def test_the_log_line_says_what_the_best_is_of():
    item = {"epoch": 3, "beta": 2.0, "train_neg_elbo": 120.0, "train_reconstruction": -90.0, "train_kl": 30.0,
            "validation_neg_elbo": 118.0, "seconds": 1.0}
    assert "(best 110.00 @ 2)" in history.log_line(item, 10, 110.0, 2, False)
    assert "(best D + 2 R 150.00 @ 2)" in history.log_line(item, 10, 150.0, 2, False, final_beta=2.0)
