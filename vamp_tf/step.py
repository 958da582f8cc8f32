"""The one training step of vamp_tf: used by the trainer's custom loop and by `model.fit`.

Tomczak & Welling (AISTATS 2018) train on the negative ELBO with KL warm-up (beta); the
loss of a replica's batch is its per-example sum divided by the global batch size, so
gradients summed across replicas (tf.distribute) equal one device's.
"""

import tensorflow as tf

from vamp_tf import objectives

# The per-batch sums a step returns, in this order; "loss" is -(reconstruction - beta * kl).
TRAIN_TERMS = ("elbo", "reconstruction", "kl", "loss")

# Messages of the in-graph checks of a checked step (train_step(check_finite=True)); the fit
# adapter turns the InvalidArgumentError that carries one into a clear Python error.
NONFINITE_IMAGES = "vamp_tf: a training batch holds NaN or infinite pixels"
NONFINITE_LOSS = "vamp_tf: the training loss is NaN or infinite"
OUT_OF_RANGE = "vamp_tf: a training batch has pixels outside [0, 1]"
GRAY_IMAGES = "vamp_tf: a batch for a Bernoulli likelihood holds gray pixels"  # the fit adapter's check


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN or infinite loss."""


def train_step(model, optimizer, images, noise, beta, global_batch_size, check_finite: bool = False):
    """One optimisation step on one replica's batch.

    model: a vamp_tf.models.LatentVariableModel; optimizer: a Keras optimizer.
    images: [batch, H, W, C] in [0, 1]; noise: [batch, model.noise_dim] N(0, 1).
    beta: the KL weight (a scalar tensor, so that warm-up does not retrace).
    global_batch_size: images per step over all replicas.
    check_finite: check the images and the loss in the graph, before any weight changes: a
      non-finite one raises InvalidArgumentError carrying NONFINITE_IMAGES / NONFINITE_LOSS,
      and no update is applied (the fit adapter's rule; the trainer checks the sums it returns
      and keeps its last checkpoint instead).
    Returns float32 [len(TRAIN_TERMS)]: the batch sums of TRAIN_TERMS.
    """
    checks = []
    if check_finite:
        checks.append(tf.debugging.assert_all_finite(images, NONFINITE_IMAGES))
        with tf.control_dependencies(checks):  # NaN compares false: range-check finite images only
            in_range = tf.reduce_all((images >= 0.0) & (images <= 1.0))
        checks.append(tf.debugging.Assert(in_range, [OUT_OF_RANGE], name="images_in_range"))
    with tf.control_dependencies(checks):  # bad images: no forward pass, no update
        images = tf.identity(images)
    with tf.GradientTape() as tape:
        terms = model(images, noise=noise, training=True)
        per_example = objectives.negative_elbo(terms, beta)
        loss = tf.reduce_sum(per_example) / global_batch_size
        # A LossScaleOptimizer (mixed_float16) scales the loss here and unscales the gradients
        # (and skips steps whose gradients overflowed) in apply_gradients; other optimizers
        # return the loss unchanged.
        scaled = optimizer.scale_loss(loss)
    variables = model.trainable_variables
    gradients = tape.gradient(scaled, variables)
    checks = [tf.debugging.assert_all_finite(loss, NONFINITE_LOSS)] if check_finite else []
    with tf.control_dependencies(checks):  # every op of the update (its step count too) waits for the check
        optimizer.apply_gradients(zip(gradients, variables))
    return batch_sums(terms, per_example)


def batch_sums(terms: dict, per_example_loss) -> tf.Tensor:
    """float32 [len(TRAIN_TERMS)]: the batch sums of a model call's terms and the loss."""
    terms = dict(terms, loss=per_example_loss)
    return tf.stack([tf.reduce_sum(terms[name]) for name in TRAIN_TERMS])
