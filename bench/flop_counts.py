r"""FLOPs of a training example and of a test image, counted from the model's shapes, for flagfiles.

    python -m bench.flop_counts [--flagfiles=experiments/paper/mnist_convhvae_vamp.flags,...] [--write_readme]

For each flagfile: the model it builds (untrained, no data read), the FLOPs of one training
example (forward and backward, at the flagfile's batch size; bench.common.train_step_flops)
and of one test image's importance-sampled log-likelihood at the flagfile's S
(bench.common.eval_flops), and, for each dataset and prior that has both, how many times a
convolutional HVAE's training example costs the dense HVAE's. These are the counts
bench.train_throughput and bench.eval_throughput divide by the time; tests/bench_common_test.py
checks them against TensorFlow's profiler count of the traced graph. Nothing is timed.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from bench import options  # noqa: E402  (--write_readme)
from trainers import flags as trainer_flags  # noqa: E402  (the trainer's flags and flagfiles)

PAPER = "experiments/paper"
DEFAULT = [f"{PAPER}/{dataset}_{model}_{prior}{suffix}.flags"
           for dataset in ("frey", "mnist") for prior in ("standard", "vamp")
           for model, suffix in (("hvae", ""), ("convhvae", ""),
                                 ("pixelhvae", "_codeinit" if dataset == "frey" else ""))]
SECTION = "flop_counts (the paper's HVAE flagfiles)"

_FLAGFILES = flags.DEFINE_list("flagfiles", DEFAULT, "Trainer flagfiles to count, each as the trainer reads it.")


def config_of(flagfile: str):
    """The trainer's Config for one flagfile, every other flag at its default."""
    if not os.path.exists(flagfile):
        raise app.UsageError(f"--flagfiles: no file {flagfile!r} (give paths from the repository's root)")
    flags.FLAGS.unparse_flags()
    flags.FLAGS([sys.argv[0], f"--flagfile={flagfile}"])
    return trainer_flags.config_from_flags()


def counts(flagfile: str) -> dict:
    """{'config', 'train': FLOPs per training example, 'test': FLOPs per test image} of one flagfile."""
    from bench import common  # pylint: disable=import-outside-toplevel
    from vamp_tf.models import build_model  # pylint: disable=import-outside-toplevel

    config = config_of(flagfile)
    prior = build_model(config.model, seed=0).prior
    batch = config.train.batch_size
    return {"config": config, "train": common.train_step_flops(config.model, prior, batch) / batch,
            "test": common.eval_flops(config.model, prior, config.train.eval_samples)}


def ratios(found: dict) -> list:
    """Convolutional over dense HVAE, per training example, for each (dataset, prior) with both."""
    dense = {(c["config"].train.dataset, c["config"].model.prior): c["train"] for c in found.values()
             if c["config"].model.model == "hvae" and c["config"].model.architecture == "dense"}
    return [c["train"] / dense[key] for c in found.values()
            if c["config"].model.architecture != "dense"
            and (key := (c["config"].train.dataset, c["config"].model.prior)) in dense]


def main(argv):
    del argv
    paths, write = list(_FLAGFILES.value), options.WRITE_README.value  # read before config_of resets every flag
    found = {os.path.basename(path)[:-len(".flags")]: counts(path) for path in paths}
    rows = []
    for name, c in found.items():
        rows.append((f"{name}: GFLOP per training example (fwd + bwd, batch {c['config'].train.batch_size})",
                     f"{c['train'] / 1e9:.4f}"))
        rows.append((f"{name}: TFLOP per test image (S = {c['config'].train.eval_samples})",
                     f"{c['test'] / 1e12:.3f}"))
    found_ratios = ratios(found)
    if found_ratios:
        rows.append(("convolutional / dense HVAE per training example (same dataset and prior), least / most",
                     f"{min(found_ratios):.0f} / {max(found_ratios):.0f}"))
    for k, v in rows:
        print(f"{k:90s} {v}")
    if write:
        from bench import common  # pylint: disable=import-outside-toplevel
        common.write_section(SECTION, "python -m bench.flop_counts" + (
            "" if paths == DEFAULT else " --flagfiles=" + ",".join(paths)) + " --write_readme", rows)


if __name__ == "__main__":
    app.run(main)
