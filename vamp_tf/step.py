"""The one training step of vamp_tf: used by the trainer's custom loop and by `model.fit`.

Tomczak & Welling (AISTATS 2018) train on the negative ELBO with KL warm-up (beta); the
loss of a replica's batch is its per-example sum divided by the global batch size, so
gradients summed across replicas (tf.distribute) equal one device's.
"""

import tensorflow as tf

from vamp_tf import objectives

# The per-batch sums a step returns, in this order; "loss" is -(reconstruction - beta * kl).
TRAIN_TERMS = ("elbo", "reconstruction", "kl", "loss")


def train_step(model, optimizer, images, noise, beta, global_batch_size):
    """One optimisation step on one replica's batch.

    model: a vamp_tf.model.LatentVariableModel; optimizer: a Keras optimizer.
    images: [batch, H, W, C] in [0, 1]; noise: [batch, model.noise_dim] N(0, 1).
    beta: the KL weight (a scalar tensor, so that warm-up does not retrace).
    global_batch_size: images per step over all replicas.
    Returns float32 [len(TRAIN_TERMS)]: the batch sums of TRAIN_TERMS.
    """
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
    optimizer.apply_gradients(zip(gradients, variables))
    return batch_sums(terms, per_example)


def batch_sums(terms: dict, per_example_loss) -> tf.Tensor:
    """float32 [len(TRAIN_TERMS)]: the batch sums of a model call's terms and the loss."""
    terms = dict(terms, loss=per_example_loss)
    return tf.stack([tf.reduce_sum(terms[name]) for name in TRAIN_TERMS])
