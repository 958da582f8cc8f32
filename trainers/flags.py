"""The trainer's flags, and the Config they describe.

Defined here, not in trainers/main.py, so that other binaries of this repository (the
benchmarks) take the same flags and flagfiles; only binaries import this module. Library
code receives a Config.
"""

from absl import flags

from vamp_tf import config as config_lib
from vamp_tf.datasets import catalog

_DEFAULTS_MODEL = config_lib.ModelConfig()
_DEFAULTS_TRAIN = config_lib.TrainConfig()

_DATASET = flags.DEFINE_enum("dataset", "mnist", list(catalog.DATASETS),
                             "mnist: dynamically binarized; binarized_mnist: the static binarization; "
                             "frey_faces: 256-level gray; caltech101_silhouettes: binary silhouettes.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Directory with the canonical data files "
                                "(default: $VAMP_TF_DATA_DIR; else TFDS downloads).")
WORKDIR = flags.DEFINE_string("workdir", None, "Where checkpoints, results.json and figures go.")
OVERWRITE = flags.DEFINE_bool("overwrite", False, "Delete the run in --workdir and start over.")
_MODEL = flags.DEFINE_enum("model", "vae", list(config_lib.MODELS), "vae (one stochastic layer) or hvae (two).")
_PRIOR = flags.DEFINE_enum("prior", _DEFAULTS_MODEL.prior, list(config_lib.PRIORS),
                           "standard N(0, I), mog (learnable mixture), vamp (VampPrior).")
_NUM_COMPONENTS = flags.DEFINE_integer("num_components", _DEFAULTS_MODEL.num_components,
                                       "K: pseudo-inputs (vamp) or mixture components (mog).")
_PSEUDO_INIT = flags.DEFINE_enum("pseudo_init", "random", list(config_lib.PSEUDO_INITS),
                                 "random: N(mean, std); data: K training images plus noise.")
_PSEUDO_MEAN = flags.DEFINE_float("pseudo_mean", None, "Mean of the random pseudo-input init "
                                  "(default 0.05 binary, 0.5 gray).")
_PSEUDO_STD = flags.DEFINE_float("pseudo_std", None, "Std of the pseudo-input init / data noise "
                                 "(default 0.01 binary, 0.02 gray).")
_COMPONENT_WEIGHTS = flags.DEFINE_enum(
    "component_weights", _DEFAULTS_MODEL.component_weights, list(config_lib.COMPONENT_WEIGHTS),
    "VampPrior mixture weights: uniform 1/K (the paper's) or learned (softmax of K trained logits).")
_ARCHITECTURE = flags.DEFINE_enum("architecture", _DEFAULTS_MODEL.architecture, list(config_lib.ARCHITECTURES),
                                  "The networks: dense (the paper's gated MLPs, VAE or HVAE); for the HVAE conv (the paper's "
                                  "convHVAE), conv_reference (the convHVAE laid out as the paper's published code does), "
                                  "conv_reference_padded (and padded as it pads: PyTorch's symmetric padding), pixelcnn "
                                  "(its PixelHVAE: conv encoders, an autoregressive PixelCNN decoder) or pixelcnn_reference "
                                  "(the PixelHVAE's q(z1 | x, z2) as the code lays it out) or pixelcnn_reference_full (and its "
                                  "decoder as the code's: the latent maps masked too, no output bias); for the VAE relu_mlp "
                                  "(the S-VAE's ReLU MLPs, 2h-h / h-2h).")
_POSTERIOR = flags.DEFINE_enum("posterior", _DEFAULTS_MODEL.posterior, list(config_lib.POSTERIORS),
                               "The latent family of q(z | x): gaussian (the paper's diagonal Gaussian) or "
                               "power_spherical (z on the unit sphere in R^latent_dim; prior standard = uniform).")
_INITIALIZATION = flags.DEFINE_enum(
    "initialization", _DEFAULTS_MODEL.initialization, list(config_lib.INITIALIZATIONS),
    "he_normal: every kernel He-normal, zero biases (vamp_tf's); reference: the paper's code's (He-normal dense "
    "kernels, PyTorch's uniform defaults for convolutions and biases).")
