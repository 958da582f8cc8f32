"""Tests of tools/report_values.py: numbers in prose rendered from run records, from synthetic records."""

import numpy as np
import pytest

from tools import records, report_values


def _write(directory, name, per_image, curve=None, epochs=300, best_epoch=250, train_seconds=7200.0, split_seed=0):
    results = {"complete": True, "epochs_run": epochs, "train_seconds": train_seconds, "evaluation_seconds": 600.0,
               "stopped_early": True, "config": {"model": {"input_shape": [2, 2, 1]},
                          "train": {"dataset": "d", "split_seed": split_seed, "test_examples": 0}},
               "metrics": {"test_log_likelihood": float(np.mean(per_image)), "best_epoch": best_epoch,
                           "best_validation_neg_elbo": 87.654}}
    record = {"name": name, "results": results, "commits": ["abc"], "per_image_log_likelihoods": f"{name}.npy"}
    if curve is not None:
        record["validation_curve"] = curve
    records.write(record, np.asarray(per_image, np.float64), str(directory))


@pytest.fixture
def run_of(tmp_path):
    _write(tmp_path, "a", [-80.0, -82.0, -84.0, -86.0], curve=[[1, 95.0], [2, 90.5], [3, 91.0], [4, 89.25]])
    _write(tmp_path, "b", [-81.0, -83.5, -84.0, -87.0])
    _write(tmp_path, "short", [-80.0, -82.0])
    _write(tmp_path, "other_split", [-81.0, -83.0, -85.0, -87.0], split_seed=1)
    return report_values.run_lookup({}, str(tmp_path))


def test_each_kind_renders_its_value_from_the_record(run_of):
    page = ("-log p(x) <!--=nll:a-->0<!--/--> (<!--=nll_se:a~1-->x<!--/-->), b - a "
            "<!--=paired:b-a-->?<!--/-->, stopped at <!--=epochs:a-->?<!--/--> (best <!--=best_epoch:a-->?<!--/-->, "
            "<!--=best_valid:a-->?<!--/-->), epoch 3 <!--=valid:a@3-->?<!--/-->, best by 3 <!--=best_by:a@3-->?<!--/-->, "
            "<!--=hours:a~1-->?<!--/--> h, <!--=minutes:a-->?<!--/--> min, <!--=images:a-->?<!--/--> images")
    out = report_values.render(page, run_of, "p.md")
    # a: mean 83, standard error of [80, 82, 84, 86] = sd 2.582 / 2 = 1.29; b - a per image: 1, 1.5, 0, 1
    assert out == ("-log p(x) <!--=nll:a-->83.00<!--/--> (<!--=nll_se:a~1-->83.0 ± 1.3<!--/-->), b - a "
                   "<!--=paired:b-a-->+0.88 ± 0.31<!--/-->, stopped at <!--=epochs:a-->300<!--/--> (best "
                   "<!--=best_epoch:a-->250<!--/-->, <!--=best_valid:a-->87.65<!--/-->), epoch 3 "
                   "<!--=valid:a@3-->91.00<!--/-->, best by 3 <!--=best_by:a@3-->90.50<!--/-->, "
                   "<!--=hours:a~1-->2.0<!--/--> h, <!--=minutes:a-->120<!--/--> min, <!--=images:a-->4<!--/--> images")
    assert report_values.render(out, run_of, "p.md") == out  # rendering twice changes nothing
    # 7200 s of training over 300 epochs
    assert report_values.render("<!--=epoch_seconds:a-->?<!--/-->", run_of).endswith(">24<!--/-->")
    assert report_values.values_in(out)[2] == ("paired:b-a", "+0.88 ± 0.31")
    # unsigned, for prose that says who is ahead ("a is ahead by 0.88 ± 0.31")
    gaps = report_values.render("<!--=gap:a-b-->?<!--/--> <!--=gap_mean:b-a~1-->?<!--/-->", run_of)
    assert gaps == "<!--=gap:a-b-->0.88 ± 0.31<!--/--> <!--=gap_mean:b-a~1-->0.9<!--/-->"
    means = report_values.render("<!--=paired_mean:a-b-->?<!--/--> <!--=paired_bits_mean:b-a~1-->?<!--/-->", run_of)
    assert means == "<!--=paired_mean:a-b-->-0.88<!--/--> <!--=paired_bits_mean:b-a~1-->+0.3<!--/-->"  # 0.875 / (4 ln 2)
    # runs on different test images: the difference of their means, never paired
    assert report_values.render("<!--=mean_difference:other_split-a-->?<!--/-->", run_of).endswith(">+1.00<!--/-->")


