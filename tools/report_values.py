"""Numbers inside the prose of README.md, BUILD.md and docs/, rendered from the run records.

A number that comes from a record is written in the page as

    <!--=KIND:ARGS-->TEXT<!--/-->

Markdown shows TEXT only; `python -m tools.report` rewrites TEXT from the records, and a test checks that
every committed page holds what the records give (tests/report_test.py). KIND and ARGS:

    nll:RUN          the run's test -log p(x), nats                      82.34
    nll_se:RUN       with its standard error over test images            82.34 ± 0.21
    bits:RUN, bits_se:RUN   the same in bits/dim (3 decimals)            4.529 ± 0.033
    paired:A-B       A's -log p(x) minus B's, mean over the same test    -0.95 ± 0.02
                     images with its paired standard error (nats; paired_bits: bits/dim; paired_mean,
                     paired_bits_mean: without it; largest_difference:A-B, the largest |A - B| of one image;
                     mean_abs_difference:A-B, the mean |A - B|; correlation:A-B, of the per-image scores)
    mean_difference:A-B   A's mean -log p(x) minus B's, for runs on different test images   +1.54
    gap:A-B, gap_bits:A-B   the size of that difference, unsigned, for prose that says who is ahead
                     (gap_mean, gap_bits_mean: without its standard error) 0.48 ± 0.06
    recovered_paired:A-B   a recovered record's paired difference, as RESULTS.md showed it then
    epochs:RUN       epochs trained                                      1112
    best_epoch:RUN   the epoch whose weights were scored                 1062
    neg_elbo:RUN     its test -ELBO (nats); elbo_gap:RUN, that minus its -log p(x)   85.87, 3.46
    best_valid:RUN   the best validation -ELBO (nats)                    85.46
    valid:RUN@E, best_by:RUN@E, forecast_*, valid_gap*, offset, vs_paper, vs_exemplar: the validation
                     curve and the outside tables (tools/report_curves.py)
    hours:RUN, minutes:RUN, eval_minutes:RUN, epoch_seconds:RUN   training time in hours, in minutes;
                     scoring's in minutes; training seconds per epoch (validation included)
    images:RUN       test images scored                                  10000
    op_nll:NAME@PRIOR   experiments/optimal_prior/NAME.json's -log p(x) under PRIOR, ± its s.e.
    op_share:NAME@PRIOR the share of the gap from N(0, I) to the aggregate that PRIOR closes   291% ± 18%
                     (NAME@PRIOR/smoothed: to the smoothed aggregate); op_paired:NAME@A-B, A's -log p(x) - B's
    op_split:NAME@FIELD its rate split's FIELD (marginal_kl_held_out, mutual_information_held_out, ...)
    usage:RUN, used:RUN, mass:RUN   components used of K (effective number), used, their mass: 19 of 500 (16.0)
    rescored:NAME    experiments/rescored/NAME.json's change in -log p(x), ± its paired s.e.
    field:FILE#KEYS  any number of a record under experiments/ (tools.record_fields)   2287.6
    rows:FILE#STAT:A-B@E1..E2   a statistic of a record's table of rows over epochs (tools.record_fields)
    bench:SECTION#MEASURE@I, bench_date:SECTION, bench_machine:SECTION   a benchmark's number (its day, its
                     processor) in bench/README.md, as the bench script wrote it (tools.bench_values)

RUN is a record of experiments/results/ or, named `ref_*`, of a run of the paper's code (experiments/parity/);
RUN/S is that run on every S-th test image only (the subset a run of the code with --test_stride S scored);
rescored/NAME is a run's weights scored again (experiments/rescored/NAME, tools.rescore), as a run.
A `~D` after ARGS sets the decimals (`nll:RUN~1`). A number that no record holds is either quoted from a
named outside source (the paper, Exemplar VAE) or says where it was measured; it is not written this way.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Optional

from tools import bench_values, optimal_prior_records, record_fields, report_curves
from vamp_tf import files, statistics

VALUE = re.compile(r"<!--=(?P<kind>[a-z_]+):(?P<args>[^~>]+?)(?:~(?P<digits>\d))?-->(?P<text>.*?)<!--/-->")


MissingValue = report_curves.MissingValue  # one error for every kind


def _test_set(run) -> tuple:
    """What decides a run's test images: the dataset, its split and how many were scored (a run of the
    paper's code scores our split of its dataset: its record has no such fields, and pairs by length)."""
    train = run.results.get("config", {}).get("train", {})
    return (train.get("dataset"), train.get("split_seed", 0), train.get("test_examples", 0)) if train else ()


