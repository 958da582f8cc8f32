"""The trainer of one run: model, optimizer, strategy, the input of each epoch, the step.

`Trainer(config, strategy)` builds everything under `strategy.scope()`;
`trainer.epoch_dataset(epoch)` is the distributed input of an epoch, batches of
(images, noise) whose every random choice is a function of (config.train.seed, epoch,
batch), and `trainer.train_step(batch, beta)` runs vamp_tf.step.train_step on every
replica under one tf.function and returns the sums of step.TRAIN_TERMS over the global
batch.
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from vamp_tf import datasets, networks, optimizers, precision, step
from vamp_tf.config import Config
from vamp_tf.models import build_model


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


def worker_role(strategy) -> tuple[bool, int]:
    """(is_chief, task_id) under multi-worker training; (True, 0) otherwise."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, 0
    task_type, task_id = resolver.task_type, resolver.task_id or 0
    return task_type == "chief" or (task_type == "worker" and task_id == 0), task_id


class Trainer:
    """Model, optimizer, input pipeline and the tf.function train step of one run.

    A fresh VampPrior with pseudo_init='data' is initialised from training images here
    (`initialize_pseudo_inputs`); a resumed run restores its pseudo-inputs instead.
    """

    def __init__(self, config: Config, strategy: Optional[tf.distribute.Strategy] = None, jit_compile: bool = False):
        """jit_compile: compile the step with XLA (measured slower on this project's CPUs:
        bench/README.md; off by default)."""
        config = precision.resolve_config(config)  # 'auto' -> what this machine computes (train_lib resolved it)
        self.config = config
        self.jit_compile = jit_compile
        self.strategy = strategy or tf.distribute.get_strategy()
        t = config.train
        replicas = self.strategy.num_replicas_in_sync
        if t.batch_size % replicas:
            raise ValueError(f"batch_size={t.batch_size} must be divisible by the {replicas} replicas.")
        with self.strategy.scope():
            self.model = build_model(config.model, seed=t.seed, precision=t.precision)
            self.optimizer = optimizers.make_optimizer(t.optimizer, t.learning_rate, t.precision,
                                                       parts=networks.fused_parts(self.model))
            self.optimizer.build(self.model.trainable_variables)
        # Validation, the test evaluation and export run in float32: under a mixed policy on a
        # float32 twin that `eval_model()` loads the current weights into.
        self._float32_twin = None if t.precision == "float32" else build_model(config.model, seed=t.seed)
        self.num_train = n_train = len(datasets.split_images(t.dataset, "train", t.data_dir, t.split_seed,
                                                             t.train_examples))
        if n_train < t.batch_size and not t.keep_last_batch:
            raise ValueError(f"{t.dataset}/train has {n_train} images, fewer than batch_size={t.batch_size}; "
                             "lower --batch_size, raise --train_examples, or pass --keep_last_batch.")
        # Images in each step of an epoch: whole batches, and the rest when keep_last_batch.
        self.batch_sizes = [t.batch_size] * (n_train // t.batch_size)
        if t.keep_last_batch and n_train % t.batch_size:
            self.batch_sizes.append(n_train % t.batch_size)
        if self.model.prior.has_pseudo_inputs and config.model.pseudo_init == "data":
            self.initialize_pseudo_inputs()
        self.train_step = self._build_train_step()

    def eval_model(self):
        """The model with the current weights, computing in float32 (the trained model itself
        under precision='float32')."""
        if self._float32_twin is None:
            return self.model
        for target, source in zip(self._float32_twin.variables, self.model.variables):
            target.assign(source)
        return self._float32_twin

    def initialize_pseudo_inputs(self) -> None:
        """K training images + N(0, pseudo_std) noise as the VampPrior's pseudo-inputs."""
        t = self.config.train
        train = datasets.examples(t.dataset, "train", t.data_dir, t.split_seed, t.train_examples,
                                  gray_values=t.gray_values, gray=True)  # gray: before any draw, as every run began
        self.model.prior.initialize_from_data(train, self.config.model.pseudo_std, seed=t.seed)

    def epoch_dataset(self, epoch: int, skip: int = 0):
        """Distributed batches (images, noise) of 0-based `epoch`, after skipping `skip`."""
        ds = datasets.epoch_batches(self.config.train, self.model.noise_dim, epoch)
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
        keep_last_batch = self.config.train.keep_last_batch

        def replica_step(images, noise, beta):
            batch = global_batch
            if keep_last_batch:  # the last batch may be smaller: its loss is the mean over its images
                batch = tf.distribute.get_replica_context().all_reduce(
                    tf.distribute.ReduceOp.SUM, tf.cast(tf.shape(images)[0], tf.float32))
            return step.train_step(model, optimizer, images, noise, beta, batch)

        @tf.function(autograph=False, jit_compile=self.jit_compile)
        def train_step(batch, beta):
            images, noise = batch
            sums = strategy.run(replica_step, args=(images, noise, beta))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, sums, axis=None)

        return train_step
