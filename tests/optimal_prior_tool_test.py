"""Tests of tools/optimal_prior.py on a small recorded run: four priors, paired, the trained one equal to
the record, the held-out split beside the in-sample one."""

import numpy as np

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
