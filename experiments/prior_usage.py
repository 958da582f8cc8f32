r"""Adds the prior-usage metric to finished runs that were evaluated before it existed.

    python -m experiments.prior_usage runs

Takes one or more directories that hold one workdir per run, as run_grid writes them. (No
flags: it is imported beside experiments.report, which defines --runs.) For every finished run
whose results.json has no metrics.prior_usage, restores the best checkpoint and checks that it
is the one the results were computed from: the test ELBO, deterministic for a given seed, must
match to 1e-4 relative. Then computes vamp_tf.evaluation.prior_usage on the test images and
writes it into results.json (atomic rewrite; nothing else in the file changes). Runs trained
since the metric existed have it already.
"""

import os

import numpy as np
from absl import app, logging

from export import export_lib
from vamp_tf import evaluation, files, train_lib

def add_prior_usage(workdir: str) -> dict:
    """Computes and stores the metric for one finished run; returns the summary.

    Raises ValueError if the run is not finished or its best checkpoint no longer
    reproduces the stored test ELBO (the run was trained further after its evaluation).
    """
    path = os.path.join(workdir, "results.json")
    results = files.read_json(path)
    if not results or not results.get("complete"):
        raise ValueError(f"{workdir} has no finished results.json: finish the run first.")
    model, config, checkpoint = export_lib.restore_model(workdir)
    images = train_lib.evaluation_images(config, "test")
    elbo = evaluation.elbo_terms(model, images, seed=config.train.seed)["elbo"]
    stored = results["metrics"]["test_elbo"]
    if not np.isclose(elbo, stored, rtol=1e-4, atol=0.0):
        raise ValueError(f"{checkpoint} gives test ELBO {elbo:.4f}, results.json says {stored:.4f}: "
                         "the run changed after its evaluation; rerun the trainer to re-evaluate it.")
    summary = train_lib.prior_usage_summary(evaluation.prior_usage(model, images))
    results["metrics"]["prior_usage"] = summary
    files.write_json(path, results)
    return summary


def main(argv):
    roots = argv[1:]
    if not roots or not all(os.path.isdir(r) for r in roots):
        raise app.UsageError("usage: python -m experiments.prior_usage RUNS_DIR [RUNS_DIR ...] "
                             "(directories holding one run workdir each, e.g. runs)")
    for root in roots:
        _add_to_all(root)


def _add_to_all(root):
    for name in sorted(os.listdir(root)):
        workdir = os.path.join(root, name)
        results = files.read_json(os.path.join(workdir, "results.json"))
        if not results or not results.get("complete") or "prior_usage" in results["metrics"]:
            continue
        try:
            s = add_prior_usage(workdir)
        except ValueError as e:
            logging.warning("%s: %s", name, e)
            continue
        print(f"{name}: {s['components_used']} of {s['num_components']} components used "
              f"(effective {s['effective_components']:.1f})", flush=True)


if __name__ == "__main__":
    app.run(main)
