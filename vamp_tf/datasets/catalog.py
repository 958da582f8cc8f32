"""What each dataset is: shapes, splits, likelihood, canonical files and their checksums."""

from __future__ import annotations

import dataclasses
from typing import Optional

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
    split_method: how the canonical arrays become train / validation / test:
      'given' (the files hold the three splits), 'holdout' (the last
      split_sizes['validation'] training images are the validation split), 'shuffled_holdout'
      (split_sizes['validation'] training images chosen by a shuffle seeded with split_seed are the
      validation split, as Exemplar VAE's loader holds them out), or 'seeded' (one pool of images,
      split by a shuffle seeded with split_seed).
    subdirectories: where inside a data directory its files may sit (None: the shared layout's
      common places, local.SUBDIRECTORIES).
    tfds_splits: the TFDS splits read (for 'seeded', their union is the pool).
    download_hosts: the hosts TFDS downloads from (resolved first, to fail fast offline).
    custom_builder: the TFDS builder is vamp_tf's own (vamp_tf.datasets.builders), not
      one of TFDS's catalogue.
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
    split_method: str
    tfds_splits: tuple[str, ...]
    download_hosts: tuple[str, ...]
    custom_builder: bool = False
    subdirectories: Optional[tuple[str, ...]] = None


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
        digests=_MNIST_DIGESTS, split_method="holdout", tfds_splits=("train", "test"),
        download_hosts=("storage.googleapis.com",)),
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
                 "test": "ca0294c3b8d984c7a1dc891015a8eea6f37bae59a34e35ea0fc8c47110a8dd86"},
        split_method="given", tfds_splits=("train", "validation", "test"),
        download_hosts=("www.cs.toronto.edu",)),
    "frey_faces": DatasetInfo(
        name="frey_faces", image_shape=(28, 20, 1), likelihood="discretized_logistic", binarization="none",
        split_sizes={"train": 1565, "validation": 200, "test": 200},
        local_files=(("frey_rawface.mat",),),
        tfds_name="frey_faces",
        urls=("https://cs.nyu.edu/~roweis/data/frey_rawface.mat",),
        digests={"ff": "fbd70c2c992104024a20f4d253da1a1132eb6bf8ed142dccbe7d2b1743b705c4"},
        split_method="seeded", tfds_splits=("train",), download_hosts=("cs.nyu.edu",), custom_builder=True),
    # The full, unsplit file (8,671 silhouettes of 101 classes). The paper used Marlin's
    # split1 file (4,100 / 2,264 / 2,307), which is not available here: this is a seeded
    # split of the same sizes, so numbers are comparable with the paper's only in kind.
    "caltech101_silhouettes": DatasetInfo(
        name="caltech101_silhouettes", image_shape=(28, 28, 1), likelihood="bernoulli", binarization="static",
        split_sizes={"train": 4100, "validation": 2264, "test": 2307},
        local_files=(("caltech101_silhouettes_28.mat",),),
        tfds_name="caltech101_silhouettes",
        urls=("https://people.cs.umass.edu/~marlin/data/caltech101_silhouettes_28.mat",),
        digests={"X": "2414994d9887273c201063dc3c71351f966460b3eec0a79be3d02fe05c6f935c"},
        split_method="seeded", tfds_splits=("train",), download_hosts=("people.cs.umass.edu",),
        custom_builder=True),
    # Not in the paper: Exemplar VAE (Norouzi et al., NeurIPS 2020) reports VampPrior numbers on it. Its loader
    # holds out 10,000 randomly chosen training images for validation and binarizes the validation and test
    # images once, training images every epoch: so does this one (the choice seeded by split_seed). Its IDX files
    # have MNIST's names, so they are looked for in their own folders only.
    "fashion_mnist": DatasetInfo(
        name="fashion_mnist", image_shape=(28, 28, 1), likelihood="bernoulli", binarization="dynamic",
        split_sizes={"train": 50000, "validation": 10000, "test": 10000},
        local_files=(("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"),),
        tfds_name="fashion_mnist",
        urls=("https://github.com/zalandoresearch/fashion-mnist (data/fashion: the four IDX .gz files)",),
        digests={"x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
                 "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a"},
        split_method="shuffled_holdout", tfds_splits=("train", "test"),
        download_hosts=("fashion-mnist.s3-website.eu-central-1.amazonaws.com",),
        subdirectories=("fashion_mnist_idx", "fashion_mnist")),
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