def _mean_difference(spec, run_of, digits, bits):
    """A's mean -log p(x) minus B's, for runs on different test images (no pairing, no standard error)."""
    a_name, _, b_name = spec.partition("-")
    a, b = run_of(a_name), run_of(b_name)
    key = "bits_per_dim" if bits else "test_log_likelihood"
    sign = 1 if bits else -1
    return f"{sign * (_metric(a, key) - _metric(b, key)):+.{digits}f}"


def _gap(spec, run_of, digits, bits, error=True):
    """The size of a paired difference, for prose that says which side is ahead ('behind by 0.48 ± 0.06')."""
    mean, se = _paired_numbers(spec, run_of, bits)
    return f"{abs(mean):.{digits}f}" + (f" ± {se:.{digits}f}" if error else "")


def _paired(spec, run_of, digits, bits):
    mean, se = _paired_numbers(spec, run_of, bits)
    return f"{mean:+.{digits}f} ± {se:.{digits}f}"


def _pair(spec, run_of) -> tuple:
    """(A's name, A's run, B's name, B's run) of 'A-B', refused when the two score different test images."""
    a_name, sep, b_name = spec.partition("-")
    if not sep:
        raise MissingValue(f"{spec!r} needs two runs: A-B")
    a, b = run_of(a_name), run_of(b_name)
    if _test_set(a) and _test_set(b) and _test_set(a) != _test_set(b):
        raise MissingValue(f"{a_name} and {b_name} score different test images ({_test_set(a)} against "
                           f"{_test_set(b)}): no paired difference")
    return a_name, a, b_name, b


def _paired_numbers(spec, run_of, bits) -> tuple[float, float]:
    """(A's -log p(x) minus B's, mean over the same test images; its paired standard error). Records recovered
    from RESULTS.md hold no per-image scores: then the pair that RESULTS.md showed, which only exists between
    two recovered records (a newer record of B is another run)."""
    a_name, a, b_name, b = _pair(spec, run_of)
    if a.per_image is not None and b.per_image is not None and len(a.per_image) == len(b.per_image):
        return statistics.paired_difference(b.per_image_nll(bits), a.per_image_nll(bits))  # a - b
    pair = _recovered_pair(a, b_name) if b.recovered else None
    if pair is None:
        raise MissingValue(f"{a_name} and {b_name} do not score the same test images")
    return pair


