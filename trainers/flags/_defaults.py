"""The defaults every flag group shows: the configs' own (vamp_tf.config)."""

from vamp_tf import config as config_lib

MODEL = config_lib.ModelConfig()
TRAIN = config_lib.TrainConfig()
