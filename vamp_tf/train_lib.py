"""Training and evaluation of a VAE / HVAE with the paper's protocol.

Tomczak & Welling, "VAE with a VampPrior" (AISTATS 2018): Adam (lr 5e-4), batch 100,
KL warm-up over 100 epochs, early stopping on the validation -ELBO (beta = 1) with
patience 50 counted after the warm-up; the best-validation weights are evaluated on the
test set by importance sampling (S = 5000).

`train_and_evaluate(config, workdir)` is the whole run. Everything random is a function
of config.train.seed, the epoch and the batch index (data order, dynamic binarization,
the reparameterisation noise, generated in the input pipeline), so a run that is stopped
(Ctrl-C / SIGTERM save a checkpoint mid-epoch; a kill loses at most the current epoch)
and rerun with the same command ends exactly where an uninterrupted run would.

Every tf.function here and in vamp_tf.evaluation / export is built with autograph=False:
none needs AutoGraph (loops are tf.while_loop / map_fn), and AutoGraph re-reads source files
when it traces, so a long run whose code was edited on disk traced the wrong function.

Layout of a workdir:
  config.json, history.json (one entry per epoch), results.json (at the end),
  checkpoints/latest (model, optimizer, loop state), checkpoints/best (model weights),
  tensorboard/, figures/*.png, test_log_likelihoods.npy.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import shutil
import signal
import sys
import threading
import time
from typing import Optional

import numpy as np
import tensorflow as tf

from vamp_tf import datasets, evaluation, files, objectives, optimizers, plots
from vamp_tf.config import Config
from vamp_tf.model import build_model

log = logging.getLogger("vamp_tf")

# Summed over each step's global batch, in this order; "loss" is the minimised
# -(reconstruction - beta * kl).
TRAIN_TERMS = ("elbo", "reconstruction", "kl", "loss")


class WorkdirConflict(ValueError):
    """The workdir holds a run with another configuration."""


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN or infinite loss."""


class TrainingInterrupted(RuntimeError):
    """Ctrl-C or SIGTERM: a checkpoint was saved; rerunning the command continues."""


@dataclasses.dataclass(frozen=True)
class RunPaths:
    workdir: str

    @property
    def config(self):
        return os.path.join(self.workdir, "config.json")

    @property
    def history(self):
        return os.path.join(self.workdir, "history.json")

    @property
    def results(self):
        return os.path.join(self.workdir, "results.json")

    @property
    def latest(self):
        return os.path.join(self.workdir, "checkpoints", "latest")

    @property
    def best(self):
        return os.path.join(self.workdir, "checkpoints", "best")

    @property
    def figures(self):
        return os.path.join(self.workdir, "figures")

    @property
    def tensorboard(self):
        return os.path.join(self.workdir, "tensorboard")

    @property
    def log_likelihoods(self):
        return os.path.join(self.workdir, "test_log_likelihoods.npy")


RUN_FILES = ("config.json", "history.json", "results.json", "checkpoints", "figures", "tensorboard",
             "test_log_likelihoods.npy")


