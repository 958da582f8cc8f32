"""System: numeric precision, devices and threads (how a run computes, not what it learns)."""

from absl import flags

from trainers.flags._defaults import TRAIN
from vamp_tf import config as config_lib

PRECISION = flags.DEFINE_enum(
    "precision", TRAIN.precision, list(config_lib.PRECISIONS),
    "float32, or mixed_bfloat16 / mixed_float16 for the networks' training math (variables, densities and "
    "every evaluation stay float32), or auto: mixed_bfloat16 on a GPU or a CPU with avx512_bf16 / amx_bf16, "
    "float32 where bfloat16 would be emulated (the log names the choice). See BUILD.md for when each pays off.")
STRATEGY = flags.DEFINE_enum("strategy", TRAIN.strategy, list(config_lib.STRATEGIES),
                             "default: one device; mirrored: all local GPUs (or logical CPUs); "
                             "multi_worker: MultiWorkerMirroredStrategy from TF_CONFIG.")
INTRA_OP_THREADS = flags.DEFINE_integer(
    "intra_op_threads", 0, "Threads per TensorFlow op (0: TensorFlow's default, all cores). Set 1 to run "
    "several trainings side by side. A runtime setting: not part of the run's config.")
