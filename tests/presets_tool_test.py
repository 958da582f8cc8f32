"""Tests of tools/presets.py and of vamp_tf.presets on a preset shipped from a small recorded run: shipped,
listed, loaded, re-scored to its record image by image, and refused once its file is damaged."""

import os
import shutil
import zipfile

import numpy as np
import pytest

from tools import presets as preset_tool
from tools import records
from vamp_tf import files, presets, workdir


@pytest.fixture(scope="module")
def shipped_once(tmp_path_factory, small_runs):
    """A folder with small run mnist_vamp (run/), its record (records/) and preset 'tiny' (presets/)."""
    root = tmp_path_factory.mktemp("shipped")
    run = str(root / "run")
    shutil.copytree(small_runs["mnist_vamp"], run)
    record, per_image = records.from_workdir(run, "mnist_vamp")
    records.write(record, per_image, str(root / "records"))
    os.makedirs(root / "presets")
    preset_tool.ship(run, "mnist_vamp", "tiny", manifest=str(root / "presets" / "manifest.json"),
                     records_dir=str(root / "records"))
    return root


@pytest.fixture
def shipped(shipped_once, tmp_path):
    """(manifest, records_dir, workdir): a copy of shipped_once's, for this test to change."""
    shutil.copytree(shipped_once, tmp_path / "copy")
    root = tmp_path / "copy"
    return str(root / "presets" / "manifest.json"), str(root / "records"), str(root / "run")


def test_a_shipped_preset_is_listed_described_and_rescores_to_its_record(shipped):
    manifest, records_dir, run = shipped
    assert presets.names(manifest) == ["tiny"]
    info = presets.info("tiny", manifest)
    assert set(presets.REQUIRED) <= set(info)
    results = workdir.read_results(run)
    assert (info["dataset"], info["model"], info["prior"], info["record"]) == ("mnist", "vae", "vamp", "mnist_vamp")
    assert info["test_log_likelihood"] == results["metrics"]["test_log_likelihood"]
    assert info["bytes"] == os.path.getsize(info["path"]) and info["sha256"] == presets.sha256(info["path"])
    assert info["first_images_check"]["max_abs_difference"] == 0.0  # the same processor scored both
    with zipfile.ZipFile(info["path"]) as z:  # deflated, without optimizer state
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    stored = np.load(workdir.paths(run).log_likelihoods)
    assert info["config"]["train"]["data_dir"] is None  # not where the training machine kept the data
    rescored = preset_tool.rescore("tiny", 0, manifest=manifest, records_dir=records_dir,
                                   data_dir=workdir.read_config(run).train.data_dir)
    assert rescored["num_images"] == len(stored) == info["num_test_images"]
    assert rescored["max_abs_difference"] == 0.0  # bit for bit, at the record's float32
    assert rescored["recorded"] == pytest.approx(info["test_log_likelihood"], abs=1e-5)


