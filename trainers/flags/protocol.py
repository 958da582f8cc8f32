"""Training protocol: epochs, warm-up, early stopping, batches, the optimizer, the seed."""

from absl import flags

from trainers.flags._defaults import TRAIN
from vamp_tf import config as config_lib

EPOCHS = flags.DEFINE_integer("epochs", TRAIN.epochs, "Maximum number of epochs (early stopping may end sooner).")
WARMUP = flags.DEFINE_integer("warmup_epochs", TRAIN.warmup_epochs, "KL warm-up: beta = min(1, epoch / warmup_epochs).")
PATIENCE = flags.DEFINE_integer("early_stopping_patience", TRAIN.early_stopping_patience,
                                "Epochs without a better validation -ELBO, after the warm-up, before stopping.")
SELECT_AFTER_WARMUP = flags.DEFINE_bool(
    "select_after_warmup", TRAIN.select_after_warmup,
    "Choose the best (scored) checkpoint among the epochs at full KL weight only (epoch >= --warmup_epochs); "
    "default: any epoch, the warm-up's included, as the paper's code does.")
BATCH_SIZE = flags.DEFINE_integer("batch_size", TRAIN.batch_size, "Global batch size.")
LEARNING_RATE = flags.DEFINE_float("learning_rate", TRAIN.learning_rate, "Adam's learning rate.")
OPTIMIZER = flags.DEFINE_enum("optimizer", TRAIN.optimizer, list(config_lib.OPTIMIZERS),
                              "adam. Replication only: adam_normgrad (gradients normalised per variable, as the paper's "
                              "code trains) and adam_normgrad_code (per tensor of the code, its epsilon 1e-8).")
BETA = flags.DEFINE_float("beta", TRAIN.beta, "The final KL weight: train D + beta R, the warm-up ramping to beta (1: the "
                          "ELBO, the paper's; other values place a run elsewhere on the rate-distortion plane).")
SEED = flags.DEFINE_integer("seed", TRAIN.seed, "Seeds the weights, the data order, the binarization and the noise.")
DIVERGENCE_FACTOR = flags.DEFINE_float(
    "divergence_factor", TRAIN.divergence_factor,
    "Stop when an epoch's train -ELBO exceeds this many times the best so far (0: never stop).")
