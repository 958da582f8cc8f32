"""Data: which dataset, where its files are, and how much of it a run uses."""

from absl import flags

from trainers.flags._defaults import TRAIN
from vamp_tf.datasets import catalog

DATASET = flags.DEFINE_enum("dataset", TRAIN.dataset, list(catalog.DATASETS),
                            "mnist: dynamically binarized; binarized_mnist: the static binarization; "
                            "frey_faces: 256-level gray; caltech101_silhouettes: binary silhouettes; fashion_mnist: Fashion-MNIST, "
                            "dynamically binarized (not in the paper; Exemplar VAE's validation split).")
DATA_DIR = flags.DEFINE_string("data_dir", None, "Directory with the canonical data files "
                               "(default: $VAMP_TF_DATA_DIR, then ../shared/data; else TFDS downloads).")
SPLIT_SEED = flags.DEFINE_integer("split_seed", TRAIN.split_seed,
                                  "Seed of the split of unsplit datasets (Frey Faces, Caltech 101).")
TRAIN_EXAMPLES = flags.DEFINE_integer("train_examples", TRAIN.train_examples,
                                      "Use only this many training images (0: all).")
TEST_EXAMPLES = flags.DEFINE_integer("test_examples", TRAIN.test_examples,
                                     "Use only this many validation and test images, evenly spaced (0: all).")
