"""What a model trains on, for vamp_tf's trainer and for Keras' `fit`.

- `epoch_batches(train_config, noise_dim, epoch)`: the batches (images, noise) of one epoch of
  a run, every random choice a function of (seed, epoch, batch): the trainer's input.
- `fit_data(train_config, noise_dim, epochs)`: the same batches, every epoch after the other, as
  {'image', 'noise'} dicts for `model.fit(dataset, epochs=..., steps_per_epoch=...)`, so that
  fit trains exactly what a flagfile trains (tests/datasets_test.py compares the weights).
- `dynamic_binarization(dataset, seed)`: binarizes the gray images of any tf.data dataset
  (arrays, (image, label) tuples or TFDS's {'image': ...} dicts, uint8 or float) with a new
  draw every epoch, the per-pixel Bernoulli draw of the trainer (pipeline.binarize).
"""

from __future__ import annotations

import tensorflow as tf

from vamp_tf.datasets import pipeline


def epoch_batches(train_config, noise_dim: int, epoch: int) -> tf.data.Dataset:
    """Batches (images [B, H, W, C] float32 in [0, 1], noise [B, noise_dim] N(0, 1)) of 0-based
    `epoch` of the run `train_config` (a TrainConfig) describes, as the trainer feeds them."""
    t = train_config
    ds = pipeline.load(t.dataset, "train", t.batch_size, seed=t.seed, epoch=epoch, data_dir=t.data_dir,
                       num_examples=t.train_examples, split_seed=t.split_seed,
                       drop_remainder=not t.keep_last_batch, gray_values=t.gray_values)
    noise_seed = pipeline.mix_seeds(t.seed, epoch, 1) & 0x7FFFFFFF

    def add_noise(index, images):
        key = tf.stack([tf.constant(noise_seed, tf.int64), index])
        return images, tf.random.stateless_normal([tf.shape(images)[0], noise_dim], seed=key)

    return ds.enumerate().map(add_noise)


def steps_per_epoch(train_config) -> int:
    """Training steps in one epoch of the run: whole batches, and the rest when keep_last_batch."""
    t = train_config
    n = len(pipeline.split_images(t.dataset, "train", t.data_dir, t.split_seed, t.train_examples))
    return n // t.batch_size + int(bool(t.keep_last_batch and n % t.batch_size))


def fit_data(train_config, noise_dim: int, epochs: int = 0, first_epoch: int = 0):
    """(dataset, steps_per_epoch): the batches of epochs first_epoch, ..., epochs - 1 (0-based; epochs=0:
    train_config.epochs) as the trainer draws them, as dicts {'image', 'noise'}.

    `model.fit(dataset, epochs=epochs - first_epoch, steps_per_epoch=steps_per_epoch,
    callbacks=[KLWarmup(train_config.warmup_epochs)])` then trains what the trainer trains, step for
    step, when the model comes from build_model(config, seed=train_config.seed) (which also sets the
    global seed the epochs' shuffles read) and is compiled with the run's optimizer and jit_compile=False
    (with XLA, the default, the same steps round differently). Each epoch's pipeline is made when
    fit reaches it.
    """
    last = epochs or train_config.epochs
    if not 0 <= first_epoch < last:
        raise ValueError(f"first_epoch={first_epoch} and epochs={last}: need 0 <= first_epoch < epochs.")
    first = epoch_batches(train_config, noise_dim, first_epoch)

    def every_epoch():
        for epoch in range(first_epoch, last):
            for images, noise in (first if epoch == first_epoch else epoch_batches(train_config, noise_dim, epoch)):
                yield {"image": images, "noise": noise}

    images_spec, noise_spec = first.element_spec
    dataset = tf.data.Dataset.from_generator(every_epoch, output_signature={"image": images_spec, "noise": noise_spec})
    return dataset, steps_per_epoch(train_config)


def _gray_values(images):
    """uint8 (or other integer) gray pixels p -> p / 255 (the pipeline's 'grid' values); float images are taken to
    be in [0, 1]."""
    images = tf.convert_to_tensor(images)
    if images.dtype.is_integer:
        return pipeline._gray_to_values(images, "grid")  # pylint: disable=protected-access
    return tf.cast(images, tf.float32)


def dynamic_binarization(dataset: tf.data.Dataset, seed: int) -> tf.data.Dataset:
    """`dataset` with its gray images binarized by pipeline.binarize, a new draw every epoch (every
    iteration of the dataset), reproducible from `seed`.

    Elements may be images, tuples whose first element is the images ((image, label): the rest is
    kept), or dicts with 'image' (TFDS; the other keys are kept); images uint8 0..255 or float in
    [0, 1], batched or not. The result holds float32 {0, 1} images in the same structure.
    """
    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2, drop_remainder=True)

    def binarize_element(element, key):
        if isinstance(element, dict):
            if "image" not in element:
                raise ValueError(f"dynamic_binarization: the dataset's dicts have the keys {sorted(element)}; the "
                                 "images must be under 'image' (TFDS's name).")
            return {**element, "image": pipeline.binarize(_gray_values(element["image"]), key)}
        if isinstance(element, tuple):
            return (pipeline.binarize(_gray_values(element[0]), key),) + element[1:]
        return pipeline.binarize(_gray_values(element), key)

    return tf.data.Dataset.zip(dataset, keys).map(binarize_element)