_PROBABILITY_CLAMP = flags.DEFINE_float(
    "probability_clamp", _DEFAULTS_MODEL.probability_clamp,
    "0: the exact likelihood (default); c in (0, 0.5): keep each pixel's probability off zero in training and "
    "evaluation as the paper's reference code does: a Bernoulli's clamped to [c, 1 - c] (the code: 1e-5), a "
    "discretized logistic's bin probability P scored as P + c (the code: 1e-7).")
_BN_MOMENTUM = flags.DEFINE_float(
    "batch_norm_momentum", _DEFAULTS_MODEL.batch_norm_momentum,
    "The PixelCNN decoder's batch normalisation momentum (Keras' convention; the paper's code: 0.9, i.e. "
    "PyTorch's 0.1). Runs made before this flag existed used 0.99.")
_BN_EPSILON = flags.DEFINE_float("batch_norm_epsilon", _DEFAULTS_MODEL.batch_norm_epsilon,
                                 "The PixelCNN decoder's batch normalisation epsilon (the paper's code: 1e-5; "
                                 "runs made before this flag existed used 1e-3).")
_LATENT_DIM = flags.DEFINE_integer("latent_dim", _DEFAULTS_MODEL.latent_dim, "Size of z (each layer for hvae).")
_HIDDEN_UNITS = flags.DEFINE_integer("hidden_units", _DEFAULTS_MODEL.hidden_units, "Width of the gated layers.")
_EPOCHS = flags.DEFINE_integer("epochs", _DEFAULTS_TRAIN.epochs, "Maximum number of epochs.")
_WARMUP = flags.DEFINE_integer("warmup_epochs", _DEFAULTS_TRAIN.warmup_epochs,
                               "KL warm-up: beta = min(1, epoch / warmup_epochs).")
_PATIENCE = flags.DEFINE_integer("early_stopping_patience", _DEFAULTS_TRAIN.early_stopping_patience,
                                 "Epochs without a better validation -ELBO, after warm-up, before stopping.")
_SELECT_AFTER_WARMUP = flags.DEFINE_bool(
    "select_after_warmup", _DEFAULTS_TRAIN.select_after_warmup,
    "Choose the best (scored) checkpoint among the epochs at full KL weight only (epoch >= --warmup_epochs); "
    "default: any epoch, the warm-up's included, as the paper's code does.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", _DEFAULTS_TRAIN.batch_size, "Global batch size.")
_LEARNING_RATE = flags.DEFINE_float("learning_rate", _DEFAULTS_TRAIN.learning_rate, "Adam's learning rate.")
_OPTIMIZER = flags.DEFINE_enum("optimizer", _DEFAULTS_TRAIN.optimizer, list(config_lib.OPTIMIZERS),
                               "adam, or adam_normgrad (per-variable normalised gradients, as the reference), or "
                               "adam_normgrad_code (normalised per tensor of the paper's code, its epsilon 1e-8).")
_SEED = flags.DEFINE_integer("seed", _DEFAULTS_TRAIN.seed, "Seeds weights, data order, binarization, noise.")
_SPLIT_SEED = flags.DEFINE_integer("split_seed", _DEFAULTS_TRAIN.split_seed, "Seed of the split of unsplit datasets (Frey Faces, Caltech 101).")
_EVAL_SAMPLES = flags.DEFINE_integer("eval_samples", _DEFAULTS_TRAIN.eval_samples,
                                     "Importance samples per test image for the log-likelihood.")
_EVAL_BATCH_SIZE = flags.DEFINE_integer("eval_batch_size", _DEFAULTS_TRAIN.eval_batch_size,
                                        "Test images per importance-sampling step.")
_TRAIN_EXAMPLES = flags.DEFINE_integer("train_examples", 0, "Use only this many training images (0: all).")
_TEST_EXAMPLES = flags.DEFINE_integer("test_examples", 0,
                                      "Use only this many validation and test images, evenly spaced (0: all).")
_EVAL_EVERY = flags.DEFINE_integer("eval_every", _DEFAULTS_TRAIN.eval_every, "Validate every N epochs.")
_FIGURE_SAMPLES = flags.DEFINE_integer("figure_samples", _DEFAULTS_TRAIN.figure_samples,
                                       "Images in the final samples figure.")
