r"""Draws the rate-distortion plane of the recorded beta sweep (experiments/rate_distortion/).

    python -m tools.rate_distortion_plane            # docs/figures/rate_distortion/mnist_plane.png

Each recorded run of the sweep is a point (R, D) of its test set (metrics.rate_distortion, written
by vamp_tf.surgery when the run finished), labelled with its beta; the points of one prior are one
group, joined along their Pareto frontier, over the lines of equal -ELBO = D + R
(vamp_tf.plots.rate_distortion_plane). Repository tooling, as tools.report: it reads the records.
"""

from __future__ import annotations

import os

from absl import app, flags

from tools import records
from vamp_tf import plots

PRIOR_NAMES = {"standard": "standard prior", "vamp": "VampPrior", "mog": "mixture of Gaussians"}
DEFAULT_OUT = os.path.join(records.FIGURES, "rate_distortion", "mnist_plane.png")


def sweep_names() -> list[str]:
    """The sweep's runs: every flagfile of experiments/rate_distortion/."""
    return sorted(n for n, p in records.flagfiles().items()
                  if os.path.basename(os.path.dirname(p)) == "rate_distortion")


def points(names, records_dir: str = records.RECORDS) -> dict:
    """{prior label: {"rate", "distortion", "labels", "runs"}} of the named runs that are recorded
    with metrics.rate_distortion, each group ordered by beta; runs not recorded yet are left out."""
    rows = []
    for name in names:
        record, _ = records.load(name, records_dir)
        results = (record or {}).get("results") or {}
        split = results.get("metrics", {}).get("rate_distortion")
        if not results.get("complete") or not split:
            continue
        config = results["config"]
        rows.append((PRIOR_NAMES.get(config["model"]["prior"], config["model"]["prior"]),
                     float(config["train"].get("beta", 1.0)), split["rate"][0], split["distortion"][0], name,
                     results["epochs_run"]))
    groups = {}
    for prior, beta, rate, distortion, name, epochs in sorted(rows):
        group = groups.setdefault(prior, {"rate": [], "distortion": [], "labels": [], "runs": [], "epochs": []})
        group["epochs"].append(epochs)
        group["rate"].append(rate)
        group["distortion"].append(distortion)
        group["labels"].append(f"β={beta:g}")
        group["runs"].append(name)
    return groups


def draw(names, out: str = DEFAULT_OUT, records_dir: str = records.RECORDS,
         title: str = "Dynamic MNIST, VAE, latent 40, test set") -> str:
    """Draws the plane of the named runs' records into `out`; the title says the epoch budget."""
    groups = points(names, records_dir)
    if not groups:
        raise app.UsageError(f"none of {', '.join(names)} is recorded with rate-distortion figures in {records_dir}: "
                             "train the sweep (python -m tools.run_grid --set=rate_distortion) and record each run "
                             "(python -m tools.record RUNS_ROOT NAME) first.")
    budgets = sorted({e for g in groups.values() for e in g["epochs"]})
    budget = f"{budgets[0]} epochs each" if len(budgets) == 1 else f"{budgets[0]}-{budgets[-1]} epochs"
    return plots.rate_distortion_plane(groups, out, f"{title}: {budget}")


def main(argv):
    names = argv[1:] or sweep_names()
    path = draw(names, flags.FLAGS.out, flags.FLAGS.records)
    print(f"wrote {os.path.relpath(path)} from {len(names)} run names")


if __name__ == "__main__":
    # Defined here, not at import, so that tests and tools.report can import this module beside others.
    flags.DEFINE_string("out", DEFAULT_OUT, "Where the PNG goes.")
    flags.DEFINE_string("records", records.RECORDS, "The directory of run records.")
    app.run(main)