def _delete_run(workdir: str) -> None:
    for name in RUN_FILES:
        path = os.path.join(workdir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def prepare_workdir(config: Config, workdir: str, overwrite: bool = False) -> RunPaths:
    """Creates the workdir, or checks that the run in it has the same configuration.

    Only fields in config.RESUMABLE_FIELDS (epochs, eval settings, data_dir, strategy) may
    differ. Otherwise WorkdirConflict. overwrite=True deletes the run's files first.
    """
    paths = RunPaths(os.path.abspath(workdir))
    if os.path.exists(paths.workdir) and not os.path.isdir(paths.workdir):
        raise WorkdirConflict(f"--workdir={workdir} is a file; pass a directory (it is created if missing).")
    stored = files.read_json(paths.config)
    if stored is not None:
        differences = config.differences(Config.from_dict(stored))
        if differences and not overwrite:
            raise WorkdirConflict(
                f"{paths.workdir} holds a run with another configuration:\n  " + "\n  ".join(differences) +
                "\nUse another --workdir, or pass --overwrite to delete that run and start over.")
    if overwrite:
        log.warning("--overwrite: deleting any run in %s", paths.workdir)
        _delete_run(paths.workdir)
    os.makedirs(paths.workdir, exist_ok=True)
    files.write_json(paths.config, config.to_dict())
    return paths


def make_strategy(name: str) -> tf.distribute.Strategy:
    """'default' (one device), 'mirrored' (all local GPUs, or the logical CPUs), or
    'multi_worker' (MultiWorkerMirroredStrategy, configured by TF_CONFIG)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy={name!r} is not supported; allowed: default, mirrored, multi_worker.")


def _worker(strategy) -> tuple[bool, int]:
    """(is_chief, task_id) under multi-worker training; (True, 0) otherwise."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, 0
    task_type, task_id = resolver.task_type, resolver.task_id or 0
    return task_type == "chief" or (task_type == "worker" and task_id == 0), task_id


class Trainer:
    """Model, optimizer, input pipeline and the tf.function train step of one run.

    Built under `strategy.scope()`. `train_step(batch, beta)` runs one optimisation step
    on a distributed batch (images, noise) and returns the sums over the global batch of
    TRAIN_TERMS; `epoch_dataset(epoch)` is the distributed input of an epoch.
    """

    def __init__(self, config: Config, strategy: Optional[tf.distribute.Strategy] = None):
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        t = config.train
        replicas = self.strategy.num_replicas_in_sync
        if t.batch_size % replicas:
            raise ValueError(f"batch_size={t.batch_size} must be divisible by the {replicas} replicas.")
        examples = None
        if config.model.prior == "vamp" and config.model.pseudo_init == "data":
            train = datasets.examples(t.dataset, "train", t.data_dir, t.split_seed, t.train_examples)
            rng = np.random.default_rng(t.seed)
            examples = train[rng.choice(len(train), config.model.num_components,
                                        replace=len(train) < config.model.num_components)]
        with self.strategy.scope():
            self.model = build_model(config.model, seed=t.seed, pseudo_input_examples=examples)
            self.optimizer = optimizers.make_optimizer(t.optimizer, t.learning_rate)
            self.optimizer.build(self.model.trainable_variables)
        self.train_step = self._build_train_step()

    def epoch_dataset(self, epoch: int, skip: int = 0):
        """Distributed batches (images, noise) of 0-based `epoch`, after skipping `skip`."""
        t = self.config.train
        ds = datasets.load(t.dataset, "train", t.batch_size, seed=t.seed, epoch=epoch, data_dir=t.data_dir,
                           num_examples=t.train_examples, split_seed=t.split_seed, drop_remainder=True)
        noise_seed = datasets.mix_seeds(t.seed, epoch, 1) & 0x7FFFFFFF
        noise_dim = self.model.noise_dim

        def add_noise(index, images):
            key = tf.stack([tf.constant(noise_seed, tf.int64), index])
            return images, tf.random.stateless_normal([tf.shape(images)[0], noise_dim], seed=key)

        ds = ds.enumerate().map(add_noise)
        if skip:
            ds = ds.skip(skip)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        options.autotune.enabled = False  # see datasets.pipeline: AUTOTUNE stalled epochs here
        ds = ds.with_options(options).prefetch(datasets.PREFETCH_BATCHES)
        return self.strategy.experimental_distribute_dataset(ds)

    def _build_train_step(self):
        model, optimizer, strategy = self.model, self.optimizer, self.strategy
        global_batch = float(self.config.train.batch_size)

        def replica_step(images, noise, beta):
            with tf.GradientTape() as tape:
                terms = model(images, noise=noise, training=True)
                per_example = objectives.negative_elbo(terms, beta)
                loss = tf.reduce_sum(per_example) / global_batch
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            terms = dict(terms, loss=per_example)
            return tf.stack([tf.reduce_sum(terms[name]) for name in TRAIN_TERMS])

        @tf.function(autograph=False)
        def train_step(batch, beta):
            images, noise = batch
            sums = strategy.run(replica_step, args=(images, noise, beta))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)

        return train_step


class _LoopState:
    """The loop's position and early-stopping state, saved in every checkpoint."""

    def __init__(self):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)          # completed epochs
        self.step_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)  # steps of the next one
        self.epoch_sums = tf.Variable(tf.zeros([len(TRAIN_TERMS) + 1], tf.float64), trainable=False)
        self.best_validation = tf.Variable(np.inf, dtype=tf.float64, trainable=False)
        self.best_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.epochs_without_improvement = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.stopped_early = tf.Variable(False, trainable=False)  # final; the epoch limit is not
        self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)

    def trackables(self) -> dict:
        return dict(vars(self))


