r"""Trains and evaluates a VAE / HVAE with a VampPrior (or another prior).

    python -m trainers.main --flagfile=mnist.flags
    python -m trainers.main --flagfile=mnist.flags --epochs=3 --workdir=/tmp/run

Rerunning the same command continues the run in --workdir from its last checkpoint.
Only binaries read flags (trainers/flags/); this one builds a Config and calls
train_lib.train_and_evaluate. `--help` lists the trainer's flags by group, each with its default;
`--helpfull` adds absl's and TensorFlow's.
"""

import os
import sys

from vamp_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # VAMP_TF_VERBOSE=1 shows TensorFlow's start-up lines

from absl import app, flags, logging  # noqa: E402

from trainers import flags as trainer_flags  # noqa: E402


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])} (flags need --name=value).")
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from vamp_tf import checkpoints, datasets, files, train_lib  # pylint: disable=import-outside-toplevel
    startup.command_line_logging()  # vamp_tf's lines at INFO, TensorFlow's at WARNING, no absl prefix
    threads = trainer_flags.INTRA_OP_THREADS.value
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(2, threads))
    try:
        config = trainer_flags.config_from_flags()
        results = train_lib.train_and_evaluate(config, trainer_flags.WORKDIR.value,
                                               overwrite=trainer_flags.OVERWRITE.value)
    except train_lib.TrainingInterrupted as e:
        logging.warning("%s", e)
        sys.exit(130)
    except (ValueError, datasets.DataError, train_lib.NonFiniteLoss, checkpoints.CheckpointDamaged,
            files.StorageError) as e:
        logging.error("%s", e)
        sys.exit(2 if isinstance(e, ValueError) else 1)
    if results:
        m = results["metrics"]
        print(f"test log-likelihood {m['test_log_likelihood']:.2f} nats"
              + (f" ({m['bits_per_dim']:.3f} bits/dim)" if "bits_per_dim" in m else "")
              + f"; results in {os.path.join(trainer_flags.WORKDIR.value, 'results.json')}")


def run():
    flags.mark_flag_as_required("workdir")
    # --help prints __main__'s docstring (absl's app.usage): there, the trainer's flags by group
    main_module = sys.modules["__main__"]
    main_module.__doc__ = (main_module.__doc__ or __doc__) + trainer_flags.help_text().replace("%", "%%")
    app.run(main)


if __name__ == "__main__":
    run()
