r"""Training throughput of vamp_tf's real train step with the real input pipeline.

    python -m bench.train_throughput --flagfile=mnist.flags --data_dir=../shared/data [--write_readme]

Times a cold load of the training set (files read and checksummed, pipeline built, first
batch), builds the trainer of the flagfile's configuration, trains one warm-up epoch (tracing
included), then times whole epochs: the input pipeline, the tf.function train step and
the Python loop, as train_lib runs them, then one validation pass. Prints examples/s,
ms/step, for each precision of --precisions side by side (the first is the reference of the
speed-up), the FLOPs per step computed from the model's shapes (forward + backward = 3 x
forward matmul FLOPs), the achieved GFLOP/s, this machine's matmul GFLOP/s, the share of
time outside the train step, the number of traces, and the peak memory; and the floor: the
step's own matmuls and convolutions timed alone (bench.floor), which says how much of the step
the rest (element-wise ops, casts, the optimizer's update) takes.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from bench import options  # noqa: E402  (--write_readme)
from trainers import flags as trainer_flags  # noqa: E402  (the trainer's flags and flagfiles)

_TIMED_EPOCHS = flags.DEFINE_integer("timed_epochs", 2, "Epochs timed after the warm-up epoch.")
_JIT = flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA (jit_compile=True).")
_PRECISIONS = flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"],
                                "Precisions timed side by side, in this order, on the same data and model.")


def measure(config, timed_epochs: int, jit_compile: bool = False) -> dict:
    """Times one configuration: epochs, steps, validation, FLOPs; see the module docstring."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from bench import common, floor  # pylint: disable=import-outside-toplevel
    from vamp_tf import datasets, evaluation  # pylint: disable=import-outside-toplevel
    from vamp_tf.trainer import Trainer  # pylint: disable=import-outside-toplevel

    trainer = Trainer(config, jit_compile=jit_compile)
    beta = tf.constant(0.5)
    validation = datasets.evaluation_images(config.train, "validation")
    validate = evaluation.ElboTerms(trainer.eval_model(), seed=0)  # float32 in every precision

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
    timings = [run_epoch(e) for e in range(1, 1 + timed_epochs)]
    start = time.perf_counter()
    trainer.eval_model()
    validate(validation)
    validation_seconds = time.perf_counter() - start
    epoch_seconds = float(np.mean([t[0] for t in timings]))
    step_seconds = float(np.mean([t[1] / t[2] for t in timings]))
    steps = timings[0][2]
    batch = config.train.batch_size
    flops_per_step = common.train_step_flops(config.model, trainer.model.prior, batch)
    graph = trainer.train_step.get_concrete_function(next(iter(trainer.epoch_dataset(0))), beta).graph
    heavy = floor.heavy_ops(graph)
    floor_seconds = floor.floor_seconds(heavy)
    return {"heavy_ops": len(heavy), "floor_ms": floor_seconds * 1e3,
            "floor_gflops": 2 * floor.macs(heavy) / floor_seconds / 1e9,
            "examples_per_second": steps * batch / epoch_seconds, "step_ms": step_seconds * 1e3,
            "epoch_seconds": epoch_seconds, "validation_seconds": validation_seconds, "num_validation": len(validation),
            "outside_step": 1 - step_seconds * steps / epoch_seconds, "flops_per_example": flops_per_step / batch,
            "achieved_gflops": flops_per_step / step_seconds / 1e9,
            "traces": trainer.train_step.experimental_get_tracing_count()}


def main(argv):
    del argv
    import dataclasses  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from bench import common  # pylint: disable=import-outside-toplevel
    from vamp_tf import config as config_lib, datasets, files  # pylint: disable=import-outside-toplevel

    if trainer_flags.INTRA_OP_THREADS.value:
        tf.config.threading.set_intra_op_parallelism_threads(trainer_flags.INTRA_OP_THREADS.value)
    config = trainer_flags.config_from_flags()
    start = time.perf_counter()  # a cold load: files read and checksummed, pipeline built, first batch
    next(iter(datasets.load(config.train.dataset, "train", config.train.batch_size, data_dir=config.train.data_dir)))
    load_seconds = time.perf_counter() - start
    precisions = _PRECISIONS.value
    results, rates = {}, {}
    for precision in precisions:  # the same data, model and seed, one after the other
        run = config_lib.Config(config.model, dataclasses.replace(config.train, precision=precision))
        results[precision] = measure(run, _TIMED_EPOCHS.value, _JIT.value)
        dtype = tf.bfloat16 if "bfloat16" in precision else tf.float16 if "float16" in precision else tf.float32
        rates[precision] = common.matmul_gflops(dtype=dtype)
    batch = config.train.batch_size
    first = precisions[0]
    rows = [
        ("model", f"{config.model.model_name}, {config.model.prior} prior, K={config.model.num_components}, "
                  f"latent {config.model.latent_dim}, hidden {config.model.hidden_units}, batch {batch}, "
                  f"{config.train.dataset}"),
        ("CPU bfloat16 hardware (lscpu flags)", files.bf16_hardware() or "none"),
        ("train step compiled with XLA (jit_compile)", str(_JIT.value)),
        ("dataset files to first training batch (cold)", f"{load_seconds:.2f} s"),
    ]

    def row(label, fmt):
        rows.append((label, " / ".join(fmt(results[p]) for p in precisions)))

    rows.append(("precision", " / ".join(precisions)))
    row("examples/s (whole epoch, input pipeline included)", lambda r: f"{r['examples_per_second']:,.0f}")
    row("ms per train step", lambda r: f"{r['step_ms']:.2f}")
    row("epoch (train only)", lambda r: f"{r['epoch_seconds']:.2f} s")
    row("validation pass (float32)", lambda r: f"{r['validation_seconds']:.2f} s ({r['num_validation']} images)")
    row("time outside the train step", lambda r: f"{100 * r['outside_step']:.1f} %")
    row("FLOPs per example (fwd + bwd)", lambda r: f"{r['flops_per_example'] / 1e6:.1f} M")
    row("achieved", lambda r: f"{r['achieved_gflops']:.0f} GFLOP/s")
    row("the step's matmuls and convolutions alone (bench.floor)",
        lambda r: f"{r['floor_ms']:.2f} ms ({r['heavy_ops']} ops)")
    row("their rate alone (2 x multiply-accumulates / time)", lambda r: f"{r['floor_gflops']:.0f} GFLOP/s")
    row("share of the train step they account for", lambda r: f"{100 * r['floor_ms'] / r['step_ms']:.0f} %")
    rows.append(("matmul rate of this machine (2048^3, TF), in that precision",
                 " / ".join(f"{rates[p]:.0f} GFLOP/s" for p in precisions)))
    rows.append(("achieved / matmul rate of that precision",
                 " / ".join(f"{100 * results[p]['achieved_gflops'] / rates[p]:.0f} %" for p in precisions)))
    for p in precisions[1:]:
        rows.append((f"speed-up of {p} over {first} (examples/s)",
                     f"{results[p]['examples_per_second'] / results[first]['examples_per_second']:.2f}x"))
    row("traces of the train step", lambda r: str(r["traces"]))
    rows.append(("peak memory (max RSS)", f"{common.peak_memory_mb():.0f} MB"))
    for k, v in rows:
        print(f"{k:60s} {v}")
    if options.WRITE_README.value:
        name = (f"train_throughput ({config.train.dataset}, {config.model.model_name}, {config.model.prior}"
                + (", jit_compile" if _JIT.value else "") + ")")
        common.write_section(name, "python -m bench.train_throughput " + " ".join(os.sys.argv[1:]), rows)


if __name__ == "__main__":
    app.run(main)