PER_IMAGE = {  # kind: statistic of two runs' per-image -log p(x) over the same test images (nats)
    "largest_difference": lambda a, b: abs(a - b).max(),   # the largest |A - B| of one image
    "mean_abs_difference": lambda a, b: abs(a - b).mean(),  # the mean |A - B|
    "correlation": lambda a, b: float(((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std())),
}


def _per_image(kind, spec, run_of, digits):
    """PER_IMAGE[kind] of A's and B's -log p(x), image by image, over the images both scored."""
    a_name, a, b_name, b = _pair(spec, run_of)
    if a.per_image is None or b.per_image is None or len(a.per_image) != len(b.per_image):
        raise MissingValue(f"{a_name} and {b_name} do not score the same test images, one by one")
    return f"{float(PER_IMAGE[kind](a.per_image_nll(False), b.per_image_nll(False))):.{digits}f}"


def _recovered_pair(run, other: str) -> Optional[tuple[float, float]]:
    """The paired difference (run - other) that a recovered record carries from RESULTS.md, or None."""
    pair = (run.recovered.get("paired_differences") or {}).get(other)
    return None if pair is None else (float(pair[0]), float(pair[1]))


def _metric(run, key):
    value = run.metric(key)
    if value is None:
        raise MissingValue(f"{run.name} has no finished record with {key}")
    return value


def _rescored(name, digits):
    """The change in test -log p(x) of a run's weights scored again (tools.rescore: another checkpoint, or another
    probability clamp, on the same importance samples), ± its paired standard error."""
    from tools import ablation_report  # pylint: disable=import-outside-toplevel
    record = files.read_json(os.path.join(ablation_report.RESCORED, f"{name}.json"))
    if record is None:
        raise MissingValue(f"no rescored record {name} in experiments/rescored/")
    return f"{record['nll_change']:+.{digits}f} ± {record['nll_change_standard_error']:.{digits}f}"


def _usage(run, digits):
    """'19 of 500 (16.0)': the mixture components some test image's posterior mean is nearest to, of K, and
    exp(entropy) of the mean responsibilities (vamp_tf.evaluation.prior_usage)."""
    u = _metric(run, "prior_usage")
    return f"{u['components_used']} of {u['num_components']} ({u['effective_components']:.{digits}f})"


def _mass(run, digits):
    """The prior's mass on the used components, in percent."""
    from tools import report_runs  # pylint: disable=import-outside-toplevel
    return f"{100 * report_runs._used_mass(_metric(run, 'prior_usage')):.{digits}f}%"  # pylint: disable=protected-access


def _recovered_paired(spec, run_of, digits):
    """A recovered record's paired difference against the run its RESULTS.md row named (A-B: A minus B), even
    where B has a newer record since."""
    a_name, _, b_name = spec.partition("-")
    pair = _recovered_pair(run_of(a_name), b_name)
    if pair is None:
        raise MissingValue(f"{a_name}'s record holds no recovered paired difference against {b_name}")
    return f"{pair[0]:+.{digits}f} ± {pair[1]:.{digits}f}"


KINDS = {  # kind: (default decimals, value(args, run_of, digits) -> text)
    "nll": (2, lambda a, r, d: f"{-_metric(r(a), 'test_log_likelihood'):.{d}f}"),
    "nll_se": (2, lambda a, r, d: f"{-_metric(r(a), 'test_log_likelihood'):.{d}f} ± {r(a).standard_error():.{d}f}"),
    "bits": (3, lambda a, r, d: f"{_metric(r(a), 'bits_per_dim'):.{d}f}"),
    "bits_se": (3, lambda a, r, d: f"{_metric(r(a), 'bits_per_dim'):.{d}f} ± {r(a).standard_error(bits=True):.{d}f}"),
    "paired": (2, lambda a, r, d: _paired(a, r, d, bits=False)),
    "paired_bits": (3, lambda a, r, d: _paired(a, r, d, bits=True)),
    "paired_mean": (2, lambda a, r, d: f"{_paired_numbers(a, r, bits=False)[0]:+.{d}f}"),
    "paired_bits_mean": (3, lambda a, r, d: f"{_paired_numbers(a, r, bits=True)[0]:+.{d}f}"),
    **{kind: (3, lambda a, r, d, kind=kind: _per_image(kind, a, r, d)) for kind in PER_IMAGE},
    "recovered_paired": (3, _recovered_paired),
    "mean_difference": (2, lambda a, r, d: _mean_difference(a, r, d, bits=False)),
    "gap": (2, lambda a, r, d: _gap(a, r, d, bits=False)),
    "gap_bits": (3, lambda a, r, d: _gap(a, r, d, bits=True)),
    "gap_mean": (2, lambda a, r, d: _gap(a, r, d, bits=False, error=False)),
    "gap_bits_mean": (3, lambda a, r, d: _gap(a, r, d, bits=True, error=False)),
    "epochs": (0, lambda a, r, d: str(r(a).results["epochs_run"])),
    "best_epoch": (0, lambda a, r, d: str(_metric(r(a), "best_epoch"))),
    "neg_elbo": (2, lambda a, r, d: f"{_metric(r(a), 'test_neg_elbo'):.{d}f}"),
    "elbo_gap": (2, lambda a, r, d: f"{_metric(r(a), 'test_neg_elbo') + _metric(r(a), 'test_log_likelihood'):.{d}f}"),
    "best_valid": (2, lambda a, r, d: f"{_metric(r(a), 'best_validation_neg_elbo'):.{d}f}"),
    "hours": (2, lambda a, r, d: f"{r(a).results['train_seconds'] / 3600:.{d}f}"),
    "minutes": (0, lambda a, r, d: f"{r(a).results['train_seconds'] / 60:.{d}f}"),
    "eval_minutes": (0, lambda a, r, d: f"{r(a).results['evaluation_seconds'] / 60:.{d}f}"),
    "epoch_seconds": (0, lambda a, r, d: f"{r(a).results['train_seconds'] / r(a).results['epochs_run']:.{d}f}"),
    "images": (0, lambda a, r, d: str(len(r(a).per_image))),
    "rescored": (2, lambda a, r, d: _rescored(a, d)),
    "field": (2, lambda a, r, d: record_fields.value(a, d, MissingValue)),
    "rows": (2, lambda a, r, d: record_fields.rows(a, d, MissingValue)),
    "bench": (bench_values.VERBATIM, lambda a, r, d: bench_values.value(a, d, MissingValue)),
    "bench_date": (0, lambda a, r, d: bench_values.date(a, MissingValue)),
    "bench_machine": (0, lambda a, r, d: bench_values.machine(a, MissingValue)),
    "op_nll": (2, lambda a, r, d: optimal_prior_records.nll(a, d, MissingValue)),
    "op_share": (0, lambda a, r, d: optimal_prior_records.share(a, d, MissingValue)),
    "op_paired": (2, lambda a, r, d: optimal_prior_records.paired(a, d, MissingValue)),
    "op_split": (2, lambda a, r, d: optimal_prior_records.split(a, d, MissingValue)),
    "usage": (1, lambda a, r, d: _usage(r(a), d)),
    "used": (0, lambda a, r, d: str(_metric(r(a), "prior_usage")["components_used"])),
    "mass": (1, lambda a, r, d: _mass(r(a), d)),
    **report_curves.KINDS,
}


def render(text: str, run_of: Callable, page: str = "") -> str:
    """`text` with every value's TEXT rewritten from the records; run_of(name) gives a tools.report_runs.Run.
    Raises ValueError naming the page and the value when a record cannot give it."""
    def one(match):
        kind, args, digits = match.group("kind"), match.group("args"), match.group("digits")
        if kind not in KINDS:
            raise MissingValue(f"{page}: unknown value kind {kind!r} in {match.group(0)!r}; known: {', '.join(KINDS)}")
        default, make = KINDS[kind]
        try:
            value = make(args, run_of, int(digits) if digits is not None else default)
        except MissingValue as e:
            raise MissingValue(f"{page}: {match.group(0)!r}: {e}") from None
        return match.group(0)[:match.start("text") - match.start()] + value + "<!--/-->"
    return VALUE.sub(one, text)


def reference_run(name: str, directory: Optional[str] = None):
    """A run of the paper's code (its record in experiments/parity/, tools.parity) as a tools.report_runs.Run:
    the same kinds render its numbers (its budget's epochs and best epoch, its validation curve)."""
    from tools import parity, report_runs  # pylint: disable=import-outside-toplevel
    record, per_image = parity.load(name, *([directory] if directory else []))
    run = report_runs.Run.__new__(report_runs.Run)
    run.name, run.per_image, run.recovered = name, per_image, {}
    if record is None:
        run.record = run.results = None
        return run
    channels, height, width = record["settings"]["input_size"]
    curve = [[c["epoch"], c["validation_neg_elbo"]] for c in record["curve"] if c.get("validation_neg_elbo") is not None]
    metrics = {**record["metrics"], "best_epoch": record["budget"]["best_epoch"],
               "best_validation_neg_elbo": min(v for _, v in curve)}
    run.record = {**record, "validation_curve": curve}
    run.results = {"complete": True, "epochs_run": record["budget"]["epochs_run"], "metrics": metrics,
                   "train_seconds": record["train_seconds"], "config": {"model": {"input_shape": [height, width, channels]}}}
    return run


def run_lookup(runs: dict, records_dir: Optional[str] = None) -> Callable:
    """run_of(name): the report's Run of that name, or one loaded from its record (`ref_*`: a run of the paper's
    code, experiments/parity/); a run without a finished record is refused (a number cannot come from it)."""
    from tools import records, report_runs  # pylint: disable=import-outside-toplevel
    cache = dict(runs)

    def run_of(name: str):
        if name not in cache:  # NAME/S: every S-th test image (a run of the code's subset); rescored/NAME
            base, _, tail = name.rpartition("/")
            directory = records_dir or records.RECORDS
            cache[name] = (run_of(base).every(int(tail)) if base and tail.isdigit()
                           else report_runs.Run.rescored(directory, tail, os.path.join(directory, "..", "rescored"))
                           if base == "rescored" else reference_run(name) if name.startswith("ref_")
                           else report_runs.Run(directory, name))
        run = cache[name]
        if not run.finished:
            raise MissingValue(f"{name} has no finished record in experiments/results/")
        return run
    return run_of


def values_in(text: str) -> list[tuple[str, str]]:
    """[(kind:args, text)] of every value in a page, in order."""
    return [(f"{m.group('kind')}:{m.group('args')}", m.group("text")) for m in VALUE.finditer(text)]

