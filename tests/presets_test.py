"""Tests of the presets shipped in vamp_tf/presets: each one loads, is the model its record describes, and
re-scores its first test images to its record's per-image values.

Tolerance: the scores are float32 in the record, computed with the record's S, seed and batch size, and an
image's noise depends only on (seed, its index). On the processor that scored the record (the manifest's
first_images_check names it) they are equal bit for bit. On another, the matmuls' kernels round in another
order; an importance-sampled log p(x) moves by about 1e-6 of its size (1e-4 nats on MNIST), so 2e-3 nats
relative to a 1,000-nat image is allowed there."""

import os

import numpy as np
import pytest

from tools import records
from vamp_tf import files, presets

NAMES = presets.names()
FIRST = 20  # one evaluation batch: tools/presets.py's FIRST_IMAGES


def test_the_presets_are_shipped_with_their_descriptions_within_the_size_budget():
    assert NAMES, "no preset is shipped"
    total = 0
    for name in NAMES:
        info = presets.info(name)
        assert set(presets.REQUIRED) <= set(info), name
        assert os.path.getsize(info["path"]) == info["bytes"] and presets.sha256(info["path"]) == info["sha256"]
        record, per_image = records.load(info["record"])
        assert record is not None and per_image is not None, f"{name}: its record {info['record']} is missing"
        metrics = record["results"]["metrics"]
        assert info["test_log_likelihood"] == metrics["test_log_likelihood"]
        assert info["best_epoch"] == metrics["best_epoch"] and info["eval_samples"] == 5000
        assert record["results"]["config"]["model"] == info["config"]["model"]
        total += info["bytes"]
    assert total < 50e6  # the budget for all presets together


@pytest.mark.parametrize("name", NAMES)
def test_a_preset_rescores_its_first_test_images_to_its_record(name, real_data_dir):
    info = presets.info(name)
    _, recorded = records.load(info["record"])
    got = presets.score(name, FIRST, data_dir=real_data_dir).astype(np.float32)
    want = recorded[:FIRST].astype(np.float32)
    np.testing.assert_array_equal(want, np.float32(info["first_images"]))
    if files.processor() == info["first_images_check"]["processor"]:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-3)


@pytest.mark.parametrize("name", NAMES)
def test_a_preset_is_a_model_of_its_config_that_samples(name):
    info = presets.info(name)
    model = presets.load(name)
    from vamp_tf.config import ModelConfig
    assert model.config == ModelConfig.from_dict(info["config"]["model"])
    images = model.sample(4, seed=0).numpy()
    assert images.shape == (4, *info["config"]["model"]["input_shape"])
    if info["likelihood"] == "bernoulli":
        assert set(np.unique(images)) <= {0.0, 1.0}
    else:
        np.testing.assert_allclose(images * 255, np.round(images * 255), atol=1e-3)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "frey_faces_vamp"])  # tests/readme_test.py exports that one
def test_a_preset_exports_and_its_sampler_draws_what_the_preset_draws(name, tmp_path):
    import json
    import subprocess
    import sys
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "exported"
    proc = subprocess.run([sys.executable, "-m", "export.main", f"--preset={name}", f"--export_dir={out}"],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path, env={**os.environ, "PYTHONPATH": repo})
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = json.load(open(out / "export.json"))
    info = presets.info(name)
    assert meta["prior"] == info["prior"] and meta["image_shape"] == info["config"]["model"]["input_shape"]
    assert max(meta["max_abs_difference_vs_saved_model"].values()) < 1e-4  # export.main compared them itself
    from export import export_lib
    module = export_lib.GenerativeModule(presets.load(name))
    inputs = module.example_inputs("sample", 4, np.random.default_rng(1))
    lite = export_lib.tflite_run(str(out / "sampler.tflite"), inputs)
    np.testing.assert_allclose(lite["mean_images"], module.sample(**inputs)["mean_images"].numpy(), atol=1e-4)
