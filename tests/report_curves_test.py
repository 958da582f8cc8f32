"""Tests of tools/report_curves.py: the validation-curve and outside-table kinds, from synthetic records."""

import numpy as np
import pytest

from tools import records, report_curves, report_runs, report_values


def _write(directory, name, per_image, curve):
    results = {"complete": True, "epochs_run": 5, "train_seconds": 60.0, "evaluation_seconds": 6.0,
               "stopped_early": False, "config": {"model": {"input_shape": [2, 2, 1]},
                                                  "train": {"dataset": "d", "split_seed": 0, "test_examples": 0}},
               "metrics": {"test_log_likelihood": float(np.mean(per_image)), "best_epoch": 4,
                           "best_validation_neg_elbo": min(v for _, v in curve)}}
    records.write({"name": name, "results": results, "commits": ["abc"], "validation_curve": curve,
                   "per_image_log_likelihoods": f"{name}.npy"}, np.asarray(per_image, np.float64), str(directory))


@pytest.fixture
def run_of(tmp_path):
    _write(tmp_path, "a", [-80.0, -84.0], [[1, 99.0], [2, 90.0], [3, 88.5], [4, 88.0], [5, 88.25]])
    _write(tmp_path, "b", [-81.0, -85.0], [[1, 95.0], [2, 89.5], [3, 88.0], [4, 88.5], [5, 88.0]])
    _write(tmp_path, "gappy", [-81.0, -85.0], [[1, 95.0], [3, 88.0]])
    return report_values.run_lookup({}, str(tmp_path))


def test_gaps_between_two_curves_at_an_epoch_and_over_a_range(run_of):
    # a - b per epoch: 4.0, 0.5, 0.5, -0.5, 0.25
    page = ("<!--=valid_gap:a-b@1~1-->?<!--/--> <!--=valid_gap:b-a@4-->?<!--/--> "
            "<!--=valid_gap_mean:a-b@2..5~3-->?<!--/--> <!--=valid_gap_sd:a-b@2..5~3-->?<!--/-->")
    out = report_values.render(page, run_of, "p.md")
    sd = np.std([0.5, 0.5, -0.5, 0.25], ddof=1)  # 0.4732
    assert [text for _, text in report_values.values_in(out)] == ["4.0", "0.50", "0.188", f"{sd:.3f}"]
    assert f"{sd:.3f}" == "0.473"
    sizes = ("<!--=valid_gap_max_abs:a-b@2..5-->?<!--/--> <!--=valid_gap_max_abs_epoch:a-b@2..5-->?<!--/--> "
             "<!--=valid_gap_mean_abs:a-b@2..5~4-->?<!--/--> <!--=valid_gap_max_abs_epoch:b-a@1..5-->?<!--/-->")
    out = report_values.render(sizes, run_of, "p.md")  # |a - b| over 2..5: 0.5, 0.5, 0.5, 0.25 (the first largest)
    assert [text for _, text in report_values.values_in(out)] == ["0.50", "2", "0.4375", "1"]


def test_the_gap_between_two_best_so_far_curves(run_of):
    # best up to 2: a 90.0, b 89.5; up to 4: a 88.0, b 88.0; up to 1: a 99.0, b 95.0
    page = "<!--=best_by_gap:a-b@2~1-->?<!--/--> <!--=best_by_gap:a-b@4-->?<!--/--> <!--=best_by_gap:b-a@1~0-->?<!--/-->"
    out = report_values.render(page, run_of, "p.md")
    assert [text for _, text in report_values.values_in(out)] == ["0.5", "0.00", "-4"]
    with pytest.raises(report_curves.MissingValue, match="needs two runs and an epoch: A-B@E"):
        report_values.render("<!--=best_by_gap:a-b-->?<!--/-->", run_of, "p.md")


def test_the_offset_and_the_differences_to_outside_cells(run_of, monkeypatch):
    monkeypatch.setitem(report_runs.PAPER, "a", 81.5)
    monkeypatch.setitem(report_runs.EXEMPLAR_CELLS, "b", (83.25, 0.1))
    out = report_values.render("<!--=offset:a-->?<!--/--> <!--=vs_paper:a-->?<!--/--> <!--=vs_exemplar:b-->?<!--/-->"
                               " <!--=vs_paper:b@a-->?<!--/-->", run_of)
    # a: best validation 88.0, test 82.0 -> offset 6.00, and 82.0 - 81.5; b: 83.0 - 83.25, and against a's cell
    assert [text for _, text in report_values.values_in(out)] == ["6.00", "+0.50", "-0.25", "+1.50"]


def test_bits_per_dim_against_a_cell_in_bits_per_dim_and_the_seed_study(run_of, monkeypatch):
    monkeypatch.setitem(report_runs.PAPER, "a", 4.5)
    monkeypatch.setitem(report_runs.SEED, "b", 82.75)
    run = run_of("a")
    monkeypatch.setitem(run.results["metrics"], "bits_per_dim", 4.625)
    out = report_values.render("<!--=vs_paper_bits:a-->?<!--/--> <!--=vs_seed:b-->?<!--/--> <!--=vs_seed:a@b~1-->?<!--/-->",
                               run_of)
    assert [text for _, text in report_values.values_in(out)] == ["+0.125", "+0.25", "-0.8"]
    with pytest.raises(report_curves.MissingValue, match="b's record has no bits/dim"):
        report_values.render("<!--=vs_seed_bits:b-->?<!--/-->", run_of)


def test_what_the_curves_or_tables_cannot_give_is_named(run_of):
    for page, message in [("<!--=valid_gap:a-gappy@2..3-->?<!--/-->", "do not both have epoch 2"),
                          ("<!--=valid_gap:a@3-->?<!--/-->", "needs two runs and epochs"),
                          ("<!--=valid_gap:a-b-->?<!--/-->", "needs two runs and epochs"),
                          ("<!--=vs_exemplar:a-->?<!--/-->", "the outside table has no cell for a"),
                          ("<!--=vs_paper:a@b-->?<!--/-->", "the outside table has no cell for b"),
                          ("<!--=valid:a@9-->?<!--/-->", "a's validation curve has no epoch 9")]:
        with pytest.raises(report_curves.MissingValue, match=f"p.md: .*{message}"):
            report_values.render(page, run_of, "p.md")
