"""Reading datasets through tensorflow-datasets (downloads when a network is there).

Offline, TFDS retries each download for minutes and leaves temporary files behind; here
the download hosts are resolved first, so a machine without a network gets a DataError
at once, and whatever a failed attempt wrote into the TFDS directory is removed.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Optional

import numpy as np

from vamp_tf.datasets.catalog import DatasetInfo
from vamp_tf.datasets.errors import DataError

def default_dir() -> str:
    return os.environ.get("TFDS_DATA_DIR") or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")


def network_problem(hosts) -> Optional[str]:
    """None if every host resolves, else a one-line reason."""
    for host in hosts:
        try:
            socket.getaddrinfo(host, 443)
        except OSError as e:
            return f"cannot resolve {host} ({e})"
    return None


def _snapshot(root: str) -> set:
    if not os.path.isdir(root):
        return set()
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        out.update(os.path.join(dirpath, n) for n in dirnames + filenames)
    return out


def _remove_new(root: str, before: set, root_existed: bool) -> None:
    """Deletes what appeared under root since `before` (a failed download's leftovers)."""
    if not root_existed:
        shutil.rmtree(root, ignore_errors=True)
        return
    for path in sorted(_snapshot(root) - before, key=len, reverse=True):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.remove(path)


def _to_arrays(info: DatasetInfo, tfds_data: dict) -> dict:
    """uint8 images by split, laid out as local.read lays them out (info.split_method).

    TFDS stores examples in a hashed order: vamp_tf's own builders store each image's index
    in its file, which puts them back in file order; MNIST keeps TFDS's order (its
    evaluation images are binarized by content, so the scored images do not depend on it)."""
    images = {}
    for split, features in tfds_data.items():
        x = np.asarray(features["image"])[..., 0]
        if "index" in features:
            x = x[np.argsort(np.asarray(features["index"]), kind="stable")]
        images[split] = x
    if info.split_method == "seeded":
        return {"all": np.concatenate([images[s] for s in info.tfds_splits])}
    if info.split_method == "shuffled_holdout":  # held out later, with a seed (pipeline.split_images)
        return {"train": images["train"], "test": images["test"]}
    if info.split_method == "holdout":
        n_train = info.split_sizes["train"]
        return {"train": images["train"][:n_train], "validation": images["train"][n_train:], "test": images["test"]}
    return images


def read(info: DatasetInfo, tfds_data_dir: Optional[str], download: bool) -> dict:
    """uint8 arrays by split, like local.read; raises DataError with the reason."""
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    if info.custom_builder:
        from vamp_tf.datasets import builders  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import

    root = tfds_data_dir or default_dir()
    builder = tfds.builder(info.tfds_name, data_dir=root)
    if not builder.is_prepared():
        if not download:
            raise DataError(f"TFDS has not prepared {info.tfds_name} in {root} and downloading is off")
        problem = network_problem(info.download_hosts)
        if problem:
            raise DataError(f"TFDS cannot download {info.tfds_name}: {problem}")
        root_existed, before = os.path.isdir(root), _snapshot(root)
        try:
            builder.download_and_prepare()
        except Exception as e:  # any failure: leave no half-written state behind
            _remove_new(root, before, root_existed)
            raise DataError(f"TFDS failed to download/prepare {info.tfds_name} into {root}: "
                            f"{type(e).__name__}: {str(e).splitlines()[0][:300]}") from e
    data = {s: tfds.as_numpy(builder.as_dataset(split=s, batch_size=-1)) for s in info.tfds_splits}
    return _to_arrays(info, data)
