"""What each dataset is: shapes, splits, likelihood, canonical files and their checksums."""

from __future__ import annotations

import dataclasses

from vamp_tf.datasets.errors import DataError


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """name: as given to `load`; image_shape: (height, width, channels);
    likelihood: the matching image likelihood; binarization: 'dynamic' (train images
    re-binarized every epoch, evaluation splits once with a fixed seed), 'static' (the
    files are binary) or 'none' (gray, 256 levels); split_sizes: train/validation/test;
    local_files: the canonical files looked for in a data directory, as alternatives
    (each a tuple of file names that together make the dataset); tfds_name: the TFDS
    builder; urls: where the canonical files live; digests: sha256 of array contents
    (C-order bytes) of the canonical arrays, by array name.
    """

    name: str
    image_shape: tuple[int, int, int]
    likelihood: str
    binarization: str
    split_sizes: dict
    local_files: tuple[tuple[str, ...], ...]
    tfds_name: str
    urls: tuple[str, ...]
    digests: dict


_MNIST_DIGESTS = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
}

DATASETS = {
    "mnist": DatasetInfo(
        name="mnist", image_shape=(28, 28, 1), likelihood="bernoulli", binarization="dynamic",
        split_sizes={"train": 50000, "validation": 10000, "test": 10000},
        local_files=(("mnist.npz",),
                     ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")),
        tfds_name="mnist",
        urls=("http://yann.lecun.com/exdb/mnist/ (the four IDX .gz files)",
              "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"),
        digests=_MNIST_DIGESTS),
    "binarized_mnist": DatasetInfo(
        name="binarized_mnist", image_shape=(28, 28, 1), likelihood="bernoulli", binarization="static",
        split_sizes={"train": 50000, "validation": 10000, "test": 10000},
        local_files=(("binarized_mnist_train.npz", "binarized_mnist_valid.npz", "binarized_mnist_test.npz"),
                     ("binarized_mnist_train.amat", "binarized_mnist_valid.amat", "binarized_mnist_test.amat")),
        tfds_name="binarized_mnist",
        urls=("http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
              "binarized_mnist_{train,valid,test}.amat",),
        digests={"train": "43490d4d6ac9002727af4426d8748609fdb7e4094fa65ad8d681ea60082a7a5a",
                 "validation": "069b4f0beb389b776478c3e872b4df71c95ac4be64d7cbe6d32e24ebac8e6d5e",
                 "test": "ca0294c3b8d984c7a1dc891015a8eea6f37bae59a34e35ea0fc8c47110a8dd86"}),
    "frey_faces": DatasetInfo(
        name="frey_faces", image_shape=(28, 20, 1), likelihood="discretized_logistic", binarization="none",
        split_sizes={"train": 1565, "validation": 200, "test": 200},
        local_files=(("frey_rawface.mat",),),
        tfds_name="frey_faces",
        urls=("https://cs.nyu.edu/~roweis/data/frey_rawface.mat",),
        digests={"ff": "fbd70c2c992104024a20f4d253da1a1132eb6bf8ed142dccbe7d2b1743b705c4"}),
}

SPLITS = ("train", "validation", "test")


def info(name: str) -> DatasetInfo:
    """The DatasetInfo of `name`; ValueError naming the known datasets otherwise."""
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is not supported; allowed: {', '.join(DATASETS)}.")
    return DATASETS[name]


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not supported; allowed: {', '.join(SPLITS)}.")


__all__ = ["DATASETS", "DatasetInfo", "DataError", "SPLITS", "info", "check_split"]
