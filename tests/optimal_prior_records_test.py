"""Tests of tools/optimal_prior_records.py: reading tools.optimal_prior's records and quoting their numbers."""

import numpy as np
import pytest

from tools import optimal_prior_records as op
from vamp_tf import files

RECORD = {"name": "m", "test_log_likelihood": {"aggregate": -100.524, "trained": -81.4636},
          "standard_error": {"aggregate": 1.1549, "trained": 0.6977}, "share_closed": {"trained": [2.9148, 0.1835]},
          "rate_split": {"marginal_kl_held_out": [-33.6058, 0.2582]},
          "smoothed": {"bandwidth": 0.3, "share_closed": {"trained": [1.1035, 0.0168]}}}


@pytest.fixture
def directory(tmp_path, monkeypatch):
    files.write_json(str(tmp_path / "m.json"), RECORD)
    files.write_json(str(tmp_path / "a.json"), {"name": "a"})
    np.savez(str(tmp_path / "m.npz"), standard=np.array([-10.0, -12.0, -11.0]), smoothed=np.array([-8.0, -9.0, -10.0]))
    monkeypatch.setattr(op, "DIRECTORY", str(tmp_path))
    return str(tmp_path)


def test_records_are_read_by_name_and_all_together_in_name_order(directory):
    assert op.load("m") == RECORD and op.load("nope") is None
    assert [r["name"] for r in op.load_all(directory)] == ["a", "m"]


def test_the_numbers_are_quoted_as_the_prose_writes_them(directory):
    assert op.nll("m@trained", 2) == "81.46 ± 0.70"  # -log p(x): the sign of the log-likelihood turned
    assert op.share("m@trained", 0) == "291% ± 18%"
    assert op.split("m@marginal_kl_held_out", 1) == "-33.6 ± 0.3"
    assert op.share("m@trained/smoothed", 1) == "110.3% ± 1.7%"  # of the gap to the smoothed aggregate
    # -log p(x) under 'standard' minus under 'smoothed', paired: 2, 3, 1 -> 2 ± 1/sqrt(3)
    assert op.paired("m@standard-smoothed", 2) == "+2.00 ± 0.58"


@pytest.mark.parametrize("call,match", [
    (lambda: op.nll("gone@trained", 2), "no optimal-prior record gone"),
    (lambda: op.nll("m@fitted", 2), "m@fitted: no prior 'fitted'; the record has aggregate, trained"),
    (lambda: op.split("m@rate", 2), "no rate-split field 'rate'"),
    (lambda: op.share("m@trained/aggregate", 0), "no share of the gap to 'aggregate'"),
    (lambda: op.share("m@fitted", 0), "no share for prior 'fitted'"),
    (lambda: op.paired("m@standard-fitted", 2), "needs priors A-B of standard, smoothed"),
])
def test_a_number_the_record_cannot_give_is_named(directory, call, match):
    with pytest.raises(ValueError, match=match):
        call()
