"""Datasets of the VampPrior experiments as tf.data pipelines (see pipeline.load).

Importing this package changes no global state. vamp_tf's own TFDS builders (Frey Faces,
Caltech 101 Silhouettes) are registered when a dataset is first read through TFDS, or
by `import vamp_tf.datasets.builders`, after which `tfds.load("frey_faces")` works.
"""

from vamp_tf.datasets.catalog import DATASETS, SPLITS, DatasetInfo, info
from vamp_tf.datasets.errors import DataError
from vamp_tf.datasets.pipeline import (ENV_DATA_DIR, PREFETCH_BATCHES, binarize, evaluation_images, examples,
                                       in_memory, labels, load, load_arrays, mix_seeds, split_images)
from vamp_tf.datasets.training import dynamic_binarization, epoch_batches, fit_data, steps_per_epoch

__all__ = ["DATASETS", "SPLITS", "DatasetInfo", "DataError", "ENV_DATA_DIR", "PREFETCH_BATCHES", "binarize",
           "dynamic_binarization", "epoch_batches", "evaluation_images", "examples", "fit_data", "in_memory", "info",
           "labels", "load", "load_arrays", "mix_seeds", "split_images", "steps_per_epoch"]
