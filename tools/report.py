r"""Writes RESULTS.md (and the README's results table) from the run records in experiments/results/.

    python -m tools.report [--records=experiments/results] [--results=RESULTS.md] [--readme=README.md]

Reads the record of every experiment flagfile NAME (written by `python -m tools.record`
from the run's workdir; see tools/records.py), lays the numbers out like the seed
study's tables, beside the seed study's and the paper's, with the epochs run and why training
stopped, the wall time and the commits, and links the representative figures in docs/figures/.
The records are in the repository, so RESULTS.md regenerates from a fresh clone (a test checks
that it does, byte for byte). Nothing in RESULTS.md is typed by hand: the reference numbers
below are quotations of the seed report and of the paper.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
from absl import app, flags

from tools import parity_report, records, report_docs, report_presets
from vamp_tf import statistics, units
from vamp_tf.config import RESUMABLE_FIELDS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_RECORDS = flags.DEFINE_string("records", records.RECORDS, "Directory of run records (tools.record writes them).")
_RESULTS = flags.DEFINE_string("results", os.path.join(REPO, "RESULTS.md"), "Markdown file to write.")
_README = flags.DEFINE_string("readme", os.path.join(REPO, "README.md"), "README whose results block to update.")
_FIGURES = flags.DEFINE_string("figures_dir", records.FIGURES, "Where the representative figures are.")

# The tables as data: the seed study's and the paper's numbers (quotations, with their source), which of
# our runs fill which cell, and the order and rows of RESULTS.md's tables.
TABLES = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "report_tables.json")))
SEED = TABLES["seed_study"]  # seed report (reproduction study, one-layer VAE, K = 500 unless stated)
PAPER_SOURCE = TABLES["paper"]["source"]
PAPER_CELLS_NOTE = TABLES["paper"].get("cells_note")  # what sets a cell's runs apart from our default recipe
PAPER_MODELS = tuple(TABLES["paper"]["models"])
PAPER_TABLE = {dataset: {model: tuple(pair) for model, pair in cells.items()}  # dataset: {model: (standard, vamp)}
               for dataset, cells in TABLES["paper"]["table"].items()}
PAPER_BITS = tuple(TABLES["paper"]["bits_datasets"])
# Our runs of the paper's cells: (dataset, model) -> (standard run, VampPrior run).
PAPER_CELLS = {(dataset, model): (std, vamp) for dataset, model, std, vamp in TABLES["paper"]["cells"]}
# Run name -> the paper's number for it (every paper cell RESULTS.md shows comes from PAPER_TABLE).
PAPER = {run: PAPER_TABLE[dataset][model][i] for (dataset, model), pair in PAPER_CELLS.items()
         for i, run in enumerate(pair)}
# The standard prior has no K: its K-variant cells are the latent-40 standard run.
ALIASES = TABLES["aliases"]
EXEMPLAR = TABLES["exemplar_vae"]  # a second anchor: Exemplar VAE's reruns of the VampPrior, with Fashion-MNIST
# Run name -> (Exemplar VAE's -log p(x), its ±) for the runs that table anchors.
EXEMPLAR_CELLS = {run: tuple(cell) for *_, std, vamp, s, v in EXEMPLAR["rows"] for run, cell in ((std, s), (vamp, v))}


class Run:
    """What report needs of one run's record; a run without a record is 'not run'.

    A record recovered from an earlier RESULTS.md (its workdir lost) has no per-image array;
    it carries the standard errors and paired differences that RESULTS.md showed instead.
    """

    def __init__(self, records_dir: str, name: str):
        self.name = name
        self.record, self.per_image = records.load(ALIASES.get(name, name), records_dir)
        self.results = self.record["results"] if self.record else None
        self.recovered = (self.record or {}).get("recovered") or {}

    def standard_error(self, bits: bool = False):
        """Standard error of the mean test -log p(x) (of bits/dim if bits), over test images."""
        if self.per_image is None or len(self.per_image) < 2:
            return self.recovered.get("standard_errors", {}).get("bits" if bits else "nats")
        nll = self.per_image_nll(bits)
        return statistics.standard_error(nll)

    def per_image_nll(self, bits: bool) -> np.ndarray:
        """Each test image's -log p(x), in nats or (if bits) in bits/dim."""
        if bits:
            return units.bits_per_dim(self.per_image, int(np.prod(self.results["config"]["model"]["input_shape"])))
        return -self.per_image

    @property
    def finished(self) -> bool:
        return bool(self.results and self.results.get("complete"))

    def metric(self, key: str):
        return self.results["metrics"].get(key) if self.finished else None

    def nll(self):
        ll = self.metric("test_log_likelihood")
        return None if ll is None else -ll

    def epochs(self) -> str:
        if self.finished:
            r = self.results
            why = "early stop" if r["stopped_early"] else "budget"
            return f"{r['epochs_run']} ({why})"
        return "not run"

    def commits(self) -> str:
        return ", ".join(c[:10] for c in self.record["commits"]) if self.record else "—"


