r"""Where a train step's (or the IS evaluation's) time goes: TensorFlow's profiler, per-op self time.

    python -m bench.profile_step --flagfile=mnist.flags --xprof_python=.xprof/bin/python \
        [--target=eval] [--write_readme]

--target=train (the default) builds the trainer of the flagfile's configuration (as
bench.train_throughput does), runs one warm-up epoch (tracing), then profiles --profile_steps
train steps. --target=eval profiles the importance-sampled log-likelihood
(evaluation.log_likelihood, the flagfile's S and eval_batch_size, untrained weights: the same
arithmetic) on --profile_steps test images after a warm-up batch. Either way tf.profiler records and
bench/op_stats.py (run by --xprof_python, an interpreter with the xprof package; see there)
sum the ops' self time by type and by name. Prints the top ops and their share of the
profiled ops' time; --write_readme puts them into bench/README.md.
"""

import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from bench import options  # noqa: E402  (--write_readme)
from trainers import flags as trainer_flags  # noqa: E402  (the trainer's flags and flagfiles)

_TARGET = flags.DEFINE_enum("target", "train", ["train", "eval"],
                           "What is profiled: train steps, or the IS evaluation (S = --eval_samples).")
_STEPS = flags.DEFINE_integer("profile_steps", 20, "Warm train steps (--target=eval: test images) profiled.")
_TOP = flags.DEFINE_integer("top", 12, "Ops listed, by type and by name.")
_XPROF_PYTHON = flags.DEFINE_string("xprof_python", None, "A Python interpreter with the xprof package.",
                                    required=True)
_LOGDIR = flags.DEFINE_string("logdir", None, "Where the profile goes (default: a temporary directory).")


def profile(config, steps: int, logdir: str) -> float:
    """Profiles `steps` warm train steps of `config` into logdir; returns their wall seconds."""
    import time  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from vamp_tf.trainer import Trainer  # pylint: disable=import-outside-toplevel

    trainer = Trainer(config)
    beta = tf.constant(0.5)
    batches = list(trainer.epoch_dataset(0))
    for batch in batches:  # warm-up: tracing, caches
        trainer.train_step(batch, beta).numpy()
    tf.profiler.experimental.start(logdir)
    start = time.perf_counter()
    for i in range(steps):
        trainer.train_step(batches[i % len(batches)], beta).numpy()
    seconds = time.perf_counter() - start
    tf.profiler.experimental.stop()
    return seconds


def profile_eval(config, images: int, logdir: str) -> float:
    """Profiles the IS log-likelihood of `images` test images into logdir; returns their wall seconds."""
    import time  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from vamp_tf import datasets, evaluation  # pylint: disable=import-outside-toplevel
    from vamp_tf.models import build_model  # pylint: disable=import-outside-toplevel

    t = config.train
    model = build_model(config.model, seed=t.seed)
    test = datasets.examples(t.dataset, "test", t.data_dir, t.split_seed, t.eval_batch_size + images)

    def run(x):
        return evaluation.log_likelihood(model, x, num_samples=t.eval_samples, batch_size=t.eval_batch_size)

    run(test[:t.eval_batch_size])  # warm-up: tracing
    tf.profiler.experimental.start(logdir)
    start = time.perf_counter()
    run(test[t.eval_batch_size:])
    seconds = time.perf_counter() - start
    tf.profiler.experimental.stop()
    return seconds


def main(argv):
    del argv
    from bench import common  # pylint: disable=import-outside-toplevel

    config = trainer_flags.config_from_flags()
    logdir = _LOGDIR.value or tempfile.mkdtemp(prefix="vamp_tf_profile_")
    train = _TARGET.value == "train"
    seconds = (profile if train else profile_eval)(config, _STEPS.value, logdir)
    unit = "step" if train else "image"
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "op_stats.py")
    done = subprocess.run([_XPROF_PYTHON.value, script, logdir, "--top", str(_TOP.value)], capture_output=True,
                          text=True, check=False)
    if done.returncode:
        sys.exit(f"bench/op_stats.py failed under {_XPROF_PYTHON.value}:\n{done.stderr[-2000:]}")
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    what = (f"batch {config.train.batch_size}, {config.train.dataset}, {config.train.precision}" if train else
            f"{config.train.dataset}, IS log-likelihood S = {config.train.eval_samples}, "
            f"{config.train.eval_batch_size} images per batch, float32")
    done_what = "warm train steps" if train else "test images"
    rows = [("model", f"{config.model.model_name}, {config.model.prior} prior, K={config.model.num_components}, "
                      f"latent {config.model.latent_dim}, hidden {config.model.hidden_units}, {what}"),
            ("profiled", f"{_STEPS.value} {done_what}, {1e3 * seconds / _STEPS.value:.1f} ms each with the "
                         f"profiler on; ops' self time {stats['total_self_time_us'] / 1e3 / _STEPS.value:.1f} ms "
                         f"per {unit}")]
    rows += [(f"op type: {t['type']}", f"{100 * t['share']:.1f} %") for t in stats["by_type"]]
    rows += [(f"op: {o['name']} ({o['type']})", f"{100 * o['share']:.1f} %") for o in stats["by_name"]]
    for k, v in rows:
        print(f"{k[:90]:90s} {v}")
    if options.WRITE_README.value:
        name = (f"profile_step ({config.train.dataset}, {config.model.model_name}, {config.model.prior}, "
                f"{config.train.precision if train else 'IS evaluation'})")
        common.write_section(name, "python -m bench.profile_step " + " ".join(sys.argv[1:]), rows)


if __name__ == "__main__":
    app.run(main)
