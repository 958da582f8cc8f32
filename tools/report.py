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

import os
import re

from absl import app, flags

from tools import ablation_report, parity_report, records, report_docs, report_presets
from tools.report_rd import RD_COLUMNS, RD_PLANE, _marginal_kl_ratios, rate_distortion_tables  # noqa: F401
from tools.report_runs import (ALIASES, EXEMPLAR, EXEMPLAR_CELLS, PAPER, PAPER_BITS, PAPER_CELLS,  # noqa: F401
                               PAPER_CELLS_NOTE, PAPER_MODELS, PAPER_SOURCE, PAPER_TABLE, REPO, SEED, TABLES, Run, _cell,
                               _exemplar, _fmt, _paired_difference, _paper, _precision, _samples_note, _usage,
                               _used_mass)

_RECORDS = flags.DEFINE_string("records", records.RECORDS, "Directory of run records (tools.record writes them).")
_RESULTS = flags.DEFINE_string("results", os.path.join(REPO, "RESULTS.md"), "Markdown file to write.")
_README = flags.DEFINE_string("readme", os.path.join(REPO, "README.md"), "README whose results block to update.")
_FIGURES = flags.DEFINE_string("figures_dir", records.FIGURES, "Where the representative figures are.")


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
    "caltech_summary": lambda runs: ablation_report.caltech_summary(runs, PAPER),
    "caltech_ablations": lambda runs: ablation_report.caltech_ablations(runs, _paired_difference),
    "frey_ablations": lambda runs: ablation_report.frey_ablations(runs, _paired_difference),
    "details": lambda runs: _details(runs),
    "exemplar_vae": _exemplar_section,
}


def readme_block(runs, figures) -> str:
    lines = ["Test -log p(x) (importance-sampled, S = 5000, full test sets; lower is better) from this repository's "
             "runs; every table and run in [RESULTS.md](RESULTS.md). Columns: ours with each prior; 'seed study', the "
             "reproduction study this project started from (one-layer VAE only); 'paper', Tomczak & Welling's main "
             "table; 'Exemplar VAE', that paper's reruns of the VampPrior code (Norouzi et al., NeurIPS 2020; it adds "
             "Fashion-MNIST); 'epochs', how each of our runs ended: 'early stop' by the paper's protocol, 'budget' cut "
             "at that many epochs before it (the paper trains up to 2000), so it understates what the model reaches. "
             "RESULTS.md quotes each outside table once, with its source.", "",
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