def _fmt(value, digits):
    return "—" if value is None else f"{value:.{digits}f}"


def _samples_note(run: Run) -> str:
    """' (S = n)' for a run evaluated with other than the paper's 5000 importance samples, and
    ' (clamp c)' for one scored under the paper's code's --probability_clamp (vamp_tf.results.score_notes)."""
    config = run.results.get("config", {}) if run.finished else {}
    samples = config.get("train", {}).get("eval_samples", 5000)
    clamp = config.get("model", {}).get("probability_clamp", 0.0)
    return ("" if samples == 5000 else f" (S = {samples})") + (f" (clamp {clamp:g})" if clamp else "")


def _cell(run: Run, digits: int, bits: bool) -> str:
    value = run.metric("bits_per_dim") if bits else run.nll()
    return _fmt(value, digits) + _samples_note(run) if run.finished else "—"


def _paired_difference(a: Run, b: Run, bits: bool) -> str:
    """mean over test images of (b's - a's) -log p(x), with its paired standard error."""
    digits = 3 if bits else 2
    if a.per_image is None or b.per_image is None or len(a.per_image) != len(b.per_image) or a is b:
        # A recovered record's paired difference was against the other run's recovered record; a newer
        # record of that other run is another run, so there is nothing to show.
        recovered = b.recovered.get("paired_differences", {}).get(a.name) if a.recovered else None
        return "—" if recovered is None else f"{recovered[0]:+.{digits}f} ± {recovered[1]:.{digits}f}"
    mean, se = statistics.paired_difference(a.per_image_nll(bits), b.per_image_nll(bits))  # negative: b better
    return f"{mean:+.{digits}f} ± {se:.{digits}f}"


def _table(runs, rows, bits: bool, title: str, labels=("standard", "VampPrior"), paper_column: bool = True) -> list[str]:
    digits = 3 if bits else 2
    with_paper = paper_column and any(std in PAPER or vamp in PAPER for _, std, vamp in rows)
    unit = "bits/dim" if bits else "nats, -log p(x)"
    a, b = labels
    head = [f"| setting | {a}: ours | {a}: seed | {b}: ours | {b}: seed | ours: {b} - {a} (paired s.e.) |"
            + (" paper (std / vamp) |" if with_paper else "") + f" epochs ({a} / {b}) |",
            "| --- | --- | --- | --- | --- | --- |" + (" --- |" if with_paper else "") + " --- |"]
    lines = [f"### {title} ({unit}, lower is better)", ""] + head
    for label, std, vamp in rows:
        s, v = runs[std], runs[vamp]
        paper = f" {_paper(std)} / {_paper(vamp)} |" if with_paper else ""
        lines.append(f"| {label} | {_cell(s, digits, bits)} | {_fmt(SEED.get(std), digits)} | {_cell(v, digits, bits)} | "
                     f"{_fmt(SEED.get(vamp), digits)} | {_paired_difference(s, v, bits)} |{paper} "
                     f"{s.epochs()} / {v.epochs()} |")
    return lines + [""]


def _paper(name) -> str:
    """The paper's number for a run, to the paper's two decimals ('—' if the paper has no such cell)."""
    return _fmt(PAPER.get(name), 2)


def _exemplar(name) -> str:
    """Exemplar VAE's number for a run ('—' if its table has no such cell)."""
    return _fmt(EXEMPLAR_CELLS.get(name, (None,))[0], 2)


