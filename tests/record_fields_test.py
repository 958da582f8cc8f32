"""Tests of tools/record_fields.py: a number from a record file by its place in the JSON."""

import json

import pytest

from tools import record_fields, report_values


@pytest.fixture
def root(tmp_path):
    (tmp_path / "parity").mkdir()
    record = {"machine": {"cpu_count": 2, "cpu": "AMD EPYC", "avx512f": True},
              "rows": [[1, 3796.25, 3796.1], [2, 3752.2, 3746.75]]}
    (tmp_path / "parity" / "check.json").write_text(json.dumps(record))
    (tmp_path / "outside.json").write_text("{}")
    return str(tmp_path)


def test_keys_and_list_indices_reach_the_number(root):
    assert record_fields.value("parity/check#rows.1.2", 2, root=root) == "3746.75"
    assert record_fields.value("parity/check#rows.0.1", 1, root=root) == "3796.2"  # round half to even of 3796.25
    assert record_fields.value("parity/check#machine.cpu_count", 0, root=root) == "2"
    assert record_fields.value("-parity/check#rows.1.2", 1, root=root) == "-3746.8"


@pytest.mark.parametrize("spec,match", [
    ("parity/check", "needs a place in the record: FILE#KEY"),
    ("parity/gone#rows.0.1", "no record parity/gone.json under experiments/"),
    ("../outside#x", "no record ../outside.json"),
    ("parity/check#rows.5.1", "has no 'rows.5.1' \\(no '5' there\\)"),
    ("parity/check#machine.threads", "no 'threads' there"),
    ("parity/check#machine.cpu", "is a str, not a number"),
    ("parity/check#machine.avx512f", "is a bool, not a number"),
])
def test_a_missing_or_wrong_place_is_named(root, spec, match):
    with pytest.raises(ValueError, match=match):
        record_fields.value(spec, 2, root=root + "/parity/..")


def test_the_field_kind_renders_a_committed_record():
    page = "<!--=field:parity/step_frey_convhvae_vamp#results.conv_reference_padded.kl_mean_nats~1-->?<!--/-->"
    out = report_values.render(page, report_values.run_lookup({}), "p.md")
    with open(f"{record_fields.EXPERIMENTS}/parity/step_frey_convhvae_vamp.json", encoding="utf-8") as f:
        expected = json.load(f)["results"]["conv_reference_padded"]["kl_mean_nats"]
    assert out == page.replace("?", f"{expected:.1f}")
    with pytest.raises(report_values.MissingValue, match="p.md: .*no 'nothing' there"):
        report_values.render(page.replace("kl_mean_nats", "nothing"), report_values.run_lookup({}), "p.md")


def test_rows_summarise_a_column_or_a_difference_over_an_epoch_range(root):
    # rows: [1, 3796.25, 3796.1], [2, 3752.2, 3746.75]; column 2 - column 1: -0.15, -5.45
    assert record_fields.rows("parity/check#mean:2-1@1..2", 2, root=root) == "-2.80"
    assert record_fields.rows("parity/check#max_abs:2-1@1..2", 2, root=root) == "5.45"
    assert record_fields.rows("parity/check#min:1@1..2", 1, root=root) == "3752.2"
    assert record_fields.rows("parity/check#max:2-1@2..2", 2, root=root) == "-5.45"


@pytest.mark.parametrize("spec,match", [
    ("parity/check#median:1@1..2", "needs FILE#STAT:A\\[-B\\]@E1..E2 with STAT one of mean, min, max, max_abs"),
    ("parity/check#mean:1@1", "needs FILE#STAT"),
    ("parity/check#mean:x-1@1..2", "needs FILE#STAT"),
    ("parity/check#mean:1-2-3@1..2", "needs FILE#STAT"),
    ("parity/check#mean:1@3..9", "no rows with epochs 3..9 and columns 1"),
    ("parity/check#mean:1-3@1..2", "no rows with epochs 1..2 and columns 1-3"),
    ("parity/gone#mean:1@1..2", "no record parity/gone.json"),
])
def test_rows_name_what_they_cannot_give(root, spec, match):
    with pytest.raises(ValueError, match=match):
        record_fields.rows(spec, 2, root=root)


def test_file_at_commit_reads_the_record_as_that_commit_held_it(tmp_path):
    import subprocess
    repo = tmp_path / "repo"
    (repo / "experiments" / "results").mkdir(parents=True)
    record = repo / "experiments" / "results" / "run.json"

    def commit(nll):
        record.write_text(json.dumps({"results": {"metrics": {"test_nll": nll}}}))
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                       check=True)
        return subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()

    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    first = commit(84.55)
    commit(82.34)  # a later run replaced the record
    root = str(repo / "experiments")
    assert record_fields.value(f"results/run@{first}#results.metrics.test_nll", 2, root=root) == "84.55"
    assert record_fields.value("results/run#results.metrics.test_nll", 2, root=root) == "82.34"
    with pytest.raises(ValueError, match=f"no record experiments/results/gone.json at commit {first}"):
        record_fields.value(f"results/gone@{first}#results.metrics.test_nll", 2, root=root)
