r"""Where runs still training stand, read from their workdirs: for the notes on long runs.

    python -m tools.progress RUNS_ROOT NAME [NAME ...]

For each run: epochs done, the best validation -ELBO and its epoch, how many epochs of the
early-stopping patience are used up, and a forecast (below). For two or more runs: their
validation -ELBO side by side every 50 epochs after the warm-up and at the last epoch all have.
Reads history.json and config.json only, so it can run while the trainers are writing.

The forecast fits v(e) = a + b e^(-c) by least squares to each epoch's validation -ELBO after
the warm-up (c on a grid, a and b exact for each c), and takes sigma, the spread of the epochs
about the fit, as the validation noise. Early stopping waits `patience` epochs for a better
validation -ELBO; the forecast says the run stops near the first epoch e after which the curve
gains less than sigma in `patience` epochs, f(e) - f(e + patience) < sigma, and gives f there.
It is an extrapolation of one noisy curve, not a result: the notes say so beside it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Optional

import numpy as np
from absl import app

from vamp_tf import files
from vamp_tf import workdir as run_workdir

_EXPONENTS = np.linspace(0.05, 3.0, 296)  # the grid of c


@dataclasses.dataclass(frozen=True)
class Forecast:
    asymptote: float  # a: the curve's limit
    exponent: float  # c
    noise: float  # sigma: the epochs' spread about the fitted curve
    stop_epoch: int  # where f(e) - f(e + patience) < sigma first holds (capped at the run's epochs)
    at_stop: float  # f(stop_epoch)


def fit_curve(epochs: np.ndarray, values: np.ndarray) -> tuple[float, float, float, float]:
    """(a, b, c, sigma) of the least-squares fit of a + b e^(-c) to (epochs, values)."""
    best = None
    for c in _EXPONENTS:
        design = np.stack([np.ones_like(epochs), epochs ** -c], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, values, rcond=None)
        residual = values - design @ np.array([a, b])
        sse = float(residual @ residual)
        if best is None or sse < best[0]:
            best = (sse, a, b, c)
    sse, a, b, c = best
    return float(a), float(b), float(c), float(np.sqrt(sse / max(len(values) - 3, 1)))


def forecast(epochs: np.ndarray, values: np.ndarray, patience: int, max_epochs: int) -> Optional[Forecast]:
    """The fitted curve's forecast (None with fewer than 2 * patience epochs to fit: too short a curve)."""
    if len(epochs) < 2 * patience:
        return None
    a, b, c, sigma = fit_curve(epochs.astype(float), values.astype(float))
    grid = np.arange(int(epochs[0]), max_epochs + 1, dtype=float)
    gain = b * (grid ** -c - (grid + patience) ** -c)
    slow = np.nonzero(gain < sigma)[0]
    stop = int(grid[slow[0]]) if len(slow) else max_epochs
    stop = max(stop, int(epochs[-1]))
    return Forecast(asymptote=a, exponent=c, noise=sigma, stop_epoch=stop, at_stop=a + b * stop ** -c)


@dataclasses.dataclass(frozen=True)
class Progress:
    name: str
    epochs: np.ndarray  # epochs with a validation -ELBO
    validation: np.ndarray  # their validation -ELBO
    warmup: int
    patience: int
    max_epochs: int
    finished: bool

    @property
    def best_epoch(self) -> int:
        after = self.epochs > self.warmup if np.any(self.epochs > self.warmup) else np.ones_like(self.epochs, bool)
        return int(self.epochs[after][np.argmin(self.validation[after])])

    def at(self, epoch: int) -> Optional[float]:
        hit = np.nonzero(self.epochs == epoch)[0]
        return float(self.validation[hit[0]]) if len(hit) else None

    def forecast(self) -> Optional[Forecast]:
        after = self.epochs > self.warmup
        return forecast(self.epochs[after], self.validation[after], self.patience, self.max_epochs)


def read(root: str, name: str) -> Progress:
    workdir = os.path.join(root, name)
    config = files.read_json(run_workdir.paths(workdir).config)
    if config is None:
        raise app.UsageError(f"no config.json in {workdir}: is {root} the runs' root and {name!r} a run started there?")
    rows = [h for h in run_workdir.read_history(workdir) if "validation_neg_elbo" in h]
    if not rows:
        raise app.UsageError(f"{name} has no validated epoch yet: nothing to report.")
    train = config["train"]
    return Progress(name, np.array([h["epoch"] for h in rows]), np.array([h["validation_neg_elbo"] for h in rows]),
                    warmup=train["warmup_epochs"], patience=train["early_stopping_patience"],
                    max_epochs=train["epochs"], finished=os.path.isfile(run_workdir.paths(workdir).results))


def summary_lines(runs: list[Progress]) -> list[str]:
    lines = ["| run | epochs done | best validation -ELBO (epoch) | patience used | forecast: stop near | "
             "forecast there | curve's limit | noise |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        best = r.best_epoch
        f = None if r.finished else r.forecast()
        cells = ["finished"] * 4 if r.finished else (
            ["too short to fit"] * 4 if f is None else
            [str(f.stop_epoch), f"{f.at_stop:.2f}", f"{f.asymptote:.2f}", f"{f.noise:.2f}"])
        lines.append(f"| {r.name} | {int(r.epochs[-1])} / {r.max_epochs} | {r.at(best):.2f} ({best}) | "
                     f"{int(r.epochs[-1]) - best} / {r.patience} | " + " | ".join(cells) + " |")
    return lines


def matched_lines(runs: list[Progress], every: int = 50) -> list[str]:
    """Validation -ELBO of every run at matched epochs: each multiple of `every` after the warm-up, and the
    last epoch all runs have; the best so far at that epoch in brackets."""
    last = min(int(r.epochs[-1]) for r in runs)
    start = max(r.warmup for r in runs)
    marks = sorted({e for e in range(start, last + 1, every) if e > 0} | {last})
    lines = ["| epoch | " + " | ".join(r.name for r in runs) + " |", "| --- |" + " --- |" * len(runs)]
    for e in marks:
        cells = []
        for r in runs:
            v = r.at(e)
            upto = r.validation[r.epochs <= e]
            cells.append("—" if v is None else f"{v:.2f} (best {upto.min():.2f})")
        lines.append(f"| {e} | " + " | ".join(cells) + " |")
    return lines


def main(argv):
    if len(argv) < 3:
        raise app.UsageError("usage: python -m tools.progress RUNS_ROOT NAME [NAME ...]")
    runs = [read(argv[1], name) for name in argv[2:]]
    print("\n".join(summary_lines(runs)))
    if len(runs) > 1:
        print()
        print("\n".join(matched_lines(runs)))


if __name__ == "__main__":
    app.run(main)
