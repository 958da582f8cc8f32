"""RESULTS.md's rate-distortion tables (vamp_tf.surgery's records), and the VampPrior's marginal KL over the
standard prior's between twins. Split from tools/report.py."""

from __future__ import annotations

import json
import os

from tools.report_runs import ALIASES, REPO
from vamp_tf.config import SCORE_NEUTRAL_FIELDS

RD_COLUMNS = (("neg_elbo", "-ELBO"), ("distortion", "D"), ("rate", "R"), ("rate_prior_latent", "R of the prior's latent"),
              ("mutual_information", "I[n; z]"), ("marginal_kl", "KL(q(z) || p(z))"))


RD_PLANE = os.path.join("docs", "figures", "rate_distortion", "mnist_plane.png")  # tools.rate_distortion_plane


def _rd_key(run) -> tuple:
    config = run.results["config"]
    return (config.get("model", {}).get("model", ""), config.get("model", {}).get("latent_dim", 0),
            config.get("model", {}).get("prior", ""), config.get("train", {}).get("beta", 1.0), run.name)


def _split(run) -> dict:
    return run.results["metrics"]["rate_distortion"]


# The prior's own fields: two runs equal outside these and the fields that change no score
# (vamp_tf.config.SCORE_NEUTRAL_FIELDS: not the precision, the budget, S or the test images) differ only in their prior.
_PRIOR_FIELDS = frozenset({"prior", "num_components", "pseudo_init", "pseudo_mean", "pseudo_std", "component_weights"})


def _setting_but_prior(run) -> str:
    config = run.results["config"]
    kept = {section: {k: v for k, v in config.get(section, {}).items() if k not in _PRIOR_FIELDS | SCORE_NEUTRAL_FIELDS}
            for section in ("model", "train")}
    return json.dumps(kept, sort_keys=True)


def _marginal_kl_ratios(rows) -> list[str]:
    """'vamp run / standard run (model, latent, beta): x / y = r' for each VampPrior run and each standard-prior
    run whose configs differ only in the prior (same seed, budget, beta, networks): the test of the VampPrior's
    claim, between twins only, never across seeds or budgets."""
    standard = {}
    for name, run in rows:
        if _rd_key(run)[2] == "standard":
            standard.setdefault(_setting_but_prior(run), []).append((name, run))
    out = []
    for name, run in sorted(rows, key=lambda row: _rd_key(row[1])[:4] + (row[0],)):
        model, latent, prior, beta, _ = _rd_key(run)
        if prior != "vamp":
            continue
        for std_name, std_run in standard.get(_setting_but_prior(run), []):
            v, s = _split(run)["marginal_kl"][0], _split(std_run)["marginal_kl"][0]
            out.append(f"{name} / {std_name} ({model}, latent {latent}, beta {beta:g}): {v:.2f} / {s:.2f}"
                       + (f" = {v / s:.2f}" if s > 0 else ""))
    return out


def rate_distortion_tables(runs) -> list[str]:
    """A table per dataset of the recorded runs that carry metrics.rate_distortion (vamp_tf.surgery): the
    -ELBO, D, R and R's split into I[n; z] and KL(q(z) || p(z)), each mean ± its standard error, in nats;
    under it the VampPrior's marginal KL over the standard prior's at equal settings, and the plane."""
    by_dataset = {}
    for name, run in sorted(runs.items()):
        if name in ALIASES or not run.finished or "rate_distortion" not in run.results["metrics"]:
            continue
        by_dataset.setdefault(run.results["config"].get("train", {}).get("dataset", "—"), []).append((name, run))
    lines = ["### Rate and distortion (nats, test set)", "",
             "The rate R = E KL(q(z | x) || p(z)) and the distortion D = -E log p(x | z) apart, and the rate of the "
             "latent the prior is on split by ELBO surgery into the mutual information I[n; z] between an image and "
             "its code and KL(q(z) || p(z)), the distance from the aggregate posterior to the prior "
             "(`vamp_tf.evaluation.rate_distortion`; log q(z) over the N test posteriors, so I <= log N). The "
             "VampPrior's claim is that its marginal KL is a small fraction of the standard prior's. 'beta' is the "
             "weight of R in the objective trained (D + beta R; 1 is the ELBO).", ""]
    if not by_dataset:
        return lines + ["No recorded run carries these figures yet: runs finished from commit 60bbc6c on record them "
                        "(the earlier runs' workdirs are gone).", ""]
    for dataset, rows in sorted(by_dataset.items()):
        rows = sorted(rows, key=lambda row: _rd_key(row[1]))
        sizes = {(_split(r).get("num_images"), _split(r).get("log_num_images")) for _, r in rows}
        (n, log_n), = sizes if len(sizes) == 1 else {(None, None)}
        size = f" (N = {n} test images, log N = {log_n:.2f})" if n is not None and log_n is not None else ""
        lines += [f"{dataset}{size}:", "", "| run | prior | beta | epochs | " + " | ".join(l for _, l in RD_COLUMNS) + " |",
                  "| --- | --- | --- | --- |" + " --- |" * len(RD_COLUMNS)]
        for name, run in rows:
            cells = " | ".join(f"{_split(run)[key][0]:.2f} ± {_split(run)[key][1]:.2f}" for key, _ in RD_COLUMNS)
            _, _, prior, beta, _ = _rd_key(run)
            lines.append(f"| {name} | {prior or '—'} | {beta:g} | {run.epochs()} | {cells} |")
        ceiling = [name for name, r in rows
                   if _split(r)["mutual_information"][0] >= 0.99 * _split(r).get("log_num_images", float("inf"))]
        if ceiling:
            lines += ["", f"I[n; z] is at its ceiling log N in {len(ceiling)} of {len(rows)} runs: their test images' "
                      "posteriors barely overlap, each code tells its image apart from the N - 1 others, and "
                      "KL(q(z) || p(z)) is about R - log N; it measures how far a smooth prior is from a mixture of N "
                      "narrow posteriors more than how well the prior fits the shape of the codes."]
        ratios = _marginal_kl_ratios(rows)
        if ratios:
            lines += ["", "KL(q(z) || p(z)) of the VampPrior / of the standard prior, between runs that differ only in the prior: "
                      + "; ".join(ratios) + "."]
        if dataset == "mnist" and os.path.isfile(os.path.join(REPO, RD_PLANE)):
            lines += ["", f"The plane (`python -m tools.rate_distortion_plane`): [{os.path.basename(RD_PLANE)}]"
                          f"({RD_PLANE})"]
        lines.append("")
    return lines