class _StopRequest:
    """SIGINT / SIGTERM set a flag, checked between steps; a second Ctrl-C aborts at once."""

    def __init__(self):
        self.requested = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _Progress:
    """A progress bar on a terminal, nothing otherwise (the epoch log line suffices)."""

    def __init__(self, total: int, epoch: int, enabled: bool):
        self.total, self.epoch, self.enabled = total, epoch, enabled
        self.start = time.time()

    def update(self, step: int, sums: np.ndarray):
        if not self.enabled or (step % 10 and step != self.total):
            return
        count = max(sums[-1], 1.0)
        width = 30
        filled = int(width * step / max(self.total, 1))
        rate = step / max(time.time() - self.start, 1e-9)
        sys.stderr.write(f"\repoch {self.epoch} [{'=' * filled}{'.' * (width - filled)}] {step}/{self.total} "
                         f"-ELBO {-sums[0] / count:8.2f}  {rate:5.1f} it/s")
        sys.stderr.flush()
        if step == self.total:
            sys.stderr.write("\n")


def evaluation_images(config: Config, split: str):
    """The validation or test images of a run, float32 [N, H, W, C] (capped by test_examples)."""
    t = config.train
    return datasets.examples(t.dataset, split, t.data_dir, t.split_seed, t.test_examples)


def _history_entry(epoch, beta, train_means, validation, seconds, commit):
    entry = {"epoch": epoch, "beta": beta, "seconds": seconds, "commit": commit,
             "train_neg_elbo": -train_means["elbo"], "train_reconstruction": train_means["reconstruction"],
             "train_kl": train_means["kl"], "train_loss": train_means["loss"]}
    if validation is not None:
        entry.update({"validation_neg_elbo": -validation["elbo"],
                      "validation_reconstruction": validation["reconstruction"],
                      "validation_kl": validation["kl"]})
        entry.update({f"validation_{k}": v for k, v in validation.items() if k.startswith("kl_")})
    return entry


