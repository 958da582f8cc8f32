"""The trainer's flags, in the groups `--help` shows them, and the Config they describe.

Defined here, not in trainers/main.py, so that other binaries of this repository (the
benchmarks) take the same flags and flagfiles; only binaries import this package. Library
code receives a Config. One module per group (data, model, prior and latents, training
protocol, evaluation, output, system, and the switches that replicate the paper's code);
`help_text()` renders them under their titles for `python -m trainers.main --help`.
"""

from absl import flags

from trainers.flags import data, evaluation, model, output, prior, protocol, replication, system
from vamp_tf import config as config_lib
from vamp_tf.datasets import catalog

GROUPS = (("Data", data), ("Model", model), ("Prior and latents", prior), ("Training protocol", protocol),
          ("Evaluation", evaluation), ("Output", output), ("System", system),
          ("Replication of the paper's code (off by default; for the parity runs)", replication))

WORKDIR, OVERWRITE, INTRA_OP_THREADS = output.WORKDIR, output.OVERWRITE, system.INTRA_OP_THREADS


def help_text() -> str:
    """Every trainer flag with its help and default, group by group (absl renders each group's list)."""
    out = []
    for title, module in GROUPS:
        rendered = flags.FLAGS.module_help(module.__name__).split("\n")  # ['', 'module.name:', flags...]
        out.append(f"\n{title}:\n" + "\n".join(line for line in rendered[2:]))
    return "\n".join(out)


def config_from_flags() -> config_lib.Config:
    """The Config the parsed flags describe (ValueError if a value is invalid)."""
    info = catalog.info(data.DATASET.value)
    model_config = config_lib.ModelConfig(
        input_shape=info.image_shape, likelihood=info.likelihood, model=model.MODEL_KIND.value,
        prior=prior.PRIOR.value, latent_dim=model.LATENT_DIM.value, hidden_units=model.HIDDEN_UNITS.value,
        num_components=prior.NUM_COMPONENTS.value, pseudo_init=prior.PSEUDO_INIT.value,
        pseudo_mean=prior.PSEUDO_MEAN.value, pseudo_std=prior.PSEUDO_STD.value,
        component_weights=prior.COMPONENT_WEIGHTS.value, architecture=model.ARCHITECTURE.value,
        posterior=prior.POSTERIOR.value, initialization=replication.INITIALIZATION.value,
        probability_clamp=replication.PROBABILITY_CLAMP.value, batch_norm_momentum=replication.BN_MOMENTUM.value,
        batch_norm_epsilon=replication.BN_EPSILON.value)
    train = config_lib.TrainConfig(
        dataset=data.DATASET.value, data_dir=data.DATA_DIR.value, split_seed=data.SPLIT_SEED.value,
        epochs=protocol.EPOCHS.value, warmup_epochs=protocol.WARMUP.value,
        early_stopping_patience=protocol.PATIENCE.value, select_after_warmup=protocol.SELECT_AFTER_WARMUP.value,
        batch_size=protocol.BATCH_SIZE.value, learning_rate=protocol.LEARNING_RATE.value,
        optimizer=protocol.OPTIMIZER.value, seed=protocol.SEED.value, eval_samples=evaluation.EVAL_SAMPLES.value,
        eval_batch_size=evaluation.EVAL_BATCH_SIZE.value, train_examples=data.TRAIN_EXAMPLES.value,
        test_examples=data.TEST_EXAMPLES.value, eval_every=evaluation.EVAL_EVERY.value,
        figure_samples=output.FIGURE_SAMPLES.value, figures=output.FIGURES.value, strategy=system.STRATEGY.value,
        divergence_factor=protocol.DIVERGENCE_FACTOR.value, precision=system.PRECISION.value,
        keep_last_batch=replication.KEEP_LAST_BATCH.value, gray_values=replication.GRAY_VALUES.value,
        beta=protocol.BETA.value)
    return config_lib.Config(model=model_config, train=train)
