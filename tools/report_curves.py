"""The value kinds of tools/report_values.py that read a run's validation curve (its record's
`validation_curve`, [epoch, validation -ELBO] pairs) and its place beside outside tables:

    valid:RUN@E, best_by:RUN@E                the validation -ELBO at epoch E; the best up to E
    forecast_stop:RUN@E, forecast_value:RUN@E tools.progress's forecast from the curve up to E
    valid_gap:A-B@E                           A's validation -ELBO at E minus B's
    best_by_gap:A-B@E                         A's best validation -ELBO up to E minus B's
    valid_gap_mean:A-B@E1..E2, valid_gap_sd:A-B@E1..E2   that gap's mean and standard deviation over
                                              the epochs E1 to E2 (both included); valid_gap_max_abs,
                                              valid_gap_mean_abs: its largest and mean size there,
                                              valid_gap_max_abs_epoch: the epoch of the largest
    offset:RUN                                the best validation -ELBO minus the test -log p(x)
    vs_paper:RUN, vs_exemplar:RUN             the test -log p(x) minus the paper's (Exemplar VAE's) cell
                                              (RUN@CELL: against CELL's, for a variant of that run);
                                              vs_paper_bits: bits/dim against a cell in bits/dim;
    vs_seed:RUN, vs_seed_bits:RUN             the same against the seed study's cell
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np


class MissingValue(ValueError):
    """A value the records cannot give: an unknown kind, a run not recorded, an epoch not in its curve."""


def curve(run) -> dict:
    """{epoch: validation -ELBO} of a run's record."""
    points = (run.record or {}).get("validation_curve")
    if not points:
        raise MissingValue(f"{run.name}'s record has no validation curve")
    return {int(epoch): float(value) for epoch, value in points}


def run_at(spec: str, run_of: Callable):
    name, _, epoch = spec.partition("@")
    if not epoch:
        raise MissingValue(f"{spec!r} needs an epoch: RUN@EPOCH")
    return run_of(name), int(epoch)


@functools.lru_cache(maxsize=None)
def forecast(spec, run_of):
    """tools.progress's forecast from the run's validation curve after its warm-up, cut at epoch E (what
    `python -m tools.progress` said when the run stood at E)."""
    from tools import progress  # pylint: disable=import-outside-toplevel
    run, epoch = run_at(spec, run_of)
    train = run.results["config"]["train"]
    points = sorted((e, v) for e, v in curve(run).items() if train["warmup_epochs"] < e <= epoch)
    found = progress.forecast(np.array([e for e, _ in points]), np.array([v for _, v in points]),
                              train["early_stopping_patience"], train["epochs"])
    if found is None:
        raise MissingValue(f"{run.name}'s curve up to epoch {epoch} is too short to forecast")
    return found


def valid_at(spec, run_of, digits):
    run, epoch = run_at(spec, run_of)
    values = curve(run)
    if epoch not in values:
        raise MissingValue(f"{run.name}'s validation curve has no epoch {epoch}")
    return f"{values[epoch]:.{digits}f}"


def best_by(spec, run_of, digits):
    run, epoch = run_at(spec, run_of)
    values = [v for e, v in curve(run).items() if e <= epoch]
    if not values:
        raise MissingValue(f"{run.name}'s validation curve starts after epoch {epoch}")
    return f"{min(values):.{digits}f}"


def gaps(spec, run_of) -> np.ndarray:
    """A's validation -ELBO minus B's at each epoch of A-B@E or A-B@E1..E2, every epoch in both curves."""
    pair, _, epochs = spec.partition("@")
    a_name, sep, b_name = pair.partition("-")
    if not sep or not epochs:
        raise MissingValue(f"{spec!r} needs two runs and epochs: A-B@E or A-B@E1..E2")
    first, _, last = epochs.partition("..")
    a, b = curve(run_of(a_name)), curve(run_of(b_name))
    wanted = range(int(first), int(last or first) + 1)
    missing = [e for e in wanted if e not in a or e not in b]
    if missing:
        raise MissingValue(f"{a_name} and {b_name}'s validation curves do not both have epoch {missing[0]}")
    return np.array([a[e] - b[e] for e in wanted])