def train_and_evaluate(config: Config, workdir: str, overwrite: bool = False) -> dict:
    """Trains (or resumes) the run in `workdir`, then evaluates the best weights.

    Returns the results dict also written to workdir/results.json. Raises WorkdirConflict,
    NonFiniteLoss (the last good checkpoint is kept), TrainingInterrupted (a checkpoint
    was saved; rerun to continue), datasets.DataError.
    """
    strategy = make_strategy(config.train.strategy)
    is_chief, task_id = _worker(strategy)
    paths = prepare_workdir(config, workdir, overwrite) if is_chief else RunPaths(os.path.abspath(workdir))
    if is_chief:
        existing = files.read_json(paths.results)
        if existing is not None and existing.get("complete") and not config.differences(
                Config.from_dict(existing["config"]), ignore=frozenset()):
            log.info("%s already holds the finished run; results.json is up to date.", paths.workdir)
            return existing

    trainer = Trainer(config, strategy)
    state = _LoopState()
    checkpoint = tf.train.Checkpoint(model=trainer.model, optimizer=trainer.optimizer, **state.trackables())
    best = tf.train.Checkpoint(model=trainer.model)
    latest_manager = tf.train.CheckpointManager(checkpoint, paths.latest, max_to_keep=2)
    write_manager = latest_manager if is_chief else tf.train.CheckpointManager(
        checkpoint, os.path.join(paths.workdir, "checkpoints", f"worker_{task_id}"), 1)
    best_manager = tf.train.CheckpointManager(best, paths.best, max_to_keep=1)
    best_write = best_manager if is_chief else tf.train.CheckpointManager(
        best, os.path.join(paths.workdir, "checkpoints", f"worker_{task_id}_best"), 1)

    def save(manager, number):
        # Explicit numbers (global step for latest, epoch for best): the best checkpoint's own
        # save counter restarts at 1 in every resumed process, and a reused name could
        # overwrite, then delete, the checkpoint already on disk.
        manager.save(checkpoint_number=number)
        if not is_chief:  # non-chief workers join the collective save, then drop their copy
            shutil.rmtree(manager.directory, ignore_errors=True)

    if latest_manager.latest_checkpoint:
        checkpoint.restore(latest_manager.latest_checkpoint).assert_existing_objects_matched()
        log.info("resumed from %s: %d epochs done, step %d of the next", latest_manager.latest_checkpoint,
                 int(state.epoch.numpy()), int(state.step_in_epoch.numpy()))
    history = [h for h in (files.read_json(paths.history) or []) if h["epoch"] <= int(state.epoch.numpy())]

    t = config.train
    validation_images = evaluation_images(config, "validation")
    validate = evaluation.ElboTerms(trainer.model, seed=t.seed)
    n_train, n_test = (len(datasets.split_images(t.dataset, split, t.data_dir, t.split_seed, cap))
                       for split, cap in (("train", t.train_examples), ("test", t.test_examples)))
    steps_per_epoch = n_train // t.batch_size
    log.info("%s: %d train (%d steps of %d), %d validation, %d test images; %d trainable parameters; "
             "%d replica(s)", t.dataset, n_train, steps_per_epoch, t.batch_size, len(validation_images),
             n_test, sum(int(np.prod(v.shape)) for v in trainer.model.trainable_variables),
             strategy.num_replicas_in_sync)
    summary = tf.summary.create_file_writer(paths.tensorboard) if is_chief else tf.summary.create_noop_writer()
    show_progress = is_chief and sys.stderr.isatty()
    commit = files.git_commit()  # of the code that trains these epochs

    with _StopRequest() as stop:
        while not bool(state.stopped_early.numpy()) and int(state.epoch.numpy()) < t.epochs:
            epoch = int(state.epoch.numpy()) + 1  # 1-based
            beta = objectives.warmup_beta(epoch, t.warmup_epochs)
            beta_t = tf.constant(beta, tf.float32)
            started, done = time.time(), int(state.step_in_epoch.numpy())
            sums = state.epoch_sums.numpy()
            progress = _Progress(steps_per_epoch, epoch, show_progress)
            for batch in trainer.epoch_dataset(epoch - 1, skip=done):
                step_sums = trainer.train_step(batch, beta_t).numpy().astype(np.float64)
                if not np.all(np.isfinite(step_sums)):
                    raise NonFiniteLoss(
                        f"non-finite loss at epoch {epoch}, step {done + 1} (global step "
                        f"{(epoch - 1) * steps_per_epoch + done + 1}). Nothing was saved after it: the checkpoint "
                        f"of epoch {epoch - 1} in {paths.latest} is the last good one. Lower --learning_rate "
                        "(or try --optimizer=adam_normgrad) in a new --workdir or with --overwrite.")
                sums = sums + np.append(step_sums, t.batch_size)
                done += 1
                progress.update(done, sums)
                if stop.requested:
                    state.step_in_epoch.assign(done)
                    state.epoch_sums.assign(sums)
                    state.train_seconds.assign_add(time.time() - started)
                    save(write_manager, int(trainer.optimizer.iterations.numpy()))
                    raise TrainingInterrupted(
                        f"{stop.requested}: stopped at epoch {epoch}, step {done}/{steps_per_epoch}; checkpoint saved "
                        f"in {paths.latest}. Rerun the same command to continue from there.")
            train_means = {name: sums[i] / sums[-1] for i, name in enumerate(TRAIN_TERMS)}
            validation = None
            if epoch % t.eval_every == 0 or epoch == t.epochs:
                validation = validate(validation_images)
                validation.pop("per_image_elbo")
                value = -validation["elbo"]
                if not math.isfinite(value):
                    raise NonFiniteLoss(f"non-finite validation -ELBO after epoch {epoch}; the checkpoint of epoch "
                                        f"{epoch - 1} in {paths.latest} is the last good one.")
                if value < state.best_validation.numpy():
                    state.best_validation.assign(value)
                    state.best_epoch.assign(epoch)
                    state.epochs_without_improvement.assign(0)
                    save(best_write, epoch)
                elif epoch <= t.warmup_epochs:
                    state.epochs_without_improvement.assign(0)
                else:
                    state.epochs_without_improvement.assign_add(t.eval_every)
            seconds = time.time() - started
            state.train_seconds.assign_add(seconds)
            entry = _history_entry(epoch, beta, train_means, validation, seconds, commit)
            history.append(entry)
            stopped_early = int(state.epochs_without_improvement.numpy()) >= t.early_stopping_patience
            state.epoch.assign(epoch)
            state.step_in_epoch.assign(0)
            state.epoch_sums.assign(tf.zeros_like(state.epoch_sums))
            state.stopped_early.assign(stopped_early)
            if is_chief:
                files.write_json(paths.history, history)
                with summary.as_default(step=epoch):
                    for key, value in entry.items():
                        if key not in ("epoch", "commit"):
                            tf.summary.scalar(key, value)
            save(write_manager, int(trainer.optimizer.iterations.numpy()))
            log.info("epoch %d/%d beta %.2f  train -ELBO %.2f (RE %.2f, KL %.2f)%s  %.1fs%s", epoch, t.epochs, beta,
                     entry["train_neg_elbo"], -entry["train_reconstruction"], entry["train_kl"],
                     f"  valid -ELBO {entry['validation_neg_elbo']:.2f} (best {state.best_validation.numpy():.2f}"
                     f" @ {int(state.best_epoch.numpy())})" if validation else "", seconds,
                     "  early stop" if stopped_early else "")
    if not is_chief:
        return {}
    return _evaluate_and_report(config, paths, trainer.model, best, best_manager, state, history)