_FIGURES = flags.DEFINE_bool("figures", _DEFAULTS_TRAIN.figures, "Draw the figures at the end (--nofigures: "
                             "every number and file but the figures).")
INTRA_OP_THREADS = flags.DEFINE_integer(
    "intra_op_threads", 0, "Threads per TensorFlow op (0: TensorFlow's default, all cores). Set 1 to run "
    "several trainings side by side. A runtime setting: not part of the run's config.")
_DIVERGENCE_FACTOR = flags.DEFINE_float(
    "divergence_factor", _DEFAULTS_TRAIN.divergence_factor,
    "Stop when an epoch's train -ELBO exceeds this many times the best so far (0: never stop).")
_PRECISION = flags.DEFINE_enum(
    "precision", _DEFAULTS_TRAIN.precision, list(config_lib.PRECISIONS),
    "float32, or mixed_bfloat16 / mixed_float16 for the networks' training math (variables, densities and "
    "every evaluation stay float32). See BUILD.md for when each pays off.")
_KEEP_LAST_BATCH = flags.DEFINE_bool(
    "keep_last_batch", _DEFAULTS_TRAIN.keep_last_batch,
    "Train on each epoch's last, smaller batch too (its loss the mean over its images), as the paper's code "
    "does (16 steps an epoch on Frey Faces, the last of 65 images); default: whole batches only.")
_GRAY_VALUES = flags.DEFINE_enum(
    "gray_values", _DEFAULTS_TRAIN.gray_values, list(config_lib.GRAY_VALUES),
    "How a 256-level gray pixel p is fed to the model: grid, p / 255 (default), or bin_centres, (p + 0.5) / 256 "
    "as the paper's code feeds Frey Faces (the same bins of the likelihood).")
_STRATEGY = flags.DEFINE_enum("strategy", "default", list(config_lib.STRATEGIES),
                              "default: one device; mirrored: all local GPUs (or logical CPUs); "
                              "multi_worker: MultiWorkerMirroredStrategy from TF_CONFIG.")


def config_from_flags() -> config_lib.Config:
    """The Config the parsed flags describe (ValueError if a value is invalid)."""
    info = catalog.info(_DATASET.value)
    model = config_lib.ModelConfig(
        input_shape=info.image_shape, likelihood=info.likelihood, model=_MODEL.value, prior=_PRIOR.value,
        latent_dim=_LATENT_DIM.value, hidden_units=_HIDDEN_UNITS.value, num_components=_NUM_COMPONENTS.value,
        pseudo_init=_PSEUDO_INIT.value, pseudo_mean=_PSEUDO_MEAN.value, pseudo_std=_PSEUDO_STD.value,
        component_weights=_COMPONENT_WEIGHTS.value, architecture=_ARCHITECTURE.value, posterior=_POSTERIOR.value,
        initialization=_INITIALIZATION.value,
        probability_clamp=_PROBABILITY_CLAMP.value, batch_norm_momentum=_BN_MOMENTUM.value,
        batch_norm_epsilon=_BN_EPSILON.value)
    train = config_lib.TrainConfig(
        dataset=_DATASET.value, data_dir=_DATA_DIR.value, split_seed=_SPLIT_SEED.value, epochs=_EPOCHS.value,
        warmup_epochs=_WARMUP.value, early_stopping_patience=_PATIENCE.value,
        select_after_warmup=_SELECT_AFTER_WARMUP.value, batch_size=_BATCH_SIZE.value,
        learning_rate=_LEARNING_RATE.value, optimizer=_OPTIMIZER.value, seed=_SEED.value,
        eval_samples=_EVAL_SAMPLES.value, eval_batch_size=_EVAL_BATCH_SIZE.value,
        train_examples=_TRAIN_EXAMPLES.value, test_examples=_TEST_EXAMPLES.value, eval_every=_EVAL_EVERY.value,
        figure_samples=_FIGURE_SAMPLES.value, figures=_FIGURES.value,
        strategy=_STRATEGY.value, divergence_factor=_DIVERGENCE_FACTOR.value, precision=_PRECISION.value,
        keep_last_batch=_KEEP_LAST_BATCH.value, gray_values=_GRAY_VALUES.value)
    return config_lib.Config(model=model, train=train)
