"""The Keras `compile` / `fit` / `evaluate` adapter of vamp_tf's models.

`model.compile(optimizer); model.fit(dataset, callbacks=[KLWarmup(100)])` runs
vamp_tf.step.train_step, the step of vamp_tf's own trainer, so both train the same way; the
loss is the negative ELBO with the KL weight `kl_weight` (warm-up), and the metrics are means
per image over the epoch. FitAdapter is a mixin of models.base.LatentVariableModel: it needs
the model's `noise_dim` and its call (one-sample ELBO terms).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from vamp_tf import objectives, step

FIT_TERMS = ("elbo", "reconstruction", "kl")  # metrics of fit / evaluate, besides 'loss'


class KLWarmup(keras.callbacks.Callback):
    """KL warm-up for `model.fit`: sets model.kl_weight to min(1, epoch / warmup_epochs)
    at the start of every (1-based) epoch, the schedule of the paper and of vamp_tf's trainer."""

    def __init__(self, warmup_epochs: int = 100):
        super().__init__()
        self.warmup_epochs = warmup_epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.kl_weight.assign(objectives.warmup_beta(epoch + 1, self.warmup_epochs))


class _FitState:
    """What compile / fit / evaluate keep between steps: the KL weight and the metrics."""

    def __init__(self):
        self.kl_weight = tf.Variable(1.0, trainable=False, name="kl_weight")
        self.metrics = [keras.metrics.Mean(name=name) for name in ("loss",) + FIT_TERMS]


class FitAdapter:
    """compile / fit / evaluate for a keras.Model whose call returns per-image ELBO terms."""

    def _init_fit(self, noise_seed: int):
        self.noise_seed = int(noise_seed)  # seeds the noise of fit/evaluate batches that bring none
        self._fit = _FitState()  # a plain object: its state is not part of the model's checkpoints

    def compile(self, optimizer="adam", **kwargs):
        """Prepares `fit` / `evaluate`: the loss is the negative ELBO (with the KL weight
        `kl_weight`, 1 unless a KLWarmup callback sets it); metrics 'loss', 'elbo',
        'reconstruction', 'kl' are means per image over the epoch."""
        if kwargs.get("loss") is not None:
            raise ValueError("compile(loss=...) is not supported: the loss of a vamp_tf model is its negative ELBO. "
                             "Call compile(optimizer) only.")
        super().compile(optimizer=optimizer, **kwargs)

    @property
    def kl_weight(self) -> tf.Variable:
        """beta of fit's loss -(reconstruction - beta * kl); set by KLWarmup (default 1)."""
        return self._fit.kl_weight

    @property
    def metrics(self):
        return list(self._fit.metrics)

    def _fit_batch(self, data):
        """(images, noise) of a fit/evaluate batch: images, (images,) or (images, noise).
        Batches without noise get it from (noise_seed, the optimizer's step, the replica)."""
        if isinstance(data, (tuple, list)):
            images, noise = (data[0], data[1]) if len(data) > 1 else (data[0], None)
        else:
            images, noise = data, None
        images = tf.convert_to_tensor(images, tf.float32)
        if noise is None:
            replica = tf.distribute.get_replica_context()
            replica_id = replica.replica_id_in_sync_group if replica is not None else 0
            step_index = self.optimizer.iterations if self.optimizer is not None else tf.constant(0, tf.int64)
            key = tf.random.experimental.stateless_fold_in(
                tf.stack([tf.constant(self.noise_seed, tf.int64), tf.cast(step_index, tf.int64)]), replica_id)
            noise = tf.random.stateless_normal([tf.shape(images)[0], self.noise_dim], seed=key)
        return images, noise

    def _update_fit_metrics(self, sums, batch):
        batch = tf.cast(batch, tf.float32)
        values = dict(zip(step.TRAIN_TERMS, tf.unstack(sums)))
        for metric in self._fit.metrics:
            metric.update_state(values[metric.name] / batch, sample_weight=batch)
        return {metric.name: metric.result() for metric in self._fit.metrics}

    def train_step(self, data):
        images, noise = self._fit_batch(data)
        batch = tf.shape(images)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        global_batch = tf.cast(batch * replicas, tf.float32)
        sums = step.train_step(self, self.optimizer, images, noise, self.kl_weight, global_batch, check_finite=True)
        return self._update_fit_metrics(sums, batch)

    def fit(self, *args, **kwargs):
        """keras.Model.fit, with the trainer's rule: a batch with non-finite pixels raises ValueError,
        a non-finite loss step.NonFiniteLoss, both before that step changes any weight (the model keeps
        the weights of the last finite step)."""
        try:
            return super().fit(*args, **kwargs)
        except tf.errors.InvalidArgumentError as e:
            done = int(self.optimizer.iterations.numpy()) if self.optimizer is not None else 0
            kept = f"no weight was updated by it: the model keeps the weights after step {done}"
            if step.NONFINITE_IMAGES in (e.message or ""):
                raise ValueError(f"fit stopped at step {done + 1}: a batch of images holds NaN or infinite pixels; "
                                 f"{kept}. Pixels must be finite, in [0, 1]: clean the data.") from None
            if step.OUT_OF_RANGE in (e.message or ""):
                raise ValueError(f"fit stopped at step {done + 1}: a batch of images has pixels outside [0, 1]; {kept}. "
                                 "Pixels must be in [0, 1] (divide 8-bit images by 255).") from None
            if step.NONFINITE_LOSS in (e.message or ""):
                raise step.NonFiniteLoss(f"fit stopped at step {done + 1}: the loss is NaN or infinite; {kept}. "
                                         "Lower the learning rate (or use vamp_tf.optimizers.AdamNormGrad), or check "
                                         "the noise passed with the images.") from None
            raise

    def test_step(self, data):
        images, noise = self._fit_batch(data)
        terms = self(images, noise=noise)
        sums = step.batch_sums(terms, objectives.negative_elbo(terms))
        return self._update_fit_metrics(sums, tf.shape(images)[0])