def test_a_loaded_preset_samples_and_is_the_trained_model(shipped):
    manifest, _, run = shipped
    from vamp_tf import checkpoints
    model = presets.load("tiny", manifest)
    trained, _, _ = checkpoints.restore_model(run)
    for a, b in zip(model.weights, trained.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    images = model.sample(3, seed=1).numpy()
    assert images.shape == (3, 28, 28, 1) and set(np.unique(images)) <= {0.0, 1.0}


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_preset_is_refused_in_one_sentence_naming_its_digest(shipped, damage):
    manifest, _, _ = shipped
    path = presets.info("tiny", manifest)["path"]
    data = bytearray(open(path, "rb").read())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    open(path, "wb").write(bytes(data))
    with pytest.raises(presets.PresetDamaged, match=r"tiny.keras has SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64} "
                                                    r"shipped for preset 'tiny': the file is damaged or altered"):
        presets.load("tiny", manifest)
    os.remove(path)
    with pytest.raises(presets.PresetDamaged, match="preset 'tiny' has no file"):
        presets.load("tiny", manifest)


def test_an_unknown_preset_names_the_shipped_ones(shipped):
    with pytest.raises(KeyError, match="no preset named 'tinny'; the presets are tiny"):
        presets.info("tinny", shipped[0])


def test_ship_refuses_an_unrecorded_run_and_one_whose_scores_are_not_its_record(shipped, tmp_path):
    manifest, records_dir, run = shipped
    with pytest.raises(preset_tool.ShipError, match="no record mnist_nope with per-image scores"):
        preset_tool.ship(run, "mnist_nope", "x", manifest=manifest, records_dir=records_dir)
    scores = workdir.paths(run).log_likelihoods
    np.save(scores, np.load(scores) + 1.0)
    with pytest.raises(preset_tool.ShipError, match="test scores are not record mnist_vamp's"):
        preset_tool.ship(run, "mnist_vamp", "x", manifest=manifest, records_dir=records_dir)
    assert presets.names(manifest) == ["tiny"]


def test_a_preset_samples_as_its_export_does(shipped, monkeypatch):
    from export import export_lib, sample_lib
    manifest = shipped[0]
    monkeypatch.setattr(presets, "MANIFEST", manifest)
    opened = sample_lib.preset_runner("tiny")
    drawn = next(sample_lib.batches(opened, 6, seed=2))
    means = next(sample_lib.batches(opened, 6, seed=2, output="mean_images"))
    model, config, source = export_lib.from_preset("tiny")
    assert source.startswith("preset tiny (sha256 ") and config.train.dataset == "mnist"
    module = export_lib.GenerativeModule(model)
    lite = export_lib.tflite_run(export_lib.tflite_bytes(module, "sample"), sample_lib.noise(opened[0], 6, 2, 0))
    np.testing.assert_allclose(lite["mean_images"], means, atol=1e-5)
    assert np.mean(lite["images"] != drawn) < 1e-3 and set(np.unique(drawn)) <= {0.0, 1.0}
    assert "VampPrior (K = 5 pseudo-inputs)" in export_lib.description(config, source)


def test_ship_refuses_a_file_that_does_not_rescore_to_its_record_and_leaves_nothing(shipped, monkeypatch):
    manifest, records_dir, run = shipped
    scored = presets.score_entry
    monkeypatch.setattr(presets, "score_entry", lambda *args: scored(*args) + 1e-3)  # as another file would score
    with pytest.raises(preset_tool.ShipError, match="scores the first 20 test images up to 0.001[0-9]* nats from record "
                                                    "mnist_vamp \\(on the processor that scored it\\); not shipped"):
        preset_tool.ship(run, "mnist_vamp", "other", manifest=manifest, records_dir=records_dir)
    assert presets.names(manifest) == ["tiny"]
    assert not os.path.exists(os.path.join(os.path.dirname(manifest), "other.keras"))


def test_pseudo_inputs_records_where_the_parameters_lie_against_the_clip(shipped, tmp_path, monkeypatch):
    manifest = shipped[0]
    model = presets.load("tiny", manifest)
    variable = model.prior.pseudo_inputs_variable
    values = np.full(variable.shape, 0.5, np.float32)
    flat = values.reshape(-1)
    flat[: flat.size // 4] = -0.3  # a quarter below 0
    flat[flat.size // 4: flat.size // 4 + flat.size // 8] = 1.7  # an eighth above 1 (K x 784 divides by 8)
    variable.assign(values)
    monkeypatch.setattr(presets, "load", lambda name, manifest=None: model)
    record = preset_tool.pseudo_inputs("tiny", out=str(tmp_path), manifest=manifest)
    assert (record["below_zero_percent"], record["in_range_percent"], record["above_one_percent"]) == (25.0, 62.5, 12.5)
    assert record["mean_clipped"] == pytest.approx(0.125 + 0.625 * 0.5)  # the clip makes -0.3 a 0 and 1.7 a 1
    assert record["pixels"] == variable.shape[0] * 784 and record["record"] == "mnist_vamp"
    assert record == files.read_json(str(tmp_path / "tiny.json"))


def test_pseudo_inputs_of_a_prior_without_them_is_refused_in_one_sentence(shipped, tmp_path, monkeypatch):
    manifest = shipped[0]
    model = presets.load("tiny", manifest)
    monkeypatch.setattr(type(model.prior), "has_pseudo_inputs", property(lambda self: False))
    monkeypatch.setattr(presets, "load", lambda name, manifest=None: model)
    with pytest.raises(preset_tool.ShipError, match="preset tiny has a vamp prior, which has no pseudo-inputs"):
        preset_tool.pseudo_inputs("tiny", out=str(tmp_path / "out"), manifest=manifest)
    assert not os.path.exists(tmp_path / "out")
