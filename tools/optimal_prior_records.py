"""The records tools.optimal_prior writes, experiments/optimal_prior/NAME.json: where they are, reading them,
and their numbers as the prose quotes them (tools.report_values' op_* kinds; tools.report_docs lays out the
table). Repository tooling, as tools.report."""

from __future__ import annotations

import glob
import os
from typing import Optional

from vamp_tf import files

DIRECTORY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments", "optimal_prior")


def load_all(directory: str = DIRECTORY) -> list[dict]:
    """Every record, by name."""
    return [files.read_json(p) for p in sorted(glob.glob(os.path.join(directory, "*.json")))]


def load(name: str, directory: Optional[str] = None) -> Optional[dict]:
    """The record NAME (in `directory`, default DIRECTORY), or None."""
    return files.read_json(os.path.join(directory or DIRECTORY, f"{name}.json"))


def _record_and_field(spec: str, missing: type) -> tuple[dict, str]:
    name, _, field = spec.partition("@")
    record = load(name)
    if record is None:
        raise missing(f"no optimal-prior record {name} in experiments/optimal_prior/ (tools.optimal_prior)")
    return record, field


def nll(spec: str, digits: int, missing: type = ValueError) -> str:
    """'NAME@PRIOR': the test -log p(x) under PRIOR (aggregate, trained, standard, fitted) ± its standard error."""
    record, prior = _record_and_field(spec, missing)
    if prior not in record["test_log_likelihood"]:
        raise missing(f"{spec}: no prior {prior!r}; the record has {', '.join(record['test_log_likelihood'])}")
    return f"{-record['test_log_likelihood'][prior]:.{digits}f} ± {record['standard_error'][prior]:.{digits}f}"


def shares_closed(record: dict, target: str = "") -> Optional[dict]:
    """{prior: [share, error]} of the gap from N(0, I) to the aggregate, or (target 'smoothed') to the smoothed
    aggregate, prior (e); None when the record has no such gap."""
    if not target:
        return record["share_closed"]
    return record["smoothed"]["share_closed"] if target == "smoothed" and record.get("smoothed") else None


def share(spec: str, digits: int, missing: type = ValueError) -> str:
    """'NAME@PRIOR': the share of the gap from N(0, I) to the aggregate that PRIOR closes, ± its error;
    'NAME@PRIOR/smoothed': of the gap to the smoothed aggregate, prior (e)."""
    record, field = _record_and_field(spec, missing)
    prior, _, target = field.partition("/")
    shares = shares_closed(record, target)
    if shares is None:
        raise missing(f"{spec}: the record has no share of the gap to {target!r} (only to 'smoothed', when measured)")
    if prior not in shares:
        raise missing(f"{spec}: no share for prior {prior!r}; the record has {', '.join(shares)}")
    value, error = shares[prior]
    return f"{100 * value:.{digits}f}% ± {100 * error:.{digits}f}%"


def paired(spec: str, digits: int, missing: type = ValueError) -> str:
    """'NAME@A-B': -log p(x) under prior A minus under prior B, paired over the scored images, ± its standard error."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    from vamp_tf import statistics  # pylint: disable=import-outside-toplevel
    record, field = _record_and_field(spec, missing)
    a, _, b = field.partition("-")
    with np.load(os.path.join(DIRECTORY, f"{record['name']}.npz")) as scores:
        if a not in scores.files or b not in scores.files:
            raise missing(f"{spec}: needs priors A-B of {', '.join(scores.files)}")
        mean, error = statistics.paired_difference(scores[a].astype(np.float64), scores[b].astype(np.float64))
    return f"{mean:+.{digits}f} ± {error:.{digits}f}"


def split(spec: str, digits: int, missing: type = ValueError) -> str:
    """'NAME@FIELD': a field of the rate split (marginal_kl_held_out, mutual_information_held_out, ...) ± its error."""
    record, field = _record_and_field(spec, missing)
    if field not in record["rate_split"]:
        raise missing(f"{spec}: no rate-split field {field!r}")
    mean, error = record["rate_split"][field]
    return f"{mean:.{digits}f} ± {error:.{digits}f}"
