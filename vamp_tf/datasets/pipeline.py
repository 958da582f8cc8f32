"""tf.data input pipelines of float32 images in [0, 1], shape [batch, height, width, 1].

Sources, in order: a local data directory of canonical files (`data_dir`, default the
environment variable VAMP_TF_DATA_DIR, then ../shared/data beside the checkout), then
tensorflow-datasets. `in_memory(name, arrays)` gives a data_dir that reads arrays held by
this process instead (generated data for unit tests, or a user's own images in a dataset's
layout). Images are held in
memory (MNIST is 55 MB as uint8) and batches are gathered by index, so an epoch's
pipeline is ready in milliseconds and every random choice is a function of the seeds:

- the shuffle order of an epoch depends on (seed, epoch);
- dynamic binarization of training images uses stateless draws keyed by (seed, epoch,
  batch index), so a resumed run sees exactly the data an uninterrupted one would;
- validation and test images of dynamically binarized datasets are binarized once, each
  with a seed made from a fixed constant and the image's own bytes, so every run scores the
  same binary images whichever source (files or TFDS, whose order differs) they came from;
- Frey Faces (1565 / 200 / 200) and Caltech 101 Silhouettes (4100 / 2264 / 2307) are
  split by a shuffle seeded with `split_seed`;
- a 256-level gray pixel p is the value p / 255 (`gray_values='grid'`, the default), or the
  centre of its bin, (p + 0.5) / 256 (`'bin_centres'`, as the paper's code feeds Frey Faces);
  both fall in bin p of the discretized logistic (vamp_tf.distributions).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from typing import Optional

import numpy as np
import tensorflow as tf

from vamp_tf.config import GRAY_VALUES
from vamp_tf.datasets import catalog, local, tfds_source
from vamp_tf.datasets.errors import DataError

ENV_DATA_DIR = "VAMP_TF_DATA_DIR"
MEMORY_PREFIX = "memory:"  # data_dir of arrays registered by in_memory()
_MEMORY: dict = {}
EVAL_BINARIZATION_SEED = 777  # fixed forever: changing it changes every reported number
PREFETCH_BATCHES = 2


# Looked in last, relative to the working directory: the data directory beside a checkout
# of vamp_tf (the layout of this project's machines and CI), so the README's commands run
# as written from the checkout.
CHECKOUT_DATA_DIR = os.path.join("..", "shared", "data")


def resolve_data_dir(data_dir: Optional[str]) -> Optional[str]:
    """--data_dir, else $VAMP_TF_DATA_DIR, else ../shared/data if it exists, else None (TFDS)."""
    if data_dir or os.environ.get(ENV_DATA_DIR):
        return data_dir or os.environ.get(ENV_DATA_DIR)
    return os.path.abspath(CHECKOUT_DATA_DIR) if os.path.isdir(CHECKOUT_DATA_DIR) else None


def in_memory(name: str, arrays: dict) -> str:
    """Registers images for dataset `name` and returns the data_dir that reads them.

    arrays: uint8 images [N, height, width] by split, in the layout of the dataset's stored
      arrays: {'train', 'validation', 'test'}, or {'all'} for the datasets split by a seeded
      shuffle (Frey Faces, Caltech 101; 'all' then needs at least the sum of their split
      sizes). Binarization, splitting and batching are then those of the dataset.
    The data_dir ('memory:<name>:<digest>') is valid in this process only: a run trained from
    it resumes in this process, or with --data_dir pointing at files.
    """
    info = catalog.info(name)
    wanted = {"seeded": ("all",), "shuffled_holdout": ("train", "test")}.get(info.split_method,
                                                                           ("train", "validation", "test"))
    if sorted(arrays) != sorted(wanted):
        raise ValueError(f"arrays for {name!r} have splits {sorted(arrays)}; expected {list(wanted)}.")
    digest = hashlib.sha256()
    checked = {}
    for split in wanted:
        images = np.asarray(arrays[split])
        if images.dtype != np.uint8 or images.shape[1:] != info.image_shape[:2]:
            raise ValueError(f"arrays[{split!r}] has dtype {images.dtype} and shape {images.shape}; {name!r} needs "
                             f"uint8 images [N, {info.image_shape[0]}, {info.image_shape[1]}].")
        checked[split] = images
        digest.update(split.encode() + images.tobytes())
    if info.split_method == "seeded" and len(checked["all"]) < sum(info.split_sizes.values()):
        raise ValueError(f"arrays['all'] holds {len(checked['all'])} images; {name!r} is split into "
                         f"{info.split_sizes}, which needs {sum(info.split_sizes.values())}.")
    data_dir = f"{MEMORY_PREFIX}{name}:{digest.hexdigest()[:16]}"
    _MEMORY[data_dir] = checked
    return data_dir


@functools.lru_cache(maxsize=8)
def _load_arrays(name: str, data_dir: Optional[str], tfds_data_dir: Optional[str], download: bool) -> dict:
    info = catalog.info(name)
    if data_dir and data_dir.startswith(MEMORY_PREFIX):
        if data_dir not in _MEMORY or not data_dir.startswith(f"{MEMORY_PREFIX}{name}:"):
            raise DataError(f"data_dir={data_dir!r} names images held in memory by another process or for another "
                            f"dataset than {name!r}: register them with datasets.in_memory({name!r}, arrays) in this "
                            "process, or pass the --data_dir of the files.")
        return _MEMORY[data_dir]
    if data_dir:
        arrays = local.read(info, data_dir)
        if arrays is not None:
            logging.info("%s: read canonical files from %s", name, data_dir)
            return arrays
    try:
        arrays = tfds_source.read(info, tfds_data_dir, download)
        logging.info("%s: read through TFDS", name)
        return arrays
    except DataError as e:
        reason = str(e)
    if not data_dir:
        where = f"(no data directory: --data_dir and ${ENV_DATA_DIR} are unset)"
    elif not os.path.isdir(data_dir):
        where = f"{data_dir} (which does not exist)"
    else:
        where = data_dir
    raise DataError(
        f"dataset {name!r} not found.\n"
        f"  looked for: {local.looked_for(info)}\n"
        f"  in: {where}\n"
        f"  TFDS: {reason}\n"
        f"  to get them: download {'; '.join(info.urls)} into a directory and pass --data_dir "
        f"(or set {ENV_DATA_DIR}), or run once with a network so TFDS downloads {info.tfds_name}.")


def load_arrays(name: str, data_dir: Optional[str] = None, tfds_data_dir: Optional[str] = None,
                download: bool = True) -> dict:
    """uint8 images [N, height, width] by split, as stored (see module docstring)."""
    return _load_arrays(name, resolve_data_dir(data_dir), tfds_data_dir, download)


def _stride_subset(images: np.ndarray, num_examples: int) -> np.ndarray:
    """num_examples images evenly spaced through the split (test files can be sorted by class)."""
    if not num_examples or num_examples >= len(images):
        return images
    return images[(np.arange(num_examples) * len(images)) // num_examples]


def split_images(name: str, split: str, data_dir: Optional[str] = None, split_seed: int = 0,
                 num_examples: int = 0, tfds_data_dir: Optional[str] = None, download: bool = True) -> np.ndarray:
    """The uint8 images [N, height, width, 1] of one split (before any binarization)."""
    info = catalog.info(name)
    catalog.check_split(split)
    arrays = load_arrays(name, data_dir, tfds_data_dir, download)
    if info.split_method == "seeded":  # one pool of images, split by a seeded shuffle
        order = np.random.default_rng(split_seed).permutation(len(arrays["all"]))
        sizes = info.split_sizes
        start = {"train": 0, "validation": sizes["train"], "test": sizes["train"] + sizes["validation"]}[split]
        images = arrays["all"][np.sort(order[start:start + sizes[split]])]
    elif info.split_method == "shuffled_holdout" and split != "test":  # validation: seeded choice of train images
        order = np.random.default_rng(split_seed).permutation(len(arrays["train"]))
        n = info.split_sizes["train"]
        images = arrays["train"][np.sort(order[:n] if split == "train" else order[n:])]
    else:
        images = arrays[split]
    return _stride_subset(images, num_examples)[..., np.newaxis]


def labels(name: str, split: str, data_dir: Optional[str] = None, num_examples: int = 0) -> Optional[np.ndarray]:
    """The class labels [N] of a split, aligned with `examples(name, split, data_dir, num_examples=...)`,
    when the dataset's local files carry them (MNIST); None otherwise (no labels, data held in memory
    or read through TFDS). Used for figures only."""
    info = catalog.info(name)
    catalog.check_split(split)
    directory = resolve_data_dir(data_dir)
    if directory is None or directory.startswith(MEMORY_PREFIX) or not os.path.isdir(directory):
        return None
    by_split = local.read_labels(info, directory)
    return None if by_split is None else _stride_subset(by_split[split], num_examples)


@functools.lru_cache(maxsize=16)
def _fixed_binarization(name, split, data_dir, split_seed, num_examples, tfds_data_dir, download):
    gray = split_images(name, split, data_dir, split_seed, num_examples, tfds_data_dir, download)
    out = np.empty_like(gray)
    for i, image in enumerate(gray):
        key = int.from_bytes(hashlib.sha256(image.tobytes()).digest()[:8], "little")
        uniform = np.random.default_rng([EVAL_BINARIZATION_SEED, key]).random(image.shape, dtype=np.float32)
        out[i] = uniform < image / np.float32(255.0)
    return out


def mix_seeds(*values: int) -> int:
    """A 63-bit seed from several integers (numpy SeedSequence mixing)."""
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def check_gray_values(name: str, gray_values: str) -> None:
    """ValueError unless `gray_values` is one of GRAY_VALUES and, if not 'grid', `name` is gray."""
    if gray_values not in GRAY_VALUES:
        raise ValueError(f"gray_values={gray_values!r} is not supported; allowed: {', '.join(GRAY_VALUES)}.")
    if gray_values != "grid" and catalog.info(name).binarization != "none":
        gray = [d.name for d in catalog.DATASETS.values() if d.binarization == "none"]
        raise ValueError(f"gray_values={gray_values!r} places the pixels of a 256-level gray dataset "
                         f"({', '.join(gray)}); {name} is binary: drop --gray_values (or pass grid).")


def _gray_to_values(images, gray_values: str):
    """uint8 gray pixels (a numpy array or a tensor) -> float32 values in [0, 1]."""
    x = images.astype(np.float32) if isinstance(images, np.ndarray) else tf.cast(images, tf.float32)
    return (x + np.float32(0.5)) / np.float32(256.0) if gray_values == "bin_centres" else x / np.float32(255.0)


def binarize(images, key):
    """Dynamic binarization: each pixel 1 with probability its gray value. images: float [..., H, W, C]
    in [0, 1]; key: a shape [2] int stateless seed. Returns float32 {0, 1} of the same shape."""
    return tf.cast(tf.random.stateless_uniform(tf.shape(images), seed=key) < images, tf.float32)


def examples(name: str, split: str, data_dir: Optional[str] = None, split_seed: int = 0,
             num_examples: int = 0, tfds_data_dir: Optional[str] = None, download: bool = True,
             gray_values: str = "grid", gray: bool = False) -> np.ndarray:
    """The float32 images [N, height, width, 1] in [0, 1] of a split as the model sees them: binary
    for a binary likelihood, in every split. A dynamically binarized dataset (MNIST, Fashion-MNIST)
    gives one fixed draw of each image (the draw its validation and test sets are scored on; training
    draws a new one every epoch, `load`); gray=True gives its gray images instead, p / 255.
    gray_values: see the module docstring."""
    info = catalog.info(name)
    check_gray_values(name, gray_values)
    args = (name, split, resolve_data_dir(data_dir), split_seed, num_examples, tfds_data_dir, download)
    if info.binarization == "dynamic" and not gray:
        return _fixed_binarization(*args).astype(np.float32)
    images = split_images(*args)
    return images.astype(np.float32) if info.binarization == "static" else _gray_to_values(images, gray_values)


def load(name: str, split: str, batch_size: int, seed: int = 0, epoch: int = 0,
         data_dir: Optional[str] = None, shuffle: Optional[bool] = None, num_examples: int = 0,
         split_seed: int = 0, drop_remainder: bool = False, tfds_data_dir: Optional[str] = None,
         download: bool = True, gray_values: str = "grid") -> tf.data.Dataset:
    """A tf.data.Dataset of float32 image batches [batch, height, width, 1] in [0, 1].

    name: 'mnist' (dynamic binarization), 'binarized_mnist' (static), 'frey_faces' (gray)
      or 'caltech101_silhouettes' (binary); see catalog.DATASETS.
    split: 'train', 'validation' or 'test'.
    seed, epoch: decide the shuffle order and the dynamic binarization of this epoch.
    shuffle: default True for 'train', False otherwise (evaluation order is fixed).
    num_examples: use only this many images, evenly spaced through the split (0 = all).
    split_seed: the seed of the split of datasets distributed unsplit (Frey Faces, Caltech).
    drop_remainder: drop the last batch of the epoch when it is smaller than batch_size.
    gray_values: how a gray pixel p becomes a value: 'grid' p / 255, 'bin_centres' (p + 0.5) / 256.
    Raises DataError if the data cannot be found or read, ValueError for unknown names.
    """
    info = catalog.info(name)
    catalog.check_split(split)
    check_gray_values(name, gray_values)
    if isinstance(batch_size, bool) or int(batch_size) < 1:
        raise ValueError(f"batch_size={batch_size!r} is invalid; it must be >= 1.")
    shuffle = (split == "train") if shuffle is None else shuffle
    dynamic = info.binarization == "dynamic" and split == "train"
    args = (name, split, resolve_data_dir(data_dir), split_seed, num_examples, tfds_data_dir, download)
    if dynamic:
        stored = split_images(*args)                     # uint8 gray, binarized per batch below
    elif info.binarization == "dynamic":
        stored = _fixed_binarization(*args)              # uint8 {0, 1}
    else:
        stored = split_images(*args)                     # uint8 {0, 1} or 0..255
    binary = info.binarization == "static" or (info.binarization == "dynamic" and not dynamic)
    images = tf.constant(stored)
    n = len(stored)
    if drop_remainder and n < batch_size:
        raise ValueError(f"{name}/{split} has {n} images, fewer than batch_size={batch_size}; "
                         "lower --batch_size or raise --train_examples.")
    epoch_seed = mix_seeds(seed, epoch)
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(n, seed=epoch_seed, reshuffle_each_iteration=False)
    batches = indices.batch(batch_size, drop_remainder=drop_remainder).enumerate()
    binarize_key = tf.constant([epoch_seed & 0x7FFFFFFF, (epoch_seed >> 31) & 0x7FFFFFFF], tf.int64)

    def gather(batch_index, idx):
        x = tf.gather(images, idx)
        x = tf.cast(x, tf.float32) if binary else _gray_to_values(x, gray_values)
        if dynamic:
            x = binarize(x, tf.stack([binarize_key[0], binarize_key[1] + batch_index]))
        return x

    # Fixed parallelism: tf.data's AUTOTUNE competed with training for this machine's two
    # cores and stalled whole epochs (+10 s of 20) at random; a batch costs ~0.5 ms anyway.
    options = tf.data.Options()
    options.autotune.enabled = False
    options.deterministic = True
    return batches.map(gather).prefetch(PREFETCH_BATCHES).with_options(options)


def evaluation_images(train_config, split: str) -> np.ndarray:
    """The validation or test images a run scores, float32 [N, H, W, C] in [0, 1]: the
    split of train_config.dataset, capped by train_config.test_examples (evenly spaced)."""
    t = train_config
    return examples(t.dataset, split, t.data_dir, t.split_seed, t.test_examples, gray_values=t.gray_values)
