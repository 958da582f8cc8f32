"""What tools.report lays out: the report's reference tables (quotations, report_tables.json), a run's record
as the report reads it (Run), and the formatting of its cells. Split from tools/report.py, which writes RESULTS.md."""

from __future__ import annotations

import json
import os

import numpy as np

from tools import records
from vamp_tf import statistics, units

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

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


def share_quotations(reruns: dict, *quotations: dict) -> None:
    """A rerun of a recorded flagfile (experiments/presets/) and its first run are quoted against the same
    outside numbers: each quotation {run: number} gets the other's entry where only one of a pair has one."""
    for run, entry in reruns.items():
        for quoted in quotations:
            for a, b in ((run, entry["reruns"]), (entry["reruns"], run)):
                if b in quoted:
                    quoted.setdefault(a, quoted[b])


share_quotations(TABLES["presets"], SEED, PAPER, EXEMPLAR_CELLS)


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

    @classmethod
    def rescored(cls, records_dir: str, name: str, directory: str) -> "Run":
        """A run's weights scored again (tools.rescore's record NAME in `directory`) as a run, named
        rescored/NAME: its per-image scores and -log p(x) are the rescoring's, the rest its run's."""
        record, per_image = records.load(name, directory)
        if record is None:
            raise ValueError(f"no rescored record {name} in {directory}")
        run = cls(records_dir, record["run"])
        run.name, run.per_image = f"rescored/{name}", per_image
        metrics = {**run.results["metrics"], "test_log_likelihood": record["test_log_likelihood"]}
        run.results = {**run.results, "metrics": metrics}
        return run

    def every(self, stride: int) -> "Run":
        """This run scored on every stride-th of its test images only (as a run of the paper's code with
        test_stride scores them): named NAME/stride, its -log p(x) and bits/dim the mean over those images."""
        if self.per_image is None or stride < 1:
            raise ValueError(f"{self.name} has no per-image scores to take every {stride}th of")
        run = Run.__new__(Run)
        run.name, run.record, run.recovered, run.per_image = f"{self.name}/{stride}", self.record, {}, self.per_image[::stride]
        run.results = self.results
        metrics = {**self.results["metrics"], "test_log_likelihood": float(np.mean(run.per_image)),
                   "bits_per_dim": float(np.mean(run.per_image_nll(bits=True)))}
        run.results = {**self.results, "metrics": metrics}
        return run

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


def _precision(results) -> str:
    """The training precision, and the CPU's bf16 hardware where the run recorded it."""
    precision = results.get("config", {}).get("train", {}).get("precision", "float32")
    hardware = results.get("machine", {}).get("cpu_bf16")
    return precision + (f" ({hardware})" if hardware and precision != "float32" else "")