def test_a_run_on_every_sth_test_image_pairs_with_a_run_of_that_subset(run_of):
    # a: [80, 82, 84, 86] -> every 2nd: [80, 84]; b: [81, 83.5, 84, 87] -> [81, 84]; b - a per image: 1, 0
    out = report_values.render("<!--=nll:a/2-->?<!--/--> <!--=paired:b/2-a/2-->?<!--/-->", run_of)
    assert out == "<!--=nll:a/2-->82.00<!--/--> <!--=paired:b/2-a/2-->+0.50 ± 0.50<!--/-->"
    with pytest.raises(ValueError, match="a and a/2 do not score the same test images"):
        report_values.render("<!--=paired:a-a/2-->?<!--/-->", run_of)


def test_a_rescored_record_is_a_run_of_its_own(tmp_path):
    (tmp_path / "results").mkdir()
    _write(tmp_path / "results", "a", [-80.0, -82.0, -84.0, -86.0])
    rescored = {"run": "a", "test_log_likelihood": -82.5, "per_image_log_likelihoods": "a_latest.npy"}
    records.write({**rescored, "name": "a_latest"}, np.array([-79.0, -81.0, -84.0, -86.0]), str(tmp_path / "rescored"))
    run_of = report_values.run_lookup({}, str(tmp_path / "results"))
    out = report_values.render("<!--=nll:rescored/a_latest-->?<!--/--> <!--=paired:rescored/a_latest-a-->?<!--/-->", run_of)
    assert out == "<!--=nll:rescored/a_latest-->82.50<!--/--> <!--=paired:rescored/a_latest-a-->-0.50 ± 0.29<!--/-->"


@pytest.mark.parametrize("value,match", [
    ("<!--=nll:gone-->1<!--/-->", "p.md: .*gone has no finished record"),
    ("<!--=paired:a-short-->1<!--/-->", "a and short do not score the same test images"),
    ("<!--=paired:a-other_split-->1<!--/-->", r"score different test images \(\('d', 0, 0\) against \('d', 1, 0\)\)"),
    ("<!--=valid:a@9-->1<!--/-->", "a's validation curve has no epoch 9"),
    ("<!--=valid:a-->1<!--/-->", "needs an epoch: RUN@EPOCH"),
    ("<!--=best_by:b@3-->1<!--/-->", "b's record has no validation curve"),
    ("<!--=median:a-->1<!--/-->", "unknown value kind 'median'.*known: nll, nll_se"),
])
def test_a_value_the_records_cannot_give_names_the_page_and_the_value(run_of, value, match):
    with pytest.raises(ValueError, match=match):
        report_values.render(f"text {value} text", run_of, "p.md")


def test_the_largest_difference_of_one_image(run_of):
    # b - a per image: 1, 1.5, 0, 1
    assert report_values.render("<!--=largest_difference:b-a~2-->?<!--/-->", run_of).endswith(">1.50<!--/-->")
    with pytest.raises(ValueError, match="do not score the same test images"):
        report_values.render("<!--=largest_difference:short-a-->?<!--/-->", run_of)
    # the mean |b - a| is 3.5 / 4; correlation is that of the two per-image columns, computed here by numpy
    assert report_values.render("<!--=mean_abs_difference:b-a~4-->?<!--/-->", run_of).endswith(">0.8750<!--/-->")
    a, b = (-run_of(n).per_image for n in ("a", "b"))
    expected = f"{np.corrcoef(a, b)[0, 1]:.3f}"
    assert report_values.render("<!--=correlation:a-b-->?<!--/-->", run_of).endswith(f">{expected}<!--/-->")
