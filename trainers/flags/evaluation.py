"""Evaluation: validation cadence and the importance-sampled test log-likelihood."""

from absl import flags

from trainers.flags._defaults import TRAIN

EVAL_SAMPLES = flags.DEFINE_integer("eval_samples", TRAIN.eval_samples,
                                    "Importance samples S per test image for the log-likelihood (the paper: 5000).")
EVAL_BATCH_SIZE = flags.DEFINE_integer("eval_batch_size", TRAIN.eval_batch_size,
                                       "Test images per importance-sampling step (memory: this x 500 samples).")
EVAL_EVERY = flags.DEFINE_integer("eval_every", TRAIN.eval_every, "Validate every N epochs.")
