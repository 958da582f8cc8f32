"""Reading the datasets' canonical files from a local directory, with content checks.

Every array read is checked against the sha256 of its canonical contents (see
catalog.DATASETS[...].digests), so a truncated, corrupted or different file gives a
DataError naming the file and how to replace it, never silently different data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zipfile
from typing import Optional

import numpy as np

from vamp_tf.datasets.catalog import DatasetInfo
from vamp_tf.datasets.errors import DataError

# Where files may sit inside a data directory (the shared layout keeps the IDX files in
# mnist_idx/).
SUBDIRECTORIES = ("", "mnist_idx", "mnist", "binarized_mnist", "frey_faces", "caltech101_silhouettes")


def find_file(data_dir: str, filename: str, subdirectories=SUBDIRECTORIES) -> Optional[str]:
    for sub in subdirectories:
        path = os.path.join(data_dir, sub, filename)
        if os.path.isfile(path):
            return path
    return None


def _unreadable(path: str, info: DatasetInfo, reason: str) -> DataError:
    return DataError(
        f"could not read {path}: {reason}\n"
        f"  it is truncated, corrupted or not the canonical file of {info.name}.\n"
        f"  to fix: replace it with a fresh copy from {info.urls[0]}, or delete it to let TFDS download {info.name}.")


def _check_digest(array: np.ndarray, expected: str, path: str, info: DatasetInfo) -> np.ndarray:
    got = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
    if got != expected:
        raise _unreadable(path, info, f"content checksum mismatch (sha256 {got[:12]}..., expected {expected[:12]}...)")
    return array


def _read_npz(path: str, keys, info: DatasetInfo) -> dict:
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise _unreadable(path, info, f"missing arrays {missing} (has {f.files})")
            return {k: f[k] for k in keys}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise _unreadable(path, info, f"{type(e).__name__}: {e}") from e


def _read_idx_images(path: str, info: DatasetInfo) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise _unreadable(path, info, f"{type(e).__name__}: {e}") from e
    if len(data) < 16 or int.from_bytes(data[:4], "big") != 2051:
        raise _unreadable(path, info, "not an IDX3 image file (bad magic number)")
    n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    if len(data) != 16 + n * rows * cols:
        raise _unreadable(path, info, f"header says {n}x{rows}x{cols} images but the payload has {len(data) - 16} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, rows, cols)


def _read_amat(path: str, info: DatasetInfo) -> np.ndarray:
    try:
        with open(path, "rb") as f:
            values = np.array(f.read().split(), dtype=np.uint8)
    except (OSError, ValueError) as e:
        raise _unreadable(path, info, f"{type(e).__name__}: {e}") from e
    if values.size % 784:
        raise _unreadable(path, info, f"{values.size} values is not a whole number of 784-pixel rows")
    return values.reshape(-1, 784)


def _read_mat(path: str, key: str, info: DatasetInfo) -> np.ndarray:
    import scipy.io  # pylint: disable=import-outside-toplevel
    try:
        return scipy.io.loadmat(path)[key]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise _unreadable(path, info, f"{type(e).__name__}: {e}") from e


def _mnist(paths, info):
    if paths[0].endswith(".npz"):
        arrays = _read_npz(paths[0], ("x_train", "x_test"), info)
        x_train, x_test = arrays["x_train"], arrays["x_test"]
        where = (paths[0], paths[0])
    else:
        x_train, x_test = (_read_idx_images(p, info) for p in paths)
        where = paths
    x_train = _check_digest(x_train, info.digests["x_train"], where[0], info)
    x_test = _check_digest(x_test, info.digests["x_test"], where[1], info)
    return _mnist_splits(x_train, x_test)


def _mnist_splits(train, test) -> dict:
    """MNIST's 60,000 training rows as train (the first 50,000) and validation (the last 10,000),
    as the paper's code splits them; images and labels alike."""
    return {"train": train[:50000], "validation": train[50000:], "test": test}


def _fashion_mnist(paths, info):
    """The 60,000 training and 10,000 test images; the validation split is held out later (split_method)."""
    x_train, x_test = (_read_idx_images(p, info) for p in paths)
    return {"train": _check_digest(x_train, info.digests["x_train"], paths[0], info),
            "test": _check_digest(x_test, info.digests["x_test"], paths[1], info)}


def _binarized_mnist(paths, info):
    out = {}
    for split, path in zip(("train", "validation", "test"), paths):
        x = _read_npz(path, ("x",), info)["x"] if path.endswith(".npz") else _read_amat(path, info)
        x = _check_digest(np.ascontiguousarray(x, dtype=np.uint8).reshape(-1, 784), info.digests[split], path, info)
        out[split] = x.reshape(-1, 28, 28)
    return out


def _frey_faces(paths, info):
    ff = _check_digest(_read_mat(paths[0], "ff", info), info.digests["ff"], paths[0], info)
    return {"all": ff.T.reshape(-1, 28, 20)}


def caltech_images(x: np.ndarray) -> np.ndarray:
    """Rows of caltech101_silhouettes_28.mat (column-major 28 x 28, 0 = object) -> upright
    uint8 images with 1 = object, as the paper's reference code reads them (1 - x, Fortran order)."""
    return (1 - np.asarray(x, np.uint8).reshape(-1, 28, 28).transpose(0, 2, 1)).astype(np.uint8)


def _caltech101_silhouettes(paths, info):
    x = _check_digest(np.ascontiguousarray(_read_mat(paths[0], "X", info)), info.digests["X"], paths[0], info)
    return {"all": caltech_images(x)}


# The file format of each dataset's canonical files (the one place a name picks a reader).
_READERS = {"mnist": _mnist, "binarized_mnist": _binarized_mnist, "frey_faces": _frey_faces,
            "caltech101_silhouettes": _caltech101_silhouettes, "fashion_mnist": _fashion_mnist}


def _mnist_labels(data_dir: str) -> Optional[dict]:
    """MNIST's digit labels by split, in the order of _mnist's images, from mnist.npz (y_train,
    y_test) or the IDX label files; None when neither is there."""
    path = find_file(data_dir, "mnist.npz")
    if path is not None:
        with np.load(path) as f:
            if "y_train" in f and "y_test" in f:
                return _mnist_splits(f["y_train"], f["y_test"])
    paths = [find_file(data_dir, n) for n in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]
    if not all(paths):
        return None
    return _mnist_splits(*(np.frombuffer(gzip.open(p).read(), np.uint8, offset=8) for p in paths))


# Datasets whose local files carry class labels (for figures only: no model uses them).
_LABEL_READERS = {"mnist": _mnist_labels}


def read_labels(info: DatasetInfo, data_dir: str) -> Optional[dict]:
    """uint8 class labels by split, aligned with `read`'s images, or None (no labels in the files)."""
    reader = _LABEL_READERS.get(info.name)
    return reader(data_dir) if reader is not None else None


def read(info: DatasetInfo, data_dir: str) -> Optional[dict]:
    """Arrays of uint8 images [N, height, width] by split ('all' for the datasets whose
    split_method is 'seeded', 'train' and 'test' for 'shuffled_holdout': they are split later with a
    seed), or None if the directory
    holds no complete set of files."""
    for alternative in info.local_files:
        paths = [find_file(data_dir, name, info.subdirectories or SUBDIRECTORIES) for name in alternative]
        if all(paths):
            return _READERS[info.name](paths, info)
    return None


def looked_for(info: DatasetInfo) -> str:
    return " or ".join("{" + ", ".join(alt) + "}" for alt in info.local_files)
