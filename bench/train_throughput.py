r"""Training throughput of vamp_tf's real train step with the real input pipeline.

    python -m bench.train_throughput --flagfile=mnist.flags --data_dir=../shared/data [--write_readme]

Times a cold load of the training set (files read and checksummed, pipeline built, first
batch), builds the trainer of the flagfile's configuration, trains one warm-up epoch (tracing
included), then times whole epochs: the input pipeline, the tf.function train step and
the Python loop, as train_lib runs them, then one validation pass. Prints examples/s,
ms/step, the FLOPs per step computed from the model's shapes (forward + backward = 3 x
forward matmul FLOPs), the achieved GFLOP/s, this machine's matmul GFLOP/s, the share of
time outside the train step, the number of traces, and the peak memory.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from trainers import flags as trainer_flags  # noqa: E402  (the trainer's flags and flagfiles)

_TIMED_EPOCHS = flags.DEFINE_integer("timed_epochs", 2, "Epochs timed after the warm-up epoch.")
_WRITE_README = flags.DEFINE_bool("write_readme", False, "Write the figures into bench/README.md.")


def main(argv):
    del argv
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from bench import common  # pylint: disable=import-outside-toplevel
    from vamp_tf import datasets, evaluation  # pylint: disable=import-outside-toplevel
    from vamp_tf.trainer import Trainer  # pylint: disable=import-outside-toplevel

    if trainer_flags.INTRA_OP_THREADS.value:
        tf.config.threading.set_intra_op_parallelism_threads(trainer_flags.INTRA_OP_THREADS.value)
    config = trainer_flags.config_from_flags()
    start = time.perf_counter()  # a cold load: files read and checksummed, pipeline built, first batch
    next(iter(datasets.load(config.train.dataset, "train", config.train.batch_size, data_dir=config.train.data_dir)))
    load_seconds = time.perf_counter() - start
    trainer = Trainer(config)
    beta = tf.constant(0.5)
    validation = datasets.evaluation_images(config.train, "validation")
    validate = evaluation.ElboTerms(trainer.model, seed=0)

    def run_epoch(epoch):
        in_step, steps, start = 0.0, 0, time.perf_counter()
        for batch in trainer.epoch_dataset(epoch):
            t = time.perf_counter()
            trainer.train_step(batch, beta).numpy()
            in_step += time.perf_counter() - t
            steps += 1
        return time.perf_counter() - start, in_step, steps

    run_epoch(0)  # warm-up: tracing, caches
    validate(validation)
    timings = [run_epoch(e) for e in range(1, 1 + _TIMED_EPOCHS.value)]
    start = time.perf_counter()
    validate(validation)
    validation_seconds = time.perf_counter() - start

    epoch_seconds = float(np.mean([t[0] for t in timings]))
    step_seconds = float(np.mean([t[1] / t[2] for t in timings]))
    steps = timings[0][2]
    batch = config.train.batch_size
    prior_rows = config.model.num_components if config.model.prior == "vamp" else 0
    macs = common.dense_macs(config.model, {
        "encoder": batch + prior_rows, "decoder": batch,
        "prior_pairs": batch * config.model.num_components if config.model.prior != "standard" else 0})
    flops_per_step = 3 * 2 * macs
    achieved = flops_per_step / step_seconds / 1e9
    peak = common.matmul_gflops()
    rows = [
        ("model", f"{config.model.model}, {config.model.prior} prior, K={config.model.num_components}, "
                  f"latent {config.model.latent_dim}, hidden {config.model.hidden_units}, batch {batch}, "
                  f"{config.train.dataset}"),
        ("dataset files to first training batch (cold)", f"{load_seconds:.2f} s"),
        ("examples/s (whole epoch, input pipeline included)", f"{steps * batch / epoch_seconds:,.0f}"),
        ("ms per train step", f"{step_seconds * 1e3:.2f}"),
        ("epoch (train only)", f"{epoch_seconds:.2f} s"),
        ("validation pass", f"{validation_seconds:.2f} s ({len(validation)} images)"),
        ("epoch + validation", f"{epoch_seconds + validation_seconds:.2f} s"),
        ("time outside the train step", f"{100 * (1 - step_seconds * steps / epoch_seconds):.1f} %"),
        ("FLOPs per example (fwd + bwd)", f"{flops_per_step / batch / 1e6:.1f} M"),
        ("achieved", f"{achieved:.0f} GFLOP/s"),
        ("matmul rate of this machine (2048^3, TF)", f"{peak:.0f} GFLOP/s"),
        ("achieved / matmul rate", f"{100 * achieved / peak:.0f} %"),
        ("traces of the train step", str(trainer.train_step.experimental_get_tracing_count())),
        ("peak memory (max RSS)", f"{common.peak_memory_mb():.0f} MB"),
    ]
    for k, v in rows:
        print(f"{k:50s} {v}")
    if _WRITE_README.value:
        name = f"train_throughput ({config.train.dataset}, {config.model.model}, {config.model.prior})"
        common.write_section(name, "python -m bench.train_throughput " + " ".join(os.sys.argv[1:]), rows)


if __name__ == "__main__":
    app.run(main)
