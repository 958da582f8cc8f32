"""TrainConfig: the training protocol and the evaluation at the end, frozen and validated once
(vamp_tf.config); RESUMABLE_FIELDS, the fields a resumed run may change."""

from __future__ import annotations

import dataclasses
from typing import Optional

from vamp_tf.config.choices import GRAY_VALUES, OPTIMIZERS, PRECISIONS, STRATEGIES, check_choice, check_positive


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The training protocol (defaults: the paper's) and the evaluation at the end.

    epochs: maximum number of epochs; early stopping may end the run sooner.
    warmup_epochs: KL warm-up; beta = min(1, epoch / warmup_epochs) for epochs 1, 2, ...
    early_stopping_patience: epochs without a better validation -ELBO (beta = 1) before
      stopping, counted only after the warm-up.
    select_after_warmup: the best (scored) checkpoint is chosen among the epochs at full KL
      weight only (epoch >= warmup_epochs). False (the paper's code, the default): any epoch,
      the warm-up's included; on Caltech 101 that best falls inside the warm-up, and for the
      HVAE VampPrior the first full-KL epoch scored 0.97 and 0.13 nats better for two seeds
      (docs/paper_code_referee.md).
    optimizer: 'adam', or 'adam_normgrad' (Adam on gradients L2-normalised per variable,
      as the paper's reference implementation trains), or 'adam_normgrad_code' (normalised per
      tensor of the code's, where one of ours fuses several, and PyTorch's epsilon 1e-8;
      vamp_tf.optimizers).
    eval_samples: importance samples per test image for the log-likelihood (paper: 5000).
    eval_batch_size: test images per importance-sampling step (memory is bounded by
      eval_batch_size x 500 samples, whatever eval_samples is).
    train_examples / test_examples: optional caps for smoke runs (0 = use all).
    eval_every: validate every this many epochs.
    figure_samples: images in the samples figure at the end (the PixelHVAE draws them
      pixel by pixel: about 3 minutes for 100 Frey Faces on 2 CPU cores).
    figures: draw the figures at the end (samples, reconstructions, pseudo-inputs, the
      log-likelihood histogram, learning curves; 1.5-2.5 s for a dense model); False writes
      every number and file but them.
    precision: 'float32', or a Keras mixed policy for the networks' training computations
      ('mixed_bfloat16': CPUs with AMX / AVX512-BF16 and GPUs; 'mixed_float16': GPUs, with loss
      scaling). Variables, densities, KL and losses stay float32, and validation, the test
      evaluation and export always run in float32 on the float32 weights.
    divergence_factor: stop when an epoch's train -ELBO exceeds this many times the best
      epoch's so far (the loss exploded; the last good checkpoint is kept); 0 never stops.
    keep_last_batch: train on each epoch's last batch too when it is smaller than batch_size
      (its loss the mean over the images it has), as the paper's code does (16 steps an epoch
      on Frey Faces, the last of 65 images); default False: whole batches only (15 steps).
    gray_values: how a 256-level gray pixel p is fed to the model (datasets.pipeline): 'grid'
      p / 255 (the default), or 'bin_centres' (p + 0.5) / 256, as the paper's code feeds Frey
      Faces. Both fall in bin p of the discretized logistic, so the likelihood is the same.
    beta: the final KL weight: training minimises D + beta R (the warm-up ramps to it); 1 (the default)
      is the ELBO. Model selection and early stopping go by the validation D + beta R (the objective
      trained; the -ELBO at beta = 1); the test scores are the ELBO's and log p(x) whatever beta is.
    """

    dataset: str = "mnist"
    data_dir: Optional[str] = None
    split_seed: int = 0
    epochs: int = 2000
    warmup_epochs: int = 100
    early_stopping_patience: int = 50
    select_after_warmup: bool = False
    batch_size: int = 100
    learning_rate: float = 5e-4
    optimizer: str = "adam"
    seed: int = 0
    eval_samples: int = 5000
    eval_batch_size: int = 20
    train_examples: int = 0
    test_examples: int = 0
    eval_every: int = 1
    figure_samples: int = 100
    figures: bool = True
    strategy: str = "default"
    divergence_factor: float = 10.0
    precision: str = "float32"
    keep_last_batch: bool = False
    gray_values: str = "grid"
    beta: float = 1.0

    def __post_init__(self):
        check_positive("epochs", self.epochs)
        check_positive("warmup_epochs", self.warmup_epochs, allow_zero=True)
        check_positive("early_stopping_patience", self.early_stopping_patience)
        check_positive("batch_size", self.batch_size)
        check_positive("learning_rate", self.learning_rate)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_positive("seed", self.seed, allow_zero=True)
        check_positive("split_seed", self.split_seed, allow_zero=True)
        check_positive("eval_samples", self.eval_samples)
        check_positive("eval_batch_size", self.eval_batch_size)
        check_positive("train_examples", self.train_examples, allow_zero=True)
        check_positive("test_examples", self.test_examples, allow_zero=True)
        check_positive("eval_every", self.eval_every)
        if self.select_after_warmup and self.epochs < self.warmup_epochs:
            raise ValueError(f"select_after_warmup=True with epochs={self.epochs} < warmup_epochs={self.warmup_epochs}: "
                             "no epoch would reach full KL weight to be chosen; train at least warmup_epochs epochs "
                             "or drop --select_after_warmup.")
        check_positive("figure_samples", self.figure_samples)
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("gray_values", self.gray_values, GRAY_VALUES)
        check_positive("beta", self.beta)
        if self.divergence_factor != 0:
            check_positive("divergence_factor", self.divergence_factor)
            if self.divergence_factor <= 1:
                raise ValueError(f"divergence_factor={self.divergence_factor!r} is invalid; it must be > 1 "
                                 "(or 0 to never stop).")


# Fields that may change between the runs that share one workdir: they decide how long
# to train, where the data is read from, how to evaluate or where to run, not what is
# learned epoch by epoch. Anything else differing means a different experiment.
RESUMABLE_FIELDS = frozenset(
    {"epochs", "data_dir", "eval_samples", "eval_batch_size", "test_examples", "strategy",
     "eval_every", "divergence_factor", "precision", "figure_samples", "figures"})

# Fields that change no number a finished run reports: where the data is read from, how many test
# images one step scores (each image's noise is its own, vamp_tf.evaluation), when a diverging run
# is stopped, the figures. Two finished runs equal in every other field are twins: their scores
# compare image by image (tools/report_rd.py pairs a VampPrior run with its standard-prior twin).
SCORE_NEUTRAL_FIELDS = frozenset({"data_dir", "eval_batch_size", "divergence_factor", "figure_samples", "figures"})
