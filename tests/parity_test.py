"""Tests of tools/parity.py: a record of the paper's code's run, read from what that run printed and saved."""

import os

import numpy as np
import pytest
from absl import app

from tools import parity

LOG = """load data
Namespace(batch_size=100, epochs=4, lr=0.0005, early_stopping_epochs=1, warmup=1, seed=0, input_size=[1, 28, 20], \
number_components=500, pseudoinputs_mean=0.5, model_name='vae', prior='vampprior', input_type='gray', S=500, MB=100, \
dataset_name='freyfaces', cuda=False)
perform experiment
beta: 1.0
Epoch: 1/4, Time elapsed: 1.50s
* Train loss: 3521.05   (RE: 3520.94, KL: 10.11)
o Val.  loss: 3218.33   (RE: 3177.75, KL: 40.58)
--> Early stopping: 0/1 (BEST: 100000.00)

->model saved<-
beta: 1.0
Epoch: 2/4, Time elapsed: 1.25s
* Train loss: 2957.71   (RE: 2954.62, KL: 154.58)
o Val.  loss: 3004.43   (RE: 2749.33, KL: 255.10)
--> Early stopping: 0/1 (BEST: 3218.33)

->model saved<-
beta: 1.0
Epoch: 3/4, Time elapsed: 1.25s
* Train loss: 2903.90   (RE: 2898.74, KL: 171.96)
o Val.  loss: 3065.08   (RE: 2931.72, KL: 133.36)
--> Early stopping: 1/1 (BEST: 3004.43)

Test lower-bound value 3001.00 in time: 0.06s
FINAL EVALUATION ON TEST SET
LogL (TEST): 2990.00
LogL (TRAIN): 0.00
ELBO (TEST): 3001.00
ELBO (TRAIN): 2950.00
"""


def _run_dir(tmp_path, per_image):
    run = tmp_path / "ref_run"
    (run / "snapshots" / "2026-11-29 18:00:02_freyfaces_vae").mkdir(parents=True)
    (run / "log.txt").write_text(LOG)
    np.save(run / "snapshots" / "2026-11-29 18:00:02_freyfaces_vae" / "per_image_ll_test.npy", per_image)
    return run


def test_a_finished_reference_run_becomes_a_record_with_its_budget_curve_and_images(tmp_path):
    per_image = -2990.0 + np.linspace(-5, 5, 200)  # LogL (TEST) is -mean
    record, ll = parity.build_record("ref_x", str(_run_dir(tmp_path, per_image)), "abc123", "our split 0")
    assert record["budget"] == {"epochs_cap": 4, "epochs_run": 3, "best_epoch": 2, "stopped_early": True,
                                "early_stopping_patience": 1, "warmup_epochs": 1}
    m = record["metrics"]
    assert m["test_nll"] == pytest.approx(2990.0) and m["test_neg_elbo"] == 3001.0 and m["eval_samples"] == 500
    assert m["bits_per_dim"] == pytest.approx(2990.0 / (560 * np.log(2)))  # gray: 28 x 20 pixels
    assert [e["validation_neg_elbo"] for e in record["curve"]] == [3218.33, 3004.43, 3065.08]
    assert record["settings"]["input_size"] == [1, 28, 20] and record["settings"]["prior"] == "vampprior"
    assert record["train_seconds"] == pytest.approx(4.0) and record["reference"]["commit"] == "abc123"
    assert record["test_stride"] == 1 and "figure" not in record["reference"]["patches"]
    other = parity.build_record("ref_x", str(_run_dir(tmp_path / "b", per_image)), "abc123", "every 4th",
                                test_stride=4, no_validation_figures=True)[0]
    assert other["test_stride"] == 4 and other["reference"]["patches"].endswith(parity.NO_VALIDATION_FIGURES)
    path = parity.write(record, ll, str(tmp_path / "parity"))
    loaded, loaded_ll = parity.load("ref_x", str(tmp_path / "parity"))
    assert os.path.basename(path) == "ref_x.json" and loaded["budget"] == record["budget"]
    np.testing.assert_allclose(loaded_ll, per_image, rtol=1e-6)
    assert parity.load("ref_missing", str(tmp_path / "parity")) == (None, None)


def test_an_unfinished_or_mismatched_run_is_refused(tmp_path):
    run = _run_dir(tmp_path, -2990.0 + np.zeros(200))
    with pytest.raises(app.UsageError, match="does not belong to the run"):
        np.save(next((run / "snapshots").iterdir()) / "per_image_ll_test.npy", np.full(200, -1000.0))
        parity.build_record("ref_x", str(run), "abc", "d")
    (run / "log.txt").write_text(LOG.split("FINAL")[0])
    with pytest.raises(parity.NotFinished, match="no final evaluation"):
        parity.build_record("ref_x", str(run), "abc", "d")
    with pytest.raises(app.UsageError, match="no .*log.txt"):
        parity.build_record("ref_x", str(tmp_path / "nowhere"), "abc", "d")
