"""Tests of experiments/report.py on synthetic run directories."""

import json
import os

import numpy as np

from experiments import report


def _run(root, name, epochs_done, finished, ll=-90.0, bits=None, stopped_early=False, max_epochs=500):
    d = os.path.join(root, name)
    os.makedirs(d)
    history = [{"epoch": e, "commit": "abc123"} for e in range(1, epochs_done + 1)]
    json.dump(history, open(os.path.join(d, "history.json"), "w"))
    json.dump({"train": {"epochs": max_epochs}}, open(os.path.join(d, "config.json"), "w"))
    if finished:
        metrics = {"test_log_likelihood": ll, "test_elbo": ll - 2, "test_reconstruction": ll + 20, "test_kl": 22.0,
                   "active_units": {"z": 30}, "best_epoch": epochs_done,
                   "prior_usage": {"components_used": 19, "num_components": 500, "effective_components": 16.84}}
        if bits is not None:
            metrics["bits_per_dim"] = bits
        json.dump({"complete": True, "epochs_run": epochs_done, "config": {"model": {"input_shape": [28, 20, 1]}}, "stopped_early": stopped_early, "metrics": metrics,
                   "train_seconds": 3600.0, "evaluation_seconds": 60.0, "figures": {}},
                  open(os.path.join(d, "results.json"), "w"))
        per_image = ll + np.linspace(-1, 1, 200) * (1 if bits is None else 0) + (np.arange(200) % 3 if bits else 0)
        np.save(os.path.join(d, "test_log_likelihoods.npy"), per_image)


def test_only_finished_runs_give_numbers(tmp_path):
    root = str(tmp_path)
    _run(root, "mnist_vamp_l40", 500, True, ll=-85.25)
    _run(root, "mnist_standard_l40", 120, False)
    _run(root, "frey_vamp_l40", 804, True, ll=-1767.6, bits=4.5539, stopped_early=True)
    _run(root, "frey_standard_l40", 700, True, ll=-1800.0, bits=4.6321, stopped_early=True)
    os.makedirs(os.path.join(root, "mnist_vamp_l10"))
    runs, _, text = report.build(root, str(tmp_path / "figures"))
    assert ("| latent 40 | (training: 120/500) | 89.70 | 85.25 | 89.02 | — | 84.50 / 82.40 | "
            "training: 120/500 / 500 (budget) |") in text
    assert "| latent 40 | 4.632 | 4.620 | 4.554 | 4.532 | -0.083 ± 0.000 | 700 (early stop) / 804 (early stop) |" in text
    # The standard prior has no K: its K rows show the latent-40 standard run.
    assert "| hidden 300, K 1000 | 4.632 | 4.617 | — | 4.532 | — | 700 (early stop) / not run |" in text
    assert "| z 30 | 19 / 500 (16.8) | 804 (early stop) | 804 |" in text
    block = report.readme_block(runs, {})
    assert "| MNIST (dynamic), VAE, latent 40 [nats] | (training: 120/500) | 85.25 |" in block


def test_a_run_trained_further_than_its_results_is_not_finished(tmp_path):
    root = str(tmp_path)
    _run(root, "mnist_vamp_l40", 300, True)
    history = json.load(open(os.path.join(root, "mnist_vamp_l40", "history.json")))
    history.append({"epoch": 301, "commit": "def456"})
    json.dump(history, open(os.path.join(root, "mnist_vamp_l40", "history.json"), "w"))
    run = report.Run(root, "mnist_vamp_l40")
    assert not run.finished and run.nll() is None and run.epochs() == "training: 301/500"
    assert run.commits() == "abc123, def456"

