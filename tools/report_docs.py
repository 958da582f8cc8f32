"""Numbers in the prose of docs/ and RESULTS.md that come from records, rendered instead of typed.

A page holds `<!-- NAME:begin (written by python -m tools.report; do not edit by hand) -->` ...
`<!-- NAME:end -->`; tools.report replaces what is between with BLOCKS[page][NAME](runs), and a test
checks that the committed pages hold what the records give. The optimal-prior records
(experiments/optimal_prior/NAME.json, written by tools.optimal_prior) are rendered here too.
"""

from __future__ import annotations

import glob
import os
import re

from tools import optimal_prior_records, report_runs, report_values

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRIOR_LABELS = (("aggregate", "(a) aggregate posterior"), ("trained", "(b) trained prior"),
                ("standard", "(c) N(0, I)"), ("fitted", "(d) 500-component fit"))


# Exemplar VAE's own prior, trained (tools/report_tables.json): (dataset, model) -> its -log p(x), beside (a)
_EXEMPLAR = {(d, m): v for d, m, v in report_runs.TABLES["exemplar_vae"]["own_prior"]["cells"]}


def _share(record, prior, smoothed=False) -> str:
    if prior == "trained" and record["prior"] == "standard":
        return "0 (it is (c))"
    shares = optimal_prior_records.shares_closed(record, "smoothed" if smoothed else "")
    if shares is None:
        return "—"
    value, error = shares[prior]
    return f"{value:.1%} ± {error:.1%}"


def _smoothed(record) -> str:
    """(e): the smoothed aggregate's -log p(x) and the bandwidth the validation images chose, or '—'."""
    if not record.get("smoothed"):
        return "—"
    return (f"{-record['test_log_likelihood']['smoothed']:.2f} ± {record['standard_error']['smoothed']:.2f} "
            f"(h = {record['smoothed']['bandwidth']:g})")


def _pm(pair, digits=2) -> str:
    return f"{pair[0]:.{digits}f} ± {pair[1]:.{digits}f}"


def optimal_prior_table(directory: str = optimal_prior_records.DIRECTORY) -> list[str]:
    """RESULTS.md's table of the optimal-prior measurements."""
    rows = optimal_prior_records.load_all(directory)
    lines = ["| model | dataset | prior trained | test images (of) | "
             + " | ".join(f"-log p(x), {label}" for _, label in PRIOR_LABELS)
             + " | -log p(x), (e) aggregate smoothed (bandwidth) | Exemplar VAE, its prior trained | (b) closes"
             + " | (d) closes | (b) closes, to (e) | I[n; z] held out | KL(q(z) \\|\\| p(z)) held out | I, KL in-sample |",
             "| --- | --- | --- | --- |" + " --- |" * (len(PRIOR_LABELS) + 8)]
    for r in rows:
        mean, error = r["test_log_likelihood"], r["standard_error"]
        split = r["rate_split"]
        lines.append(
            f"| {r['name']} ({r['model']}) | {r['dataset']} | {r['prior']} | {r['num_test_images']} "
            + (f"(every {r['test_stride']}th of {r['test_images_of']}) | " if r.get("test_stride", 1) > 1
               else f"({r['test_images_of']}) | ")
            + " | ".join(f"{-mean[k]:.2f} ± {error[k]:.2f}" for k, _ in PRIOR_LABELS)
            + f" | {_smoothed(r)} | {_EXEMPLAR.get((r['dataset'], r['model']), '—')} | {_share(r, 'trained')}"
            + f" | {_share(r, 'fitted')} | {_share(r, 'trained', smoothed=True)}"
            + f" | {_pm(split['mutual_information_held_out'])} | {_pm(split['marginal_kl_held_out'])}"
            + f" | {split['mutual_information'][0]:.2f}, {split['marginal_kl'][0]:.2f} |")
    return lines


