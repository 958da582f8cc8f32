"""Datasets of the VampPrior experiments as tf.data pipelines (see pipeline.load).

Importing this package registers the Frey Faces TFDS builder, so that
`tfds.load("frey_faces")` works.
"""

from vamp_tf.datasets import frey_faces  # noqa: F401  (registers the TFDS builder)
from vamp_tf.datasets.catalog import DATASETS, SPLITS, DatasetInfo, info
from vamp_tf.datasets.errors import DataError
from vamp_tf.datasets.pipeline import ENV_DATA_DIR, PREFETCH_BATCHES, examples, load, load_arrays, mix_seeds, split_images

__all__ = ["DATASETS", "SPLITS", "DatasetInfo", "DataError", "ENV_DATA_DIR", "PREFETCH_BATCHES", "examples", "info",
           "load", "load_arrays", "mix_seeds", "split_images"]
