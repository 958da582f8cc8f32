"""Trained models shipped with vamp_tf, each tied to the recorded run it was trained in.

    import vamp_tf
    vamp_tf.presets.names()                       # ['fashion_mnist_vamp', 'mnist_hvae_vamp', ...]
    model = vamp_tf.presets.load("mnist_vamp")    # the Keras model: sample, score, fine-tune
    images = model.sample(16, seed=0)             # drawn images; model.mean_images(16) their means E[x | z]
    vamp_tf.presets.info("mnist_vamp")            # dataset, model, prior, its record and test log-likelihood...

Each preset is a Keras `.keras` file in this folder (the model without optimizer state,
deflated) and an entry of manifest.json: what the model is, the record it belongs to
(experiments/results/RECORD.json in the repository), the record's test log-likelihood and
the S, seed and batch size it was scored with, the first test images' per-image scores,
and the file's SHA-256 and size. `load` checks the file's digest before Keras reads it: a
damaged or altered file raises PresetDamaged, never loads. `score` re-scores a preset on
its test set with the record's S and seeds (tools/presets.py prints it beside the record).
Nothing here downloads: the files are in the package (a checkout, or `pip install .`).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Optional

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "manifest.json")

# What info() always holds (tools/presets.py writes them; a test checks every entry).
REQUIRED = ("dataset", "model", "prior", "record", "test_log_likelihood", "eval_samples", "sha256", "bytes")


class PresetDamaged(ValueError):
    """A preset's file is missing, or differs from the file that was shipped."""


def _manifest(manifest: Optional[str] = None) -> dict:
    with open(manifest or MANIFEST, encoding="utf-8") as f:
        return json.load(f)


def names(manifest: Optional[str] = None) -> list[str]:
    """The presets shipped, by name."""
    return sorted(_manifest(manifest))


def info(name: str, manifest: Optional[str] = None) -> dict:
    """A preset's description: dataset, model, prior, record, test_log_likelihood (nats, the record's mean over
    the test set), eval_samples (S), sha256, bytes, path, and the rest of its manifest entry (its config,
    the seed and batch size it was scored with, the first test images' per-image scores)."""
    entries = _manifest(manifest)
    if name not in entries:
        raise KeyError(f"no preset named {name!r}; the presets are {', '.join(sorted(entries)) or 'none'} "
                       "(vamp_tf.presets.names()).")
    entry = dict(entries[name])
    entry["name"] = name
    entry["path"] = os.path.join(os.path.dirname(os.path.abspath(manifest or MANIFEST)), entry["file"])
    return entry


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_path(name: str, manifest: Optional[str] = None) -> str:
    """The preset's file, once its SHA-256 is the one shipped; PresetDamaged otherwise."""
    entry = info(name, manifest)
    path = entry["path"]
    if not os.path.isfile(path):
        raise PresetDamaged(f"preset {name!r} has no file {path}: reinstall vamp_tf, or restore it in a checkout "
                            f"(git checkout -- {os.path.relpath(path, os.path.dirname(HERE))}).")
    actual = sha256(path)
    if actual != entry["sha256"]:
        raise PresetDamaged(f"{path} has SHA-256 {actual}, not the {entry['sha256']} shipped for preset {name!r}: "
                            "the file is damaged or altered, so it is not loaded; reinstall vamp_tf or restore it "
                            "(git checkout -- the file).")
    return path


def load(name: str, manifest: Optional[str] = None):
    """The preset's Keras model (vamp_tf.models.VAE or HVAE), its digest checked first (PresetDamaged)."""
    from vamp_tf import models  # pylint: disable=import-outside-toplevel
    return models.load_model(verified_path(name, manifest))


def test_images(name: str, num_images: Optional[int] = None, data_dir: Optional[str] = None,
                manifest: Optional[str] = None) -> np.ndarray:
    """The test images the preset's record was scored on (its dataset's test split, as its run read it), the
    first `num_images` of them (default all). data_dir: where the data files are (default: the run's rule,
    $VAMP_TF_DATA_DIR or TFDS)."""
    return _test_images(info(name, manifest), num_images, data_dir)


def _test_images(entry: dict, num_images: Optional[int], data_dir: Optional[str]) -> np.ndarray:
    import dataclasses  # pylint: disable=import-outside-toplevel
    from vamp_tf import datasets  # pylint: disable=import-outside-toplevel
    from vamp_tf.config import Config  # pylint: disable=import-outside-toplevel
    config = Config.from_dict(entry["config"])
    images = datasets.evaluation_images(dataclasses.replace(config.train, data_dir=data_dir), "test")
    return images if num_images is None else images[:num_images]


def score(name: str, num_images: Optional[int] = None, data_dir: Optional[str] = None, model=None,
          manifest: Optional[str] = None) -> np.ndarray:
    """Each test image's importance-sampled log-likelihood (float64 [N]) under the preset, with the record's
    S, seed and batch size: the first `num_images` test images (default all). An image's noise depends only
    on (seed, its index), so the first images score as they did in the full record."""
    return score_entry(info(name, manifest), num_images, data_dir,
                       model if model is not None else load(name, manifest))


def score_entry(entry: dict, num_images: Optional[int], data_dir: Optional[str], model) -> np.ndarray:
    """`score` of a manifest entry (its config, S, seed and batch size) and a model: what tools/presets.py
    checks a file with before its entry is written."""
    from vamp_tf import evaluation  # pylint: disable=import-outside-toplevel
    return evaluation.log_likelihood(model, _test_images(entry, num_images, data_dir), num_samples=entry["eval_samples"],
                                     seed=entry["seed"], batch_size=entry["eval_batch_size"])["per_image"]
