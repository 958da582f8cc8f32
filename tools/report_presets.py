"""The shipped presets in RESULTS.md and on the README's first screen, rendered from their records.

Each preset (vamp_tf/presets/manifest.json) names the record it was trained in; its row gives that
record's test -log p(x) with its standard error, the paper's number for the same cell where the paper
has one (report_tables.json "presets": which cell, quoted), the record it reruns (a preset's run is a
recorded flagfile trained again, experiments/presets/) with their paired difference, and the file.
"""

from __future__ import annotations

from vamp_tf import presets


def _nll(run, bits: bool) -> str:
    value = run.metric("bits_per_dim") if bits else run.nll()
    digits = 3 if bits else 2
    return f"{value:.{digits}f} ± {run.standard_error(bits):.{digits}f}"


def rows(runs, paper: dict, paired_difference, table: dict) -> list[str]:
    """Markdown table rows of the shipped presets (runs: report.Run by name; paper: run -> the paper's number;
    paired_difference(a, b, bits); table: report_tables.json's "presets")."""
    out = ["| preset | model | test -log p(x), ours | paper | reruns | ours - that run (paired) | file |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    entries = {name: presets.info(name) for name in presets.names()}
    order = list(table)  # report_tables.json lists the presets' records in the issue's order (mnist_vamp first)
    rank = {name: order.index(e["record"]) if e["record"] in order else len(order) for name, e in entries.items()}
    for name in sorted(entries, key=lambda n: (rank[n], n)):
        info = entries[name]
        run = runs.get(info["record"])
        if run is None or not run.finished:
            continue
        cell = table.get(info["record"], {})
        bits = run.metric("bits_per_dim") is not None
        unit = "bits/dim" if bits else "nats"
        first = runs.get(cell.get("reruns"))
        paper_value = paper.get(cell.get("paper_cell"))
        paper_text = "—" if paper_value is None else f"{paper_value:.2f}" + (
            f" ({cell['paper_note']})" if cell.get("paper_note") else "")
        difference = paired_difference(first, run, bits) if first is not None and first.finished else "—"
        out.append(f"| `{name}` | {cell.get('label', info['dataset'])} | {_nll(run, bits)} {unit} "
                   f"(S = {info['eval_samples']}, {info['num_test_images']} images) | {paper_text} | "
                   f"{cell.get('reruns', '—')} | {difference} | {info['bytes'] / 1e6:.1f} MB |")
    return out


def section(runs, paper: dict, paired_difference, table: dict) -> list[str]:
    """RESULTS.md's presets section."""
    return ["## The shipped trained models (presets)", "",
            "Each preset is the best-validation model of a run of `experiments/presets/`, a recorded flagfile "
            "trained again by its full protocol; `vamp_tf.presets.load(name)` loads it, `python -m tools.presets "
            "rescore NAME` re-scores its test set from the shipped file. The paired difference compares the preset's "
            "run with the earlier run of the same flagfile on the same test images (0 when the rerun reproduced it "
            "bit for bit).", "", *rows(runs, paper, paired_difference, table), ""]