def _used_mass(u) -> float:
    """The prior's mass on the used components; records from before it was measured had uniform
    weights, for which it is components_used / K."""
    return u.get("used_mass", u["components_used"] / u["num_components"])


def _usage(metrics) -> str:
    """'19 / 500 (16.8), 3.8%': components that are the most responsible one for some test image,
    of K, exp(entropy) of the mean responsibilities, and the prior's mass on the used ones
    (vamp_tf.evaluation.prior_usage)."""
    u = metrics.get("prior_usage")
    if not u:
        return "—"
    return f"{u['components_used']} / {u['num_components']} ({u['effective_components']:.1f}), {100 * _used_mass(u):.1f}%"


def _details(runs) -> list[str]:
    lines = ["### Every run", "",
             "| run | -log p(x) [nats] ± s.e. | bits/dim ± s.e. | test ELBO | RE | KL | active units | "
             "prior components used (effective), mass on them | epochs | best epoch | training precision | "
             "train time | eval time | commits |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, run in sorted(runs.items()):
        if name in ALIASES:
            continue
        if not run.finished:
            lines.append(f"| {name} | — | — | — | — | — | — | — | {run.epochs()} | — | — | — | — | {run.commits()} |")
            continue
        r, m = run.results, run.results["metrics"]
        se, se_bits = run.standard_error(), run.standard_error(bits=True)
        bits = f"{m['bits_per_dim']:.3f} ± {se_bits:.3f}" if "bits_per_dim" in m and se_bits is not None else \
            _fmt(m.get("bits_per_dim"), 3)
        lines.append(
            f"| {name} | {-m['test_log_likelihood']:.2f}{f' ± {se:.2f}' if se is not None else ''}"
            f"{_samples_note(run)} | {bits} | "
            f"{m['test_elbo']:.2f} | "
            f"{-m['test_reconstruction']:.2f} | {m['test_kl']:.2f} | "
            f"{', '.join(f'{k} {v}' for k, v in sorted(m['active_units'].items()))} | {_usage(m)} | {run.epochs()} | "
            f"{m['best_epoch']} | {_precision(r)} | {r['train_seconds'] / 3600:.2f} h | {r['evaluation_seconds'] / 60:.1f} min | "
            f"{run.commits()} |")
    return lines + [""]


def _precision(results) -> str:
    """The training precision, and the CPU's bf16 hardware where the run recorded it."""
    precision = results.get("config", {}).get("train", {}).get("precision", "float32")
    hardware = results.get("machine", {}).get("cpu_bf16")
    return precision + (f" ({hardware})" if hardware and precision != "float32" else "")


def _figures(runs, figures_dir) -> dict:
    """(run, kind): path of each representative figure of a finished run that is in figures_dir."""
    found = {}
    for name, kinds in records.REPRESENTATIVE.items():
        if runs.get(name) and runs[name].finished:
            for kind in kinds:
                path = os.path.join(figures_dir, name, f"{kind}.png")
                if os.path.isfile(path):
                    found[(name, kind)] = os.path.relpath(path, REPO)
    return found


RD_COLUMNS = (("neg_elbo", "-ELBO"), ("distortion", "D"), ("rate", "R"), ("rate_prior_latent", "R of the prior's latent"),
              ("mutual_information", "I[n; z]"), ("marginal_kl", "KL(q(z) || p(z))"))


RD_PLANE = os.path.join("docs", "figures", "rate_distortion", "mnist_plane.png")  # tools.rate_distortion_plane


def _rd_key(run) -> tuple:
    config = run.results["config"]
    return (config.get("model", {}).get("model", ""), config.get("model", {}).get("latent_dim", 0),
            config.get("model", {}).get("prior", ""), config.get("train", {}).get("beta", 1.0), run.name)


def _split(run) -> dict:
    return run.results["metrics"]["rate_distortion"]


# The prior's own fields, and the train fields that do not change what is trained (those a run may change
# on resume, but the budget): two runs equal outside these differ only in their prior.
_PRIOR_FIELDS = frozenset({"prior", "num_components", "pseudo_init", "pseudo_mean", "pseudo_std", "component_weights"})
_RUNTIME_FIELDS = RESUMABLE_FIELDS - {"epochs"}


def _setting_but_prior(run) -> str:
    config = run.results["config"]
    kept = {section: {k: v for k, v in config.get(section, {}).items() if k not in _PRIOR_FIELDS | _RUNTIME_FIELDS}
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


def build(records_dir: str, figures_dir: str):
    names = sorted(set(records.flagfiles()) | set(ALIASES))
    runs = {n: Run(records_dir, n) for n in names}
    figures = _figures(runs, figures_dir)
    recovered = sorted(n for n, r in runs.items() if r.recovered and n not in ALIASES)
    budget_note = ("Epochs: 'early stop' means the paper's protocol ended the run (50 epochs without a better "
                   "validation -ELBO after the 100-epoch warm-up); 'budget' means it was cut by this machine's "
                   "epoch budget before converging (the paper trains up to 2000 epochs), so the number "
                   "understates what the configuration reaches.")
    sections = ["# Results", "",
                f"Generated by `python -m tools.report` from the run records in "
                f"`{os.path.relpath(records_dir, REPO)}/` (`python -m tools.record` writes one from each "
                "finished run's workdir); nothing here is typed by hand. Test "
                "log-likelihoods are importance-sampled with S = 5000 (where a cell says otherwise, with that S) "
                "on the full test sets (10,000 MNIST images, "
                "200 Frey Faces images, 2,307 Caltech 101 Silhouettes images) with the best-validation weights. "
                "'seed' is the seed reproduction study, 'paper' the paper's main results table (below, quoted once, "
                "with its source). Each cell is one run with seed 0; Table 7 repeats one pair with seed 1. The "
                "difference column compares our two runs image by image on the same test images (negative: the "
                "second is better), with the paired standard error; 'Every run' gives each mean's standard error "
                "over test images.",
                "", budget_note, ""]
    if recovered:
        sources = ", ".join(sorted({runs[n].recovered["from"] for n in recovered}))
        sections += [f"Recovered records: the workdirs of {len(recovered)} runs were lost with the machine that "
                     f"trained them, and their records were recovered from {sources}, which had been generated from "
                     "those workdirs. They hold the numbers as that file rounded them, with the standard errors and "
                     "paired differences it showed, and no per-image log-likelihoods; newer records keep each test "
                     "image's log-likelihood. A paired difference between a recovered run and a newer run of the "
                     "other setting cannot be computed and shows '—'.", ""]
    sections += ["Prior components used: of the prior's K mixture components, how many are the most responsible "
                 "one for at least one test image's posterior mean, in brackets exp(entropy) of the components' "
                 "mean responsibilities, then the share of the prior's mass on the used components "
                 "(`vamp_tf.evaluation.prior_usage`). A VampPrior component that no image uses is prior mass "
                 "where there is no data; samples drawn from it look like no test image.", ""]
    sections += [line for section in TABLES["sections"] for line in _section(runs, section)]
    sections += rate_distortion_tables(runs)
    sections += report_docs.optimal_prior_section()
    sections += report_presets.section(runs, PAPER, _paired_difference, TABLES["presets"])
    if figures:
        sections += ["### Figures", ""]
        for (name, kind), path in sorted(figures.items()):
            sections.append(f"- {name}, {kind.replace('_', ' ')}: [{os.path.basename(path)}]({path})")
        sections.append("")
    return runs, figures, "\n".join(sections)


def _section(runs, section: dict) -> list[str]:
    """The lines of one entry of TABLES['sections'] (its 'kind' picks the layout)."""
    kind = section["kind"]
    if kind == "pairs":
        return _table(runs, [tuple(row) for row in section["rows"]], section["bits"], section["title"],
                      labels=tuple(section.get("labels", ("standard", "VampPrior"))),
                      paper_column=section.get("paper_column", True))
    if kind == "remedies":
        return _remedies(runs, section["rows"])
    return _LAYOUTS[kind](runs)


def _paper_section(runs) -> list[str]:
    """The paper's table, once, with ours beside each cell we ran (ours - paper)."""
    lines = ["### The paper's table", "", f"Source: {PAPER_SOURCE}. Negative test log-likelihood, standard / "
             "VampPrior, in nats (Frey Faces and Histopathology in bits/dim); lower is better. Below each of the "
             "paper's cells that we ran: ours, and ours - paper.", "",
             "| dataset | " + " | ".join(PAPER_MODELS) + " |", "| --- |" + " --- |" * len(PAPER_MODELS)]
    for dataset, cells in PAPER_TABLE.items():
        digits = 2
        row = [f"{cells[m][0]:.{digits}f} / {cells[m][1]:.{digits}f}" for m in PAPER_MODELS]
        lines.append(f"| {dataset} (paper) | " + " | ".join(row) + " |")
        bits = dataset in PAPER_BITS
        ours = []
        for m in PAPER_MODELS:
            pair = PAPER_CELLS.get((dataset, m))
            values = [runs[n].metric("bits_per_dim") if bits else runs[n].nll() for n in pair] if pair else [None, None]
            if not any(v is not None for v in values):
                ours.append("")
                continue
            d = 3 if bits else 2
            ours.append(" / ".join("—" if v is None else f"{v:.{d}f} ({v - cells[m][i]:+.{d}f}){_samples_note(runs[pair[i]])}"
                                   for i, v in enumerate(values)))
        if any(ours):
            lines.append(f"| {dataset} (ours, ours - paper) | " + " | ".join(ours) + " |")
    return lines + ([""] if PAPER_CELLS_NOTE is None else ["", PAPER_CELLS_NOTE, ""])


def _exemplar_section(runs) -> list[str]:
    """Our runs beside Exemplar VAE's table (EXEMPLAR), cell by cell and as VampPrior - standard."""
    lines = ["### Beside Exemplar VAE's table: dynamic MNIST and Fashion-MNIST (nats, -log p(x), lower is better)", "",
             f"Source: {EXEMPLAR['source']}. Fashion-MNIST is not in the paper; it is dynamically binarized, with the "
             "validation split Exemplar VAE's loader makes (`vamp_tf.datasets`). Ours: one run each, seed 0; "
             "ours - theirs after each of our numbers.", "",
             "| dataset, model | Exemplar VAE: Gaussian | Exemplar VAE: VampPrior | ours: standard (- theirs) | "
             "ours: VampPrior (- theirs) | VampPrior - standard: ours (paired s.e.) | VampPrior - Gaussian: theirs | "
             "epochs (standard / VampPrior) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for dataset, model, std, vamp, (s_theirs, s_pm), (v_theirs, v_pm) in EXEMPLAR["rows"]:
        s, v = runs[std], runs[vamp]
        ours = [f"{_cell(r, 2, False)} ({r.nll() - theirs:+.2f})" if r.finished else "—"
                for r, theirs in ((s, s_theirs), (v, v_theirs))]
        lines.append(f"| {dataset}, {model} | {s_theirs:.2f} ± {s_pm:.2f} | {v_theirs:.2f} ± {v_pm:.2f} | {ours[0]} | "
                     f"{ours[1]} | {_paired_difference(s, v, False)} | {v_theirs - s_theirs:+.2f} | "
                     f"{s.epochs()} / {v.epochs()} |")
    return lines + [""]


def _remedies(runs, rows) -> list[str]:
    """Table 9; rows: (run, what differs from the paper's VampPrior, the run it is paired with)."""
    lines = ["### Table 9: remedies for unused pseudo-inputs (latent 40, K = 500), not in the paper", "",
             "Each remedy against the paper's VampPrior trained the same way (first row of each dataset), on the "
             "same test images. Mass on used components: the share of samples from the prior that come from a "
             "component some test image uses.", "",
             "| run | what differs | -log p(x) | vs the paper's VampPrior (paired s.e.) | components used (effective) | "
             "mass on used components | epochs |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, what, reference_name in rows:
        run = runs.get(name)
        if run is None or not run.finished:
            lines.append(f"| {name} | {what} | — | — | — | — | {run.epochs() if run else 'not run'} |")
            continue
        bits = "bits_per_dim" in run.results["metrics"]
        reference = runs[reference_name]
        value = _cell(run, 3 if bits else 2, bits) + (" bits/dim" if bits else " nats")
        paired = "—" if reference is run else _paired_difference(reference, run, bits)
        u = run.metric("prior_usage")
        lines.append(f"| {name} | {what} | {value} | {paired} | {u['components_used']} / {u['num_components']} "
                     f"({u['effective_components']:.1f}) | {100 * _used_mass(u):.1f}% | {run.epochs()} |")
    return lines + [""]


_LAYOUTS = {  # TABLES['sections'] kinds without rows of their own
    "paper": lambda runs: _paper_section(runs),
    "parity": parity_report.parity_table,
    "caltech_summary": lambda runs: parity_report.caltech_summary(runs, PAPER),
    "caltech_ablations": lambda runs: parity_report.caltech_ablations(runs, _paired_difference),
    "frey_ablations": lambda runs: parity_report.frey_ablations(runs, _paired_difference),
    "details": lambda runs: _details(runs),
    "exemplar_vae": _exemplar_section,
}


def readme_block(runs, figures) -> str:
    lines = ["Test log-likelihood (importance-sampled, S = 5000, full test sets) from this repository's runs; "
             "every table and run in [RESULTS.md](RESULTS.md). 'budget': the run was cut at that many epochs before "
             "the protocol's early stop (the paper trains up to 2000), so it understates what the model reaches.", "",
             "| model | standard prior | VampPrior | seed study (std / vamp) | paper (std / vamp) | "
             "Exemplar VAE (std / vamp) | epochs (std / vamp) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    readme = TABLES["readme"]
    for label, std, vamp, bits in readme["rows"]:
        digits = 3 if bits else 2
        s, v = runs[std], runs[vamp]
        lines.append(f"| {label} | {_cell(s, digits, bits)} | {_cell(v, digits, bits)} | "
                     f"{_fmt(SEED.get(std), digits)} / {_fmt(SEED.get(vamp), digits)} | "
                     f"{_paper(std)} / {_paper(vamp)} | {_exemplar(std)} / {_exemplar(vamp)} | "
                     f"{s.epochs()} / {v.epochs()} |")
    learned = runs.get(readme["learned_weights_run"])
    if learned is not None and learned.finished:
        u = learned.metric("prior_usage")
        lines += ["", f"On Frey Faces the paper's VampPrior leaves most pseudo-inputs unused, so most of its samples are "
                  f"one blurry face (first Frey sheet below). With learned mixture weights "
                  f"(`--component_weights=learned`, Table 9 of RESULTS.md), {100 * _used_mass(u):.0f}% of the prior's "
                  f"mass sits on the components test images use, the test log-likelihood is "
                  f"{_cell(learned, 3, True)} bits/dim, and the samples are varied faces (second sheet)."]
    lines.append("")
    for kind in readme["figures"]["kinds"]:
        for name in readme["figures"]["runs"]:
            if (name, kind) in figures:
                lines.append(f"![{name} {kind}]({figures[(name, kind)]})")
    return "\n".join(lines)


def docs_context(runs) -> dict:
    """What tools.report_docs renders the pages' blocks from."""
    return {"runs": runs, "aliases": ALIASES, "marginal_kl_ratios": _marginal_kl_ratios}


def main(argv):
    del argv
    runs, figures, text = build(_RECORDS.value, _FIGURES.value)
    with open(_RESULTS.value, "w") as f:
        f.write(text + "\n")
    readme = open(_README.value).read()
    block = readme_block(runs, figures)
    readme = re.sub(r"(<!-- results:begin[^>]*-->\n).*?(\n<!-- results:end -->)",
                    lambda m: m.group(1) + block + m.group(2), readme, flags=re.S)
    preset_rows = "\n".join(report_presets.rows(runs, PAPER, _paired_difference, TABLES["presets"]))
    readme = re.sub(r"(<!-- presets:begin[^>]*-->\n).*?(\n<!-- presets:end -->)",
                    lambda m: m.group(1) + preset_rows + m.group(2), readme, flags=re.S)
    with open(_README.value, "w") as f:
        f.write(readme)
    report_docs.render_all(docs_context(runs))
    finished = sum(r.finished for n, r in runs.items() if n not in ALIASES)
    print(f"wrote {_RESULTS.value} ({finished} finished runs) and the results block of {_README.value}")


if __name__ == "__main__":
    app.run(main)
