"""Replication of the paper's code: switches that make a run do what jmtomczak/vae_vampprior does where it
differs from vamp_tf, for the parity runs (docs/paper_code_referee.md). Every default is vamp_tf's
own; --probability_clamp also changes the reported test log-likelihood (the run's log and record say so)."""

from absl import flags

from trainers.flags._defaults import MODEL, TRAIN
from vamp_tf import config as config_lib

INITIALIZATION = flags.DEFINE_enum(
    "initialization", MODEL.initialization, list(config_lib.INITIALIZATIONS),
    "he_normal: every kernel He-normal, zero biases (vamp_tf's); reference: the paper's code's (He-normal dense "
    "kernels, PyTorch's uniform defaults for convolutions and biases; the PixelHVAE flagfiles use it).")
PROBABILITY_CLAMP = flags.DEFINE_float(
    "probability_clamp", MODEL.probability_clamp,
    "0: the exact likelihood (default); c in (0, 0.5): keep each pixel's probability off zero in training and "
    "evaluation as the paper's code does: a Bernoulli's clamped to [c, 1 - c] (the code: 1e-5), a discretized "
    "logistic's bin probability P scored as P + c (the code: 1e-7). Changes the reported score.")
GRAY_VALUES = flags.DEFINE_enum(
    "gray_values", TRAIN.gray_values, list(config_lib.GRAY_VALUES),
    "How a 256-level gray pixel p is fed to the model: grid, p / 255 (default), or bin_centres, (p + 0.5) / 256 "
    "as the paper's code feeds Frey Faces (the same bins of the likelihood).")
KEEP_LAST_BATCH = flags.DEFINE_bool(
    "keep_last_batch", TRAIN.keep_last_batch,
    "Train on each epoch's last, smaller batch too (its loss the mean over its images), as the paper's code "
    "does (16 steps an epoch on Frey Faces, the last of 65 images); default: whole batches only.")
BN_MOMENTUM = flags.DEFINE_float(
    "batch_norm_momentum", MODEL.batch_norm_momentum,
    "The PixelCNN decoder's batch normalisation momentum (Keras' convention; the paper's code's 0.9, i.e. "
    "PyTorch's 0.1). Runs made before this flag existed used 0.99.")
BN_EPSILON = flags.DEFINE_float("batch_norm_epsilon", MODEL.batch_norm_epsilon,
                                "The PixelCNN decoder's batch normalisation epsilon (the paper's code's 1e-5; "
                                "runs made before this flag existed used 1e-3).")
