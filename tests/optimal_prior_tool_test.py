"""Tests of tools/optimal_prior.py on a small recorded run: four priors, paired, the trained one equal to
the record, the held-out split beside the in-sample one."""

import numpy as np
import pytest

from tools import optimal_prior as tool
from tools import records
from vamp_tf import checkpoints


def test_a_small_run_is_measured_under_four_priors_and_its_trained_prior_matches_its_record(small_runs, tmp_path):
    run = small_runs["mnist_vamp"]
    record, per_image = records.from_workdir(run, "mnist_vamp")
    records.write(record, per_image, str(tmp_path))
    model, config, _ = checkpoints.restore_model(run)
    out, scores = tool.measure(model, config, "mnist_vamp", "tiny", test_images=10, components=3, subsample=(50, 200),
                               records_dir=str(tmp_path))
    assert sorted(scores) == ["aggregate", "fitted", "standard", "trained"] and all(len(v) == 10 for v in scores.values())
    assert out["trained_matches_record"] == 0.0  # the same noise per image as the record's own scores
    assert out["num_train_images"] == 500 and out["num_test_images"] == 10 and out["test_images_of"] == 50
    np.testing.assert_allclose(out["aggregate_minus"]["standard"][0],
                               np.mean(scores["aggregate"] - scores["standard"]), rtol=1e-9)
    split = out["rate_split"]
    assert split["num_reference_images"] == 500
    assert sorted(out["held_out_by_reference_size"], key=int) == ["50", "200", "500"]
    # every 5th test image, the first 6 of them: scored with their own noise, so the trained prior is the record's
    strided, scores = tool.measure(model, config, "mnist_vamp", "tiny", test_images=6, components=3, subsample=(50,),
                                   records_dir=str(tmp_path), test_stride=5)
    # scored in other batches than the record's, the matmuls round otherwise: equal to float32 rounding, not bit
    # for bit
    assert strided["trained_matches_record"] < 1e-3 and strided["test_stride"] == 5
    np.testing.assert_allclose(scores["trained"], per_image[0:30:5], rtol=1e-6, atol=1e-4)
    assert not np.allclose(scores["trained"], per_image[:6], atol=1e-2)  # not the first six images
    with pytest.raises(ValueError, match="--test_stride=0: it must be 1 or more"):
        tool.measure(model, config, "mnist_vamp", "tiny", test_images=6, test_stride=0)


def test_the_smoothed_aggregate_takes_the_bandwidth_the_validation_images_prefer(small_runs, tmp_path):
    run = small_runs["mnist_vamp"]
    record, per_image = records.from_workdir(run, "mnist_vamp")
    records.write(record, per_image, str(tmp_path))
    model, config, _ = checkpoints.restore_model(run)
    out, scores = tool.measure(model, config, "mnist_vamp", "tiny", test_images=4, components=3, subsample=(),
                               records_dir=str(tmp_path), bandwidths=(0.0, 0.3, 3.0), bandwidth_images=5,
                               bandwidth_samples=20)
    smoothed = out["smoothed"]
    assert "smoothed" in scores and len(scores["smoothed"]) == 4
    assert sorted(smoothed["validation_log_likelihood"]) == ["0.0", "0.3", "3.0"] and smoothed["validation_images"] == 5
    best = max(smoothed["validation_log_likelihood"], key=smoothed["validation_log_likelihood"].get)
    assert smoothed["bandwidth"] == float(best)
    if smoothed["bandwidth"] == 0.0:  # no smoothing: the aggregate itself, image by image
        np.testing.assert_allclose(scores["smoothed"], scores["aggregate"], atol=1e-5)
    share = (np.mean(scores["trained"] - scores["standard"]) / np.mean(scores["smoothed"] - scores["standard"]))
    assert smoothed["share_closed"]["trained"][0] == np.float64(share).item()
    # added afterwards to a measurement without it, (e) is the same column: the same images and noise
    before, earlier = tool.measure(model, config, "mnist_vamp", "tiny", test_images=4, components=3, subsample=(),
                                   records_dir=str(tmp_path))
    assert before["smoothed"] is None and "smoothed" not in earlier
    tool.add_smoothed(model, config, before, earlier, (0.0, 0.3, 3.0), bandwidth_images=5, bandwidth_samples=20)
    np.testing.assert_allclose(earlier["smoothed"], scores["smoothed"], atol=1e-6)
    assert before["smoothed"]["bandwidth"] == smoothed["bandwidth"]
    assert before["test_log_likelihood"]["smoothed"] == out["test_log_likelihood"]["smoothed"]