def _first_epoch(spec: str) -> int:
    """E1 of A-B@E1..E2 (or E of A-B@E)."""
    return int(spec.partition("@")[2].partition("..")[0])


def best_by_gap(spec, run_of, digits):
    """A's best validation -ELBO up to epoch E minus B's (A-B@E)."""
    pair, at, epoch = spec.partition("@")
    a_name, sep, b_name = pair.partition("-")
    if not sep or not at:
        raise MissingValue(f"{spec!r} needs two runs and an epoch: A-B@E")
    a, b = (float(best_by(f"{name}@{epoch}", run_of, 6)) for name in (a_name, b_name))
    return f"{a - b:.{digits}f}"


def offset(run, digits):
    """The best validation -ELBO minus the test -log p(x): how far validation reads above test."""
    metrics = run.results["metrics"]
    return f"{metrics['best_validation_neg_elbo'] + metrics['test_log_likelihood']:.{digits}f}"


def vs_outside(spec: str, run_of, cells: dict, digits, bits: bool = False) -> str:
    """RUN's test -log p(x) (bits: its bits/dim, for a table in bits/dim) minus an outside table's cell
    for it, or for the run CELL names (RUN@CELL: a variant of that cell's run), from
    tools/report_tables.json."""
    name, _, cell_run = spec.partition("@")
    run = run_of(name)
    if (cell_run or name) not in cells:
        raise MissingValue(f"the outside table has no cell for {cell_run or name}")
    cell = cells[cell_run or name]
    metrics = run.results["metrics"]
    if bits and "bits_per_dim" not in metrics:
        raise MissingValue(f"{name}'s record has no bits/dim (a binary dataset's run: use vs_paper)")
    ours = metrics["bits_per_dim"] if bits else -metrics["test_log_likelihood"]
    return f"{ours - (cell[0] if isinstance(cell, tuple) else cell):+.{digits}f}"


def _outside(which):
    from tools import report_runs  # pylint: disable=import-outside-toplevel
    return {"paper": report_runs.PAPER, "seed": report_runs.SEED, "exemplar": report_runs.EXEMPLAR_CELLS}[which]


KINDS = {  # kind: (default decimals, value(args, run_of, digits) -> text)
    "valid": (2, valid_at),
    "best_by": (2, best_by),
    "forecast_stop": (0, lambda a, r, d: str(forecast(a, r).stop_epoch)),
    "forecast_value": (2, lambda a, r, d: f"{forecast(a, r).at_stop:.{d}f}"),
    "best_by_gap": (2, best_by_gap),
    "valid_gap": (2, lambda a, r, d: f"{gaps(a, r)[0]:.{d}f}"),
    "valid_gap_mean": (2, lambda a, r, d: f"{np.mean(gaps(a, r)):.{d}f}"),
    "valid_gap_sd": (2, lambda a, r, d: f"{np.std(gaps(a, r), ddof=1):.{d}f}"),
    "valid_gap_max_abs": (2, lambda a, r, d: f"{np.max(np.abs(gaps(a, r))):.{d}f}"),
    "valid_gap_mean_abs": (2, lambda a, r, d: f"{np.mean(np.abs(gaps(a, r))):.{d}f}"),
    "valid_gap_max_abs_epoch": (0, lambda a, r, d: str(_first_epoch(a) + int(np.argmax(np.abs(gaps(a, r)))))),
    "offset": (2, lambda a, r, d: offset(r(a), d)),
    "vs_paper": (2, lambda a, r, d: vs_outside(a, r, _outside("paper"), d)),
    "vs_paper_bits": (3, lambda a, r, d: vs_outside(a, r, _outside("paper"), d, bits=True)),
    "vs_seed": (2, lambda a, r, d: vs_outside(a, r, _outside("seed"), d)),
    "vs_seed_bits": (3, lambda a, r, d: vs_outside(a, r, _outside("seed"), d, bits=True)),
    "vs_exemplar": (2, lambda a, r, d: vs_outside(a, r, _outside("exemplar"), d)),
}
