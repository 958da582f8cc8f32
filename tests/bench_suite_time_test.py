"""Tests of bench/suite_time.py: reading pytest's summary, refusing a failed suite or an unknown commit."""

import pytest
from absl import app

from bench import suite_time


def test_summary_reads_the_last_pytest_line():
    output = ("collecting ...\n==== 3 passed in 1.00s ====\n"
              "........\n===== 638 passed, 2 warnings in 314.27s (0:05:14) =====\n\nreal\t6m13.2s\n")
    assert suite_time.summary(output) == {"passed": 638, "seconds": 314.27}
    quiet = "[100%]\n640 passed, 2 warnings in 301.50s (0:05:01)\n"  # pytest -q drops the '=' rule
    assert suite_time.summary(quiet) == {"passed": 640, "seconds": 301.5}


@pytest.mark.parametrize("line", ["=== 2 failed, 636 passed in 300.00s ===",
                                  "=== 636 passed, 1 error in 300.00s ==="])
def test_summary_refuses_a_suite_that_did_not_pass(line):
    with pytest.raises(ValueError, match="did not pass"):
        suite_time.summary(f"...\n{line}\n")


def test_summary_without_a_pytest_line_shows_the_end_of_the_output():
    with pytest.raises(ValueError, match="(?s)no pytest summary line.*make: \\*\\*\\* \\[test\\] Error 1"):
        suite_time.summary("pip install ...\nmake: *** [test] Error 1\n")


def test_an_unknown_commit_is_refused_by_name():
    with pytest.raises(app.UsageError, match="--commit='no-such-commit'"):
        suite_time.resolve("no-such-commit")


def test_minutes():
    assert suite_time.minutes(373.2) == "6 min 13 s" and suite_time.minutes(59.6) == "1 min 00 s"
