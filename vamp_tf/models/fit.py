"""The Keras `compile` / `fit` / `evaluate` adapter of vamp_tf's models.

`model.compile(optimizer); model.fit(dataset, callbacks=[KLWarmup(100)])` runs
vamp_tf.step.train_step, the step of vamp_tf's own trainer, so both train the same way; the
loss is the negative ELBO with the KL weight `kl_weight` (warm-up), and the metrics are means
per image over the epoch. Batches are what Keras users pass: arrays, (x, target) or (x, label)
tuples (the second element is ignored), TFDS dicts {'image': ...} (optionally with 'noise'),
uint8 images (FitAdapter.fit_inputs). FitAdapter is a mixin of models.base.LatentVariableModel: it needs
the model's `noise_dim` and its call (one-sample ELBO terms).
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf

from vamp_tf import objectives, step

FIT_TERMS = ("elbo", "reconstruction", "kl")  # metrics of fit / evaluate, besides 'loss'


class KLWarmup(keras.callbacks.Callback):
    """KL warm-up for `model.fit`: sets model.kl_weight to min(1, epoch / warmup_epochs) * beta
    at the start of every (1-based) epoch, the schedule of the paper (beta = 1) and of vamp_tf's trainer."""

    def __init__(self, warmup_epochs: int = 100, beta: float = 1.0):
        super().__init__()
        self.warmup_epochs, self.beta = warmup_epochs, beta

    def on_epoch_begin(self, epoch, logs=None):
        self.model.kl_weight.assign(objectives.warmup_beta(epoch + 1, self.warmup_epochs, self.beta))


class _FitState:
    """What compile / fit / evaluate keep between steps: the KL weight and the metrics."""

    def __init__(self):
        self.kl_weight = tf.Variable(1.0, trainable=False, name="kl_weight")
        self.metrics = [keras.metrics.Mean(name=name) for name in ("loss",) + FIT_TERMS]


