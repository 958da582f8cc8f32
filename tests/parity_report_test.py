"""Tests of tools/parity_report.py: the verdict of a comparison, and the committed parity records' table."""

from tools import parity_report, records, report


def test_the_verdict_weighs_the_gap_against_twice_the_larger_noise():
    assert parity_report.verdict(-0.35, 0.23, None, "nats", 2) == \
        "within noise (one seed of ours: seed noise not measured)"
    assert parity_report.verdict(-2.5, 0.23, 0.4, "nats", 2) == "beyond noise: ours better by 2.50 nats"
    assert parity_report.verdict(0.05, 0.003, 0.01, "bits/dim", 3) == "beyond noise: ours worse by 0.050 bits/dim"
    assert parity_report.verdict(0.015, 0.003, 0.01, "bits/dim", 3) == "within noise"


def test_every_comparison_has_a_row_and_recorded_ones_pair_the_same_test_images():
    runs, _, text = report.build(records.RECORDS, records.FIGURES)
    table = text.split("### Parity")[1].split("###")[0]
    for label, ref_name, ours, _, _ in parity_report.PARITY:
        row = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
        reference, per_image = parity_report.parity.load(ref_name)
        if reference is not None and runs[ours].finished:
            stride = reference.get("test_stride", 1)  # the code scored every stride-th of our test images
            assert "not run" not in row and len(per_image) == len(runs[ours].per_image[::stride])


def test_the_caltech_table_says_why_the_papers_numbers_are_out_of_reach():
    runs, _, text = report.build(records.RECORDS, records.FIGURES)
    sentence = parity_report.caltech_summary(runs, report.PAPER)
    assert sentence and sentence[0] in text and "split1" in sentence[0]
    assert parity_report.caltech_summary(runs, report.PAPER, directory="/nonexistent") == []