def optimal_prior_section(directory: str = optimal_prior_records.DIRECTORY) -> list[str]:
    """RESULTS.md's section."""
    if not optimal_prior_records.load_all(directory):
        return []
    return ["## The VampPrior against the optimal prior", "",
            "A trained model's test -log p(x) (importance-sampled, S = 5000, the same noise per image under every "
            "prior, so the columns are paired) with its encoder and decoder fixed and its prior replaced by (a) the "
            "aggregate posterior of its training set, the prior that maximises the ELBO for this encoder; (b) its "
            "own trained prior; (c) N(0, I); (d) a 500-component diagonal Gaussian mixture fitted to q(z) by EM "
            "after training (`python -m tools.optimal_prior`, vamp_tf/optimal_prior.py). 'closes': the share of "
            "the gap between (c) and (a) that the prior closes, ((b) - (c)) / ((a) - (c)) in log-likelihood, with "
            "its delta-method standard error over images; (e) the aggregate convolved with N(0, h^2 I), h the bandwidth of a "
            "grid that the validation images prefer (a kernel density estimate of q(z)); where (a) is worse than (c), as on Frey Faces, a prior "
            "better than (c) closes a negative share. 'Exemplar VAE': the -log p(x) that Exemplar VAE's table gives "
            "for its own model, whose prior is (a) with a shared variance trained with the model ("
            + report_runs.TABLES["exemplar_vae"]["source"].split(":")[0] + "). Then the rate split on the whole test set with log q(z) "
            "held out (over the training posteriors) and in-sample (over the test posteriors, capped at log N). "
            "A name ending in _eN is the best checkpoint (epoch N) of a run still training, not a shipped preset; "
            "the preset's row replaces it when the run is recorded.",
            "", *optimal_prior_table(directory), ""]


def held_out_bias_lines(directory: str = optimal_prior_records.DIRECTORY) -> list[str]:
    """The held-out estimator's I[n; z] and marginal KL as the reference set grows (its bias in M)."""
    out = []
    for r in optimal_prior_records.load_all(directory):
        steps = "; ".join(f"M = {m}: I {v['mutual_information_held_out'][0]:.2f}, KL {v['marginal_kl_held_out'][0]:.2f}"
                          for m, v in sorted(r["held_out_by_reference_size"].items(), key=lambda kv: int(kv[0])))
        out.append(f"- {r['name']}: {steps}.")
    return out


def marginal_kl_ratio_lines(context: dict) -> list[str]:
    """Every VampPrior / standard-prior marginal KL ratio RESULTS.md lists, one per line. context: tools.report's
    runs, aliases and its ratio function (passed in: report imports this module, not the other way round)."""
    rows = [(n, r) for n, r in sorted(context["runs"].items()) if n not in context["aliases"] and r.finished
            and "rate_distortion" in r.results["metrics"]]
    return [f"- {line}" for line in context["marginal_kl_ratios"](rows)]


BLOCKS = {
    "docs/rate_distortion.md": {
        "marginal_kl_ratios": marginal_kl_ratio_lines,
        "optimal_prior": lambda context: optimal_prior_table(),
        "held_out_bias": lambda context: held_out_bias_lines(),
    },
}


def render_page(text: str, blocks: dict, context: dict) -> str:
    for name, make in blocks.items():
        body = "\n".join(make(context))
        text = re.sub(rf"(<!-- {name}:begin[^>]*-->\n)(?:.*?\n)?(<!-- {name}:end -->)",
                      lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text, flags=re.S)
    return text


def pages() -> list[str]:
    """The pages whose prose may hold rendered numbers: README.md, BUILD.md, bench/README.md's prose (its
    sections are the bench scripts' output) and docs/*.md."""
    return ["README.md", "BUILD.md", "bench/README.md"] + sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "docs", "*.md")))


def render_all(context: dict, write: bool = True) -> dict:
    """{page: its text with every block and every inline value (tools.report_values) rendered}; written
    back when write."""
    run_of = report_values.run_lookup(context["runs"], context.get("records_dir"))
    out = {}
    for page in pages():
        path = os.path.join(REPO, page)
        text = render_page(open(path).read(), BLOCKS.get(page, {}), context)
        text = report_values.render(text, run_of, page)
        out[page] = text
        if write:
            with open(path, "w") as f:
                f.write(text)
    return out
