"""train_and_evaluate: the VampPrior paper's training protocol, and nothing else.

Tomczak & Welling, "VAE with a VampPrior" (AISTATS 2018): Adam (lr 5e-4), batch 100, KL
warm-up over 100 epochs, early stopping on the validation -ELBO (D + beta R under --beta) with patience
50 counted after the warm-up; the best-validation weights are evaluated on the test set
by importance sampling (S = 5000).

For each epoch: train, validate, keep the best, stop early; then evaluate. Everything
random is a function of config.train.seed, the epoch and the batch index, so a run that
is stopped (Ctrl-C / SIGTERM save a checkpoint mid-epoch; a kill loses at most the current
epoch) and rerun with the same command ends exactly where an uninterrupted run would.

Every tf.function in vamp_tf is built with autograph=False: none needs AutoGraph, and
AutoGraph re-reads source files when it traces, so a long run whose code was edited on
disk traced the wrong function. The pieces: vamp_tf.workdir (the run's files),
vamp_tf.trainer (model, optimizer, input, step), vamp_tf.checkpoints, vamp_tf.progress,
vamp_tf.history and vamp_tf.results (the final evaluation).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time

import numpy as np
import tensorflow as tf

from vamp_tf import (checkpoints, datasets, evaluation, files, history, objectives, precision, results, step,
                     tensorboard, workdir)
from vamp_tf.config import Config
from vamp_tf.progress import Progress, StopRequest
from vamp_tf.step import NonFiniteLoss  # noqa: F401  (re-exported: raised by train_and_evaluate)
from vamp_tf.trainer import Trainer, make_strategy, worker_role
from vamp_tf.workdir import WorkdirConflict  # noqa: F401  (re-exported: raised by train_and_evaluate)

log = logging.getLogger("vamp_tf")


class TrainingDiverged(NonFiniteLoss):
    """The training loss exploded (config.train.divergence_factor)."""


class TrainingInterrupted(RuntimeError):
    """Ctrl-C or SIGTERM: a checkpoint (or, while scoring, the test images scored) was saved; rerunning
    the command continues."""


def train_and_evaluate(config: Config, workdir_path: str, overwrite: bool = False) -> dict:
    """Trains (or resumes) the run in `workdir_path`, then evaluates the best weights.

    Returns the results dict also written to workdir/results.json ({} on non-chief
    workers). Raises WorkdirConflict, NonFiniteLoss (the last good checkpoint is kept),
    TrainingInterrupted (a checkpoint, or the test images scored so far, was saved; rerun to continue), datasets.DataError,
    workdir.WorkdirLocked (another live trainer holds the workdir), files.StorageError (a write
    failed: full disk, vanished directory; nothing half-written is left, and a rerun resumes).
    """
    config = precision.resolve_config(config)  # --precision=auto: bf16 where the hardware computes it, else float32
    strategy = make_strategy(config.train.strategy)
    is_chief, task_id = worker_role(strategy)
    if not is_chief:  # writes only to its own scratch directories (checkpoints.RunCheckpoints)
        return _train_and_evaluate(config, workdir.paths(workdir_path), strategy, is_chief, task_id)
    with _lines_shown():
        finished = workdir.finished_results(config, workdir_path)
        if finished is not None:
            log.info("%s already holds the finished run; results.json is up to date.", os.path.abspath(workdir_path))
            return finished
        with workdir.RunLock(workdir_path), StopRequest():  # one stop request for every phase of the run
            run = workdir.prepare(config, workdir_path, overwrite)
            return _train_and_evaluate(config, run, strategy, is_chief, task_id)


@contextlib.contextmanager
def _lines_shown():
    """Called from Python with logging not configured (no handler, no level set), the run's lines
    (epochs, validation, test log-likelihood) go to stderr as the trainer prints them, for the
    call only; configured logging (the binaries', or the caller's own) is left as it is."""
    if log.handlers or log.level != logging.NOTSET or logging.getLogger().handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(logging.NOTSET)


def _train_and_evaluate(config: Config, run: workdir.RunPaths, strategy, is_chief: bool, task_id: int) -> dict:
    trainer = Trainer(config, strategy)
    state = checkpoints.LoopState()
    saved = checkpoints.RunCheckpoints(run, trainer.model, trainer.optimizer, state, is_chief, task_id)
    resumed_from = saved.restore_latest()
    if resumed_from:
        log.info("resumed from %s: %d epochs done, step %d of the next", resumed_from, int(state.epoch.numpy()),
                 int(state.step_in_epoch.numpy()))
    epochs = [h for h in workdir.read_history(run.workdir) if h["epoch"] <= int(state.epoch.numpy())]

    t = config.train
    validation_images = datasets.evaluation_images(t, "validation")
    evaluated = trainer.eval_model()  # float32, whatever precision trains
    validate = evaluation.ElboTerms(evaluated, seed=t.seed)
    steps_per_epoch = _log_start(config, trainer, len(validation_images))
    summary = tensorboard.RunSummaries(run.tensorboard, config, validation_images[:8], t.seed, active=is_chief)
    commit, processor = files.git_commit(), files.processor()  # of the code and the arithmetic of these epochs

    with StopRequest() as stop:
        while not bool(state.stopped_early.numpy()) and int(state.epoch.numpy()) < t.epochs:
            _stop_between_epochs(stop, state, run)
            epoch = int(state.epoch.numpy()) + 1  # 1-based
            beta = objectives.warmup_beta(epoch, t.warmup_epochs, t.beta)
            started = time.time()
            train_means = _train_epoch(trainer, state, saved, run, epoch, beta, steps_per_epoch, stop, show=is_chief)
            _check_divergence(-train_means["elbo"], epochs, float(state.first_neg_elbo.numpy()), epoch, config,
                              saved, run)
            validation = None
            if epoch % t.eval_every == 0 or epoch == t.epochs:
                trainer.eval_model()  # the twin takes the epoch's weights
                validation = validate(validation_images)
                _keep_best(state, saved, run, epoch, _validation_objective(validation, t.beta), t.warmup_epochs,
                           t.eval_every, t.select_after_warmup)
            seconds = time.time() - started
            state.train_seconds.assign_add(seconds)
            item = history.entry(epoch, beta, train_means, validation, seconds, commit, processor)
            epochs.append(item)
            stopped_early = int(state.epochs_without_improvement.numpy()) >= t.early_stopping_patience
            state.epoch.assign(epoch)
            state.step_in_epoch.assign(0)
            state.epoch_sums.assign(tf.zeros_like(state.epoch_sums))
            state.stopped_early.assign(stopped_early)
            if is_chief:
                files.write_json(run.history, epochs)
                summary.epoch(item, trainer.eval_model)  # the float32 twin is refreshed only when images are due
            saved.save_latest(int(trainer.optimizer.iterations.numpy()))
            log.info("%s", history.log_line(item, t.epochs, state.best_validation.numpy(),
                                            int(state.best_epoch.numpy()), stopped_early, t.beta))
        if is_chief:
            _stop_between_epochs(stop, state, run, " (the last), before the test evaluation")
    if not is_chief:
        return {}
    saved.restore_best()
    try:
        out = results.evaluate_and_write(config, run, trainer.eval_model(), state, epochs,
                                         int(state.best_epoch.numpy()))
        summary.test(out["metrics"], np.load(run.log_likelihoods) if os.path.exists(run.log_likelihoods)
                     else np.zeros([0]), int(state.best_epoch.numpy()))
        return out
    except results.ScoringInterrupted as e:
        raise TrainingInterrupted(str(e)) from e


def _stop_between_epochs(stop, state, run, where: str = "") -> None:
    """TrainingInterrupted if a stop was requested during the last epoch's validation, checkpointing or
    TensorBoard writes: its checkpoint is saved by then, so the run stops there and a rerun continues."""
    stop.check(TrainingInterrupted, f"stopped after epoch {int(state.epoch.numpy())}{where}; its checkpoint is "
                                    f"saved in {run.latest}. Rerun the same command to continue.")


def _log_start(config: Config, trainer: Trainer, num_validation: int) -> int:
    """Logs the data and model sizes; returns the steps per epoch."""
    t = config.train
    n_test = len(datasets.split_images(t.dataset, "test", t.data_dir, t.split_seed, t.test_examples))
    sizes = trainer.batch_sizes
    steps_per_epoch = len(sizes)
    last = f", the last of {sizes[-1]}" if sizes[-1] != t.batch_size else ""
    bf16_hardware = files.bf16_hardware()
    log.info("%s: %d train (%d steps of %d%s), %d validation, %d test images; %d trainable parameters; "
             "%d replica(s); training precision %s (CPU bfloat16 hardware: %s); evaluation in float32",
             t.dataset, trainer.num_train, steps_per_epoch, t.batch_size, last, num_validation, n_test,
             sum(int(np.prod(v.shape)) for v in trainer.model.trainable_variables),
             trainer.strategy.num_replicas_in_sync, t.precision, bf16_hardware or "none")
    warning = precision.warning(t.precision, bf16_hardware, bool(tf.config.list_physical_devices("GPU")))
    if warning:
        log.warning("%s", warning)
    for note in results.score_notes(config):
        log.warning("%s", note)
    return steps_per_epoch


def _last_good(saved: checkpoints.RunCheckpoints, run) -> str:
    """What a failed run can fall back on, said truthfully."""
    path = saved.latest_manager.latest_checkpoint
    if not path:
        return "no checkpoint was saved before it, so nothing of this run is kept but config.json"
    reader = tf.train.load_checkpoint(path)
    done = int(reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE"))
    return f"the checkpoint {os.path.relpath(path, run.workdir)} (after epoch {done}) is the last good one"


def _train_epoch(trainer: Trainer, state, saved, run, epoch: int, beta: float, steps_per_epoch: int, stop,
                 show: bool) -> dict:
    """Trains one epoch (or its rest, after a resume); returns the means of step.TRAIN_TERMS.

    Ctrl-C / SIGTERM save the position and raise TrainingInterrupted; a non-finite loss
    raises NonFiniteLoss, keeping the checkpoints already saved.
    """
    started, done = time.time(), int(state.step_in_epoch.numpy())
    sums = state.epoch_sums.numpy()
    progress = Progress(steps_per_epoch, f"epoch {epoch}", terminal=None if show else False,
                        log_every=10.0 if show else math.inf, start_done=done)
    beta_t = tf.constant(beta, tf.float32)
    for batch in trainer.epoch_dataset(epoch - 1, skip=done):
        step_sums = trainer.train_step(batch, beta_t).numpy().astype(np.float64)
        if not np.all(np.isfinite(step_sums)):
            raise NonFiniteLoss(
                f"non-finite loss at epoch {epoch}, step {done + 1} (global step "
                f"{(epoch - 1) * steps_per_epoch + done + 1}); nothing was saved after it: "
                f"{_last_good(saved, run)}. {_divergence_settings(trainer.config)}")
        images = trainer.batch_sizes[done]
        if not state.first_neg_elbo.numpy():
            state.first_neg_elbo.assign(-step_sums[0] / images)
        sums = sums + np.append(step_sums, images)
        done += 1
        progress.update(done, f"-ELBO {-sums[0] / max(sums[-1], 1.0):8.2f}")
        if stop.requested:
            state.step_in_epoch.assign(done)
            state.epoch_sums.assign(sums)
            state.train_seconds.assign_add(time.time() - started)
            saved.save_latest(int(trainer.optimizer.iterations.numpy()))
            raise TrainingInterrupted(
                f"{stop.requested}: stopped at epoch {epoch}, step {done}/{steps_per_epoch}; checkpoint saved "
                f"in {run.latest}. Rerun the same command to continue from there.")
    return {name: sums[i] / sums[-1] for i, name in enumerate(step.TRAIN_TERMS)}


def _check_divergence(value: float, epochs: list, first: float, epoch: int, config: Config, saved, run) -> None:
    """TrainingDiverged if this epoch's train -ELBO exceeds config.train.divergence_factor times the best
    so far: the best epoch's, or the run's first step's (the untrained model's)."""
    factor = config.train.divergence_factor
    best = min([h["train_neg_elbo"] for h in epochs] + ([first] if first > 0 else []), default=None)
    if factor and best is not None and best > 0 and value > factor * best:
        raise TrainingDiverged(
            f"training diverged at epoch {epoch}: train -ELBO {value:.4g} is {value / best:.3g} times the best "
            f"so far, {best:.2f}; nothing of epoch {epoch} was saved: {_last_good(saved, run)}. "
            f"{_divergence_settings(config)} --divergence_factor=0 trains on regardless.")


def _divergence_settings(config: Config) -> str:
    """The settings that can make a run diverge, with their values, and where to try others."""
    t = config.train
    named = [f"--learning_rate={t.learning_rate:g} (lower it)", f"--optimizer={t.optimizer} (adam_normgrad "
             "normalises each gradient)"]
    if t.beta != 1.0:
        named.append(f"--beta={t.beta:g} (the KL's weight)")
    if t.precision != "float32":
        named.append(f"--precision={t.precision} (float32 is the exact one)")
    if t.warmup_epochs == 0:
        named.append("--warmup_epochs=0 (a KL warm-up steadies the start)")
    return f"Settings that can cause it: {', '.join(named)}; change them in a new --workdir or with --overwrite."


def _validation_objective(validation: dict, beta: float) -> float:
    """What early stopping and the best checkpoint go by: the validation D + beta R at the run's final
    beta, -reconstruction + beta kl; at beta = 1 (the paper's protocol) the -ELBO itself."""
    if beta == 1.0:
        return -validation["elbo"]
    return -validation["reconstruction"] + beta * validation["kl"]


def _keep_best(state, saved, run, epoch: int, value: float, warmup_epochs: int, eval_every: int,
               select_after_warmup: bool = False) -> None:
    """Early-stopping bookkeeping for a validation objective (-ELBO at beta = 1): saves the best weights (with
    select_after_warmup, only of epochs at full KL weight, epoch >= warmup_epochs)."""
    if not math.isfinite(value):
        raise NonFiniteLoss(f"non-finite validation -ELBO after epoch {epoch}; {_last_good(saved, run)}.")
    eligible = not select_after_warmup or epoch >= warmup_epochs
    if eligible and value < state.best_validation.numpy():
        state.best_validation.assign(value)
        state.best_epoch.assign(epoch)
        state.epochs_without_improvement.assign(0)
        saved.save_best(epoch)
    elif epoch <= warmup_epochs:
        state.epochs_without_improvement.assign(0)
    else:
        state.epochs_without_improvement.assign_add(eval_every)