def _evaluate_and_report(config, paths, model, best, best_manager, state, history) -> dict:
    t = config.train
    if best_manager.latest_checkpoint:
        best.restore(best_manager.latest_checkpoint).expect_partial()
    started = time.time()
    test_images = evaluation_images(config, "test")
    log.info("evaluating epoch %d's weights on %d test images (S = %d importance samples)",
             int(state.best_epoch.numpy()), len(test_images), t.eval_samples)
    ll = evaluation.log_likelihood(model, test_images, num_samples=t.eval_samples, seed=t.seed,
                                   batch_size=t.eval_batch_size)
    np.save(paths.log_likelihoods, ll["per_image"])
    test = evaluation.elbo_terms(model, test_images, seed=t.seed)
    test.pop("per_image_elbo")
    units = evaluation.active_units(model, test_images)
    usage = evaluation.prior_usage(model, test_images)
    info = datasets.info(t.dataset)
    metrics = {
        "test_log_likelihood": ll["mean"],
        "test_nll": -ll["mean"],
        "test_elbo": test["elbo"],
        "test_neg_elbo": -test["elbo"],
        "test_reconstruction": test["reconstruction"],
        "test_kl": test["kl"],
        "active_units": {layer: u["count"] for layer, u in units.items()},
        "prior_usage": prior_usage_summary(usage),
        "best_validation_neg_elbo": float(state.best_validation.numpy()),
        "best_epoch": int(state.best_epoch.numpy()),
    }
    metrics.update({f"test_{k}": v for k, v in test.items() if k.startswith("kl_")})
    if info.likelihood == "discretized_logistic":
        metrics["bits_per_dim"] = float(evaluation.bits_per_dim(ll["mean"], config.model.input_dim))
        metrics["test_neg_elbo_bits_per_dim"] = float(evaluation.bits_per_dim(test["elbo"], config.model.input_dim))
    evaluation_seconds = time.time() - started
    figures = _write_figures(config, paths, model, test_images, ll["per_image"], history, usage)
    epochs_run = int(state.epoch.numpy())
    results = {
        "complete": True,
        "config": config.to_dict(),
        "metrics": metrics,
        "epochs_run": epochs_run,
        "stopped_early": bool(state.stopped_early.numpy()),
        "train_seconds": float(state.train_seconds.numpy()),
        "evaluation_seconds": evaluation_seconds,
        "num_test_images": int(len(test_images)),
        "figures": {k: os.path.relpath(v, paths.workdir) for k, v in figures.items()},
        **files.provenance(),
    }
    files.write_json(paths.results, results)
    log.info("test log-likelihood %.2f nats (S=%d)%s; test ELBO %.2f (RE %.2f, KL %.2f); active units %s; "
             "prior components used %d of %d (effective %.1f)",
             ll["mean"], t.eval_samples,
             f", {metrics['bits_per_dim']:.3f} bits/dim" if "bits_per_dim" in metrics else "",
             test["elbo"], -test["reconstruction"], test["kl"], metrics["active_units"],
             usage["components_used"], usage["num_components"], usage["effective_components"])
    return results


def prior_usage_summary(usage: dict) -> dict:
    """The JSON part of evaluation.prior_usage (the per-component usage array left out)."""
    return {k: usage[k] for k in ("num_components", "components_used", "effective_components", "used_mass")}


def _write_figures(config, paths, model, test_images, per_image_ll, history, usage) -> dict:
    t = config.train
    out = {
        "samples": plots.samples(model.sample(100, seed=t.seed).numpy(), os.path.join(paths.figures, "samples.png"),
                                 title=f"Samples ({config.model.model.upper()}, {config.model.prior} prior)"),
    }
    shown = test_images[np.linspace(0, len(test_images) - 1, min(50, len(test_images))).astype(int)]
    out["reconstructions"] = plots.reconstructions(
        shown, model.reconstruct(shown).numpy(), os.path.join(paths.figures, "reconstructions.png"))
    if config.model.prior == "vamp":
        order = np.argsort(-usage["usage"], kind="stable")[:100]
        out["pseudo_inputs"] = plots.pseudo_inputs(
            model.prior.pseudo_inputs.numpy()[order], os.path.join(paths.figures, "pseudo_inputs.png"),
            title=f"Pseudo-inputs, most used first ({usage['components_used']} of "
                  f"{config.model.num_components} used by test images)")
    out["log_likelihood_histogram"] = plots.log_likelihood_histogram(
        per_image_ll, os.path.join(paths.figures, "log_likelihood_histogram.png"),
        title=f"Test log-likelihood (S={t.eval_samples})")
    out["learning_curves"] = plots.learning_curves(history, os.path.join(paths.figures, "learning_curves.png"))
    return out
