"""Tests of tools/parity_report.py: the verdict of a comparison, and the committed parity records' table."""

import json
import shutil

import numpy as np
import pytest

from tools import ablation_report, parity_report, records, report


def test_the_verdict_weighs_the_gap_against_twice_the_larger_noise():
    assert parity_report.verdict(-0.35, 0.23, None, "nats", 2) == \
        "within noise (one seed of ours: seed noise not measured)"
    assert parity_report.verdict(-2.5, 0.23, 0.4, "nats", 2) == "beyond noise: ours better by 2.50 nats"
    assert parity_report.verdict(0.05, 0.003, 0.01, "bits/dim", 3) == "beyond noise: ours worse by 0.050 bits/dim"
    assert parity_report.verdict(0.015, 0.003, 0.01, "bits/dim", 3) == "within noise"
    assert parity_report.verdict(2.05, 0.48, None, "nats", 2, code_spread=1.07) == \
        "within noise (one seed of ours: the code's seed noise counted)"
    assert parity_report.verdict(2.5, 0.48, 0.13, "nats", 2, code_spread=1.07) == "beyond noise: ours worse by 2.50 nats"


def test_every_comparison_has_a_row_and_recorded_ones_pair_the_same_test_images():
    runs, _, text = report.build(records.RECORDS, records.FIGURES)
    table = text.split("### Parity")[1].split("###")[0]
    for label, ref_name, ours, _, _ in parity_report.PARITY:
        row = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
        reference, per_image = parity_report.parity.load(ref_name)
        if reference is not None and runs[ours].finished:
            stride = reference.get("test_stride", 1)  # the code scored every stride-th of our test images
            assert "not run" not in row and len(per_image) == len(runs[ours].per_image[::stride])


def test_every_gap_beyond_noise_in_the_table_says_what_explains_it_or_what_is_open():
    _, _, text = report.build(records.RECORDS, records.FIGURES)
    table = text.split("### Parity")[1].split("###")[0]
    gaps = [line for line in table.splitlines() if line.startswith("| ") and "beyond noise:" in line]
    said = lambda line: "; explained: " in line or "; open: " in line  # noqa: E731
    assert gaps and all(said(line) for line in gaps), [g[:80] for g in gaps if not said(g)]
    assert set(parity_report.GAPS) <= {ours for _, _, ours, _, _ in parity_report.PARITY}
    assert all(v.startswith(("explained: ", "open: ")) for v in parity_report.GAPS.values())


def test_the_caltech_table_says_why_the_papers_numbers_are_out_of_reach():
    runs, _, text = report.build(records.RECORDS, records.FIGURES)
    sentence = ablation_report.caltech_summary(runs, report.PAPER)
    assert sentence and sentence[0] in text and "split1" in sentence[0]
    assert ablation_report.caltech_summary(runs, report.PAPER, directory="/nonexistent") == []


def test_the_codes_two_seeds_are_paired_image_by_image(tmp_path):
    label, name0, name1, _, _, bits = parity_report.CODE_SEEDS[0]
    shutil.copy(parity_report.parity.PARITY + f"/{name0}.json", tmp_path / f"{name0}.json")
    shutil.copy(parity_report.parity.PARITY + f"/{name0}.npy", tmp_path / f"{name0}.npy")
    assert f"| {label} | — | 125.62 | not run | — | — | — | — |" in parity_report.code_seed_table({}, str(tmp_path))
    record = json.loads((tmp_path / f"{name0}.json").read_text())
    record.update(name=name1, per_image_log_likelihoods=f"{name1}.npy")
    record["metrics"]["test_nll"] += 1.0
    record["budget"]["best_epoch"] = 90
    (tmp_path / f"{name1}.json").write_text(json.dumps(record))
    np.save(tmp_path / f"{name1}.npy", np.load(tmp_path / f"{name0}.npy") - 1.0)  # each image 1 nat worse
    row = [line for line in parity_report.code_seed_table({}, str(tmp_path)) if line.startswith(f"| {label} |")]
    assert row == [f"| {label} | 5000 | 125.62 | 126.62 | +1.00 ± 0.00 | 101 / 90 | not run | not run |"]
    assert parity_report._code_spreads(str(tmp_path)) == {name0: pytest.approx(1.0, abs=1e-6)}  # float32 records


def test_our_seeds_are_paired_with_the_codes_second_run_on_its_test_images():
    runs, _, text = report.build(records.RECORDS, records.FIGURES)
    label, name0, name1, ours0, ours1, bits = parity_report.CODE_SEEDS[0]
    ref1, ll1 = parity_report.parity.load(name1)
    row = next(line for line in text.splitlines() if line.startswith(f"| {label} | 5000 |"))
    for name, cell in zip((ours0, ours1), row.split(" | ")[-2:]):
        ours_nll, code_nll = parity_report._on_code_images(runs[name], ref1, ll1, bits)
        mean = np.mean(ours_nll - code_nll)
        ours = -runs[name].per_image[::ref1["test_stride"]]
        assert mean == np.mean(ours + ll1) and cell.rstrip(" |").startswith(f"{mean:+.2f} ± ")


def test_a_rescore_record_says_whose_weights_and_which_likelihood_it_scored():
    clamp = {"probability_clamp": 1e-5}  # a record written before --checkpoint existed
    assert ablation_report.describe_rescore(clamp) == \
        "its best-validation weights, scored with probabilities clamped to [1e-05, 1 - 1e-05]"
    latest = {"probability_clamp": 0.0, "checkpoint": "latest", "checkpoint_epoch": 101, "best_epoch": 74}
    assert ablation_report.describe_rescore(latest) == \
        "the weights of its last epoch (101) in place of its best-validation epoch's (74)"


def test_the_verdicts_numbers_are_computed_from_the_records_not_typed():
    import re
    from tools import records, report
    for text in parity_report.GAPS.values():
        assert not re.search(r"\d\.\d", re.sub(r"\{[^}]*\}", "", text)), text  # no typed decimals outside placeholders
    runs, _, _ = report.build(records.RECORDS, records.FIGURES)
    conv = "parity_frey_convhvae_vamp_e100"
    filled = parity_report.fill_gap(parity_report.GAPS[f"{conv}_refall_s0"], runs)
    a, b = runs[f"{conv}_codeall_s0"].metric("bits_per_dim"), runs[f"{conv}_codeall_s1"].metric("bits_per_dim")
    assert f"{abs(a - b):.3f} bits/dim apart" in filled and f"{a:.3f} and {b:.3f}" in filled
    assert "gives it 7% more updates" in parity_report.fill_gap(  # Frey Faces: 16 steps an epoch against 15
        parity_report.GAPS["parity_frey_hvae_vamp_e200_refinit_s0"], runs)