class FitAdapter:
    """compile / fit / evaluate / predict for a keras.Model whose call returns per-image ELBO terms.

    Each batch may be what Keras users pass (see `fit_inputs`): images; an (images, target) or
    (images, label) tuple, whose second element is ignored (a VAE has no target); a dict with
    'image' (TFDS's feature dicts; other keys ignored) and optionally 'noise' [batch, noise_dim].
    """

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

    def compile_from_config(self, config):
        """What keras.models.load_model calls: compile as saved, then create the optimizer's variables
        (so the saved optimizer state can be loaded into them)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @property
    def kl_weight(self) -> tf.Variable:
        """beta of fit's loss -(reconstruction - beta * kl); set by KLWarmup (default 1)."""
        return self._fit.kl_weight

    @property
    def metrics(self):
        return list(self._fit.metrics)

    def fit_inputs(self, data):
        """(images float32 [batch, H, W, C] in [0, 1], noise [batch, noise_dim] or None) of a batch as
        Keras passes it to train_step / test_step / predict_step (see the class docstring).

        uint8 (or other integer) images are scaled as the likelihood needs: p / 255 for the discretized
        logistic; for the Bernoulli they must be binary, {0, 1} or {0, 255}. Float images for the
        Bernoulli must be binary too: gray images raise (in the graph: InvalidArgumentError carrying
        step.GRAY_IMAGES, which fit / evaluate / predict turn into a ValueError naming the fix).
        """
        images, noise = _unpack(data)
        binary = self.likelihood.name == "bernoulli"
        if images.dtype.is_integer:
            if not binary:
                images = tf.cast(images, tf.float32) / 255.0
            else:
                zero_one = tf.reduce_all((images == 0) | (images == 1))
                zero_max = tf.reduce_all((images == 0) | (images == 255))
                check = tf.debugging.Assert(zero_one | zero_max, [step.GRAY_IMAGES], name="images_are_binary")
                with tf.control_dependencies([check]):
                    images = tf.cast(images > 0, tf.float32)
        else:
            images = tf.cast(images, tf.float32)
            if binary:
                gray = tf.reduce_any((images > 0.0) & (images < 1.0))  # (NaN and out of range: the step's checks)
                check = tf.debugging.Assert(tf.logical_not(gray), [step.GRAY_IMAGES], name="images_are_binary")
                with tf.control_dependencies([check]):
                    images = tf.identity(images)
        return images, noise

    def _fit_batch(self, data):
        """(images, noise) of a fit/evaluate batch (fit_inputs); batches without noise get it from
        (noise_seed, the optimizer's step, the replica)."""
        images, noise = self.fit_inputs(data)
        if noise is None:
            replica = tf.distribute.get_replica_context()
            replica_id = replica.replica_id_in_sync_group if replica is not None else 0
            # A model that was never compiled (loaded to predict) has no optimizer attribute at all.
            optimizer = getattr(self, "optimizer", None)
            step_index = optimizer.iterations if optimizer is not None else tf.constant(0, tf.int64)
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
        the weights of the last finite step); gray images for a Bernoulli likelihood raise ValueError."""
        with _clear_errors(self, "fit"):
            return super().fit(*args, **kwargs)

    def evaluate(self, *args, **kwargs):
        """keras.Model.evaluate (metrics at beta = 1), on the batches fit takes."""
        with _clear_errors(self, "evaluate"):
            return super().evaluate(*args, **kwargs)

    def predict(self, *args, **kwargs):
        """keras.Model.predict: the per-image one-sample ELBO terms (call's dict, each [N]), on the
        batches fit takes."""
        with _clear_errors(self, "predict"):
            return super().predict(*args, **kwargs)

    def test_step(self, data):
        images, noise = self._fit_batch(data)
        terms = self(images, noise=noise)
        sums = step.batch_sums(terms, objectives.negative_elbo(terms))
        return self._update_fit_metrics(sums, tf.shape(images)[0])

    def predict_step(self, data):
        images, noise = self._fit_batch(data)
        return self(images, noise=noise)


def _unpack(data):
    """(images, noise or None) of a batch: a tensor, a tuple (images[, target[, sample_weight]]) or
    a dict {'image': ..., 'noise': ...} (the images of a tuple may be such a dict)."""
    if isinstance(data, (tuple, list)):
        if len(data) == 3 and data[2] is not None:
            raise ValueError("sample_weight is not supported: a vamp_tf model's loss is the mean negative ELBO of "
                             "the batch's images; drop the third element of the batches (or pass it as None).")
        data = data[0]
    if isinstance(data, dict):
        if "image" not in data:
            raise ValueError(f"a batch given as a dict needs its images under 'image' (TFDS's name); it has the "
                             f"keys {sorted(data)}. Map the dataset to {{'image': images}} (optionally 'noise').")
        return tf.convert_to_tensor(data["image"]), data.get("noise")
    return tf.convert_to_tensor(data), None


@contextlib.contextmanager
def _clear_errors(model, action: str):
    """Turns the in-graph checks' InvalidArgumentError (vamp_tf.step's messages) into one clear error."""
    try:
        yield
    except tf.errors.InvalidArgumentError as e:
        message = e.message or ""
        if action == "fit":
            done = int(model.optimizer.iterations.numpy()) if model.optimizer is not None else 0
            where = f"fit stopped at step {done + 1}"
            kept = f"; no weight was updated by it: the model keeps the weights after step {done}"
        else:
            where, kept = f"{action} stopped", ""
        if step.GRAY_IMAGES in message:
            raise ValueError(
                f"{where}: a batch holds gray pixels, but the model's likelihood is the Bernoulli, which models "
                f"binary images{kept}. Binarize them (dynamically, a new draw every epoch, as the trainer does: "
                "vamp_tf.datasets.dynamic_binarization(dataset, seed)), or build the model with "
                "likelihood='discretized_logistic' for 256-level gray images.") from None
        if step.NONFINITE_IMAGES in message:
            raise ValueError(f"{where}: a batch of images holds NaN or infinite pixels{kept}. "
                             "Pixels must be finite, in [0, 1]: clean the data.") from None
        if step.OUT_OF_RANGE in message:
            raise ValueError(f"{where}: a batch of images has pixels outside [0, 1]{kept}. "
                             "Pixels must be in [0, 1] (divide 8-bit images by 255).") from None
        if step.NONFINITE_LOSS in message:
            raise step.NonFiniteLoss(f"{where}: the loss is NaN or infinite{kept}. "
                                     "Lower the learning rate (or use vamp_tf.optimizers.AdamNormGrad), or check "
                                     "the noise passed with the images.") from None
        raise
