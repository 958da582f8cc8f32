"""Tests of export.export_lib: Keras -> SavedModel -> TFLite round trips, bad input."""

import os

import numpy as np
import pytest
import tensorflow as tf

from export import export_lib
from vamp_tf import checkpoints


def noise(rng, n, module):
    """(component_uniform, latent_normal, pixel_uniform) for n images."""
    return (rng.random(n).astype(np.float32), rng.standard_normal((n, module.noise_dim)).astype(np.float32),
            rng.random((n,) + module.image_shape).astype(np.float32))


class _Exports(dict):
    """name -> (keras model, module, loaded SavedModel, {function: tflite bytes}), each run exported the
    first time a test asks for it (a worker exports only the runs its tests use)."""

    def __init__(self, small_runs, tmp_path_factory):
        super().__init__()
        self.small_runs, self.tmp_path_factory = small_runs, tmp_path_factory

    def __missing__(self, name):
        keras_model, _, _ = checkpoints.restore_model(self.small_runs[name])
        module = export_lib.GenerativeModule(keras_model)
        directory = str(self.tmp_path_factory.mktemp(name) / "saved_model")
        export_lib.save_saved_model(module, directory)
        tflite = {f: export_lib.tflite_bytes(module, f) for f in ("decode", "sample")}
        self[name] = (keras_model, module, tf.saved_model.load(directory), tflite)
        return self[name]


@pytest.fixture(scope="module")
def exported(small_runs, tmp_path_factory):
    return _Exports(small_runs, tmp_path_factory)


# Every model kind, likelihood, prior and mixture weighting at least once (the other small runs
# differ from these only in how they were trained).
@pytest.mark.parametrize("name", ["mnist_vamp", "frey_standard", "frey_hvae_vamp", "mnist_mog", "mnist_vamp_learned",
                                  "mnist_sphere_vamp", "frey_sphere_standard"])
def test_keras_saved_model_and_tflite_agree(exported, name):
    keras_model, module, loaded, tflite = exported[name]
    rng = np.random.default_rng(0)
    for batch in (1, 64):
        z = rng.standard_normal((batch, module.latent_width)).astype(np.float32)
        uniform, normal, pixels = noise(rng, batch, module)
        # the Keras model's own draws and means at the same noise
        drawn_z, mean_z = (t.numpy() for t in keras_model.images_at(z, pixels))
        want_mean = keras_model.generate(uniform, normal).mean().numpy()
        want_drawn = keras_model.draw_images(uniform, normal, pixels).numpy()
        decode = loaded.signatures["decode"](z=tf.constant(z), pixel_uniform=tf.constant(pixels))
        sample = loaded.signatures["sample"](component_uniform=tf.constant(uniform), latent_normal=tf.constant(normal),
                                             pixel_uniform=tf.constant(pixels))
        assert decode["images"].shape == (batch,) + module.image_shape
        np.testing.assert_allclose(decode["mean_images"], mean_z, atol=1e-6, rtol=0)
        np.testing.assert_allclose(decode["images"], drawn_z, atol=1e-6, rtol=0)
        np.testing.assert_allclose(sample["mean_images"], want_mean, atol=1e-6, rtol=0)
        np.testing.assert_allclose(sample["images"], want_drawn, atol=1e-6, rtol=0)
        lite_decode = export_lib.tflite_run(tflite["decode"], {"z": z, "pixel_uniform": pixels})
        lite_sample = export_lib.tflite_run(tflite["sample"], {"component_uniform": uniform, "latent_normal": normal,
                                                               "pixel_uniform": pixels})
        for lite, saved in ((lite_decode, decode), (lite_sample, sample)):
            np.testing.assert_allclose(lite["mean_images"], saved["mean_images"], atol=1e-5, rtol=0)
            # a drawn pixel flips only where its uniform lies within rounding of the probability
            assert np.mean(np.abs(lite["images"] - saved["images"].numpy()) > 1e-5) < 1e-3


def test_drawn_images_are_the_likelihoods_values_and_follow_their_means(exported):
    keras_model, module, loaded, _ = exported["mnist_vamp"]
    uniform, normal, pixels = noise(np.random.default_rng(3), 64, module)
    out = loaded.signatures["sample"](component_uniform=tf.constant(uniform), latent_normal=tf.constant(normal),
                                      pixel_uniform=tf.constant(pixels))
    images, means = out["images"].numpy(), out["mean_images"].numpy()
    assert set(np.unique(images)) <= {0.0, 1.0}  # Bernoulli draws
    np.testing.assert_array_equal(images, (pixels < means).astype(np.float32))  # the inverse CDF of each pixel
    _, frey, frey_loaded, _ = exported["frey_standard"]
    uniform, normal, pixels = noise(np.random.default_rng(4), 8, frey)
    gray = frey_loaded.signatures["sample"](component_uniform=tf.constant(uniform), latent_normal=tf.constant(normal),
                                            pixel_uniform=tf.constant(pixels))["images"].numpy()
    np.testing.assert_allclose(gray * 255, np.round(gray * 255), atol=1e-3)  # on the grid k / 255


def test_saved_model_encode_matches_the_encoder(exported):
    keras_model, module, loaded, _ = exported["frey_vamp"]
    x = np.random.default_rng(1).random((3,) + module.image_shape).astype(np.float32)
    out = loaded.signatures["encode"](x=tf.constant(x))
    mean, log_variance = keras_model.encoder(x)
    np.testing.assert_allclose(out["mean"], mean, atol=1e-6)
    np.testing.assert_allclose(out["log_variance"], log_variance, atol=1e-6)


def test_vamp_sampler_uses_the_pseudo_input_components(exported):
    keras_model, module, _, _ = exported["mnist_vamp"]
    cdf, loc, scale = (t.numpy() for t in keras_model.prior_parameters())
    assert cdf.shape == (5,) and loc.shape == (5, 4)
    z = np.asarray(keras_model.family.draw_from_mixture((cdf, loc, scale), np.float32([0.1, 0.9]),
                                                        np.zeros((2, 4), np.float32)))
    np.testing.assert_allclose(z, loc[[0, 4]], atol=1e-6)


def test_quantized_tflite_is_smaller_and_close(exported):
    _, module, loaded, tflite = exported["mnist_vamp"]
    quantized = export_lib.tflite_bytes(module, "decode", quantize=True)
    assert len(quantized) < len(tflite["decode"])
    z = np.random.default_rng(2).standard_normal((8, module.latent_width)).astype(np.float32)
    pixels = np.random.default_rng(3).random((8,) + module.image_shape).astype(np.float32)
    got = export_lib.tflite_run(quantized, {"z": z, "pixel_uniform": pixels})["mean_images"]
    want = loaded.signatures["decode"](z=tf.constant(z), pixel_uniform=tf.constant(pixels))["mean_images"].numpy()
    assert np.max(np.abs(got - want)) < 0.2


def test_bad_inputs_name_the_problem(exported, tmp_path):
    _, module, loaded, _ = exported["mnist_vamp"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="z must be finite"):
        loaded.signatures["decode"](z=tf.constant(np.full((1, module.latent_width), np.nan, np.float32)),
                                    pixel_uniform=tf.zeros((1,) + module.image_shape))
    with pytest.raises(TypeError, match=f"Can not cast TensorSpec\\(shape=\\(2, {module.latent_width + 1}\\).* to "
                                        f"TensorSpec\\(shape=\\(None, {module.latent_width}\\)"):
        module.decode(tf.zeros([2, module.latent_width + 1]), tf.zeros((2,) + module.image_shape))


def test_a_learned_weight_vampprior_samples_its_components_by_their_weights(small_runs):
    keras_model, _, _ = checkpoints.restore_model(small_runs["mnist_vamp_learned"])  # its own copy: changed below
    keras_model.prior.logits.assign([3.0, 0.0, 0.0, 0.0, -3.0])  # far from uniform
    cdf, loc, _ = (t.numpy() for t in keras_model.prior_parameters())
    np.testing.assert_allclose(np.diff(np.concatenate([[0.0], cdf])),
                               tf.nn.softmax([3.0, 0.0, 0.0, 0.0, -3.0]).numpy(), atol=1e-6)
    # An export freezes the weights it is given: one made now takes the changed ones.
    fresh = export_lib.GenerativeModule(keras_model)
    uniform = np.float32([0.1, 0.9, 0.999])
    normal = np.zeros((3, fresh.noise_dim), np.float32)
    got = export_lib.tflite_run(export_lib.tflite_bytes(fresh, "sample"),
                                {"component_uniform": uniform, "latent_normal": normal,
                                 "pixel_uniform": np.zeros((3,) + fresh.image_shape, np.float32)})
    want = keras_model.decode(loc[[0, 1, 4]]).mean().numpy()  # cdf: 0.868, 0.911, 0.955, 0.998, 1
    np.testing.assert_allclose(got["mean_images"], want, atol=1e-5)


def test_a_staged_export_is_whole_or_absent(tmp_path):
    out = tmp_path / "exported"
    out.mkdir()
    (out / "export.json").write_text("the older export")
    with pytest.raises(RuntimeError, match="half-way"):
        with export_lib.staged(str(out)) as stage:
            (tmp_path / stage / "sampler.tflite").write_bytes(b"half")
            raise RuntimeError("half-way")
    assert sorted(os.listdir(tmp_path)) == ["exported"] and (out / "export.json").read_text() == "the older export"
    with export_lib.staged(str(out)) as stage:
        (tmp_path / stage / "export.json").write_text("the new export")
    assert sorted(os.listdir(tmp_path)) == ["exported"] and (out / "export.json").read_text() == "the new export"


def test_export_to_a_full_disk_is_one_line_and_leaves_nothing(small_runs, small_disk, fill):
    import subprocess
    import sys
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fill(small_disk, leave_bytes=64 * 1024)  # less than the SavedModel
    proc = subprocess.run([sys.executable, "-m", "export.main", f"--workdir={small_runs['mnist_vamp']}",
                           f"--export_dir={small_disk / 'exported'}"], cwd=repo, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "No space left on device" in errors[0] and "Traceback" not in proc.stderr
    assert sorted(os.listdir(small_disk)) == ["filler"]  # no partial export


def test_tflite_files_carry_metadata_naming_every_input_and_output(exported):
    from export import tflite_metadata
    _, module, _, tflite = exported["frey_hvae_vamp"]
    plain = tflite["sample"]
    assert tflite_metadata.read(plain) is None
    data = export_lib.with_metadata(plain, module, "sample", "A test model.")
    meta = tflite_metadata.read(data)
    assert meta["name"] == "vamp_tf hvae sample" and meta["description"].startswith("A test model. Function 'sample'")
    assert meta["min_parser_version"] == "1.0.0" and meta["version"].startswith("vamp_tf ")
    inputs = {t["name"]: t for t in meta["inputs"]}
    assert list(inputs) == tflite_metadata.signature_order(plain, "sample")[0]
    assert set(inputs) == {"component_uniform", "latent_normal", "pixel_uniform"}
    assert inputs["component_uniform"]["range"] == (0.0, 1.0) and inputs["latent_normal"]["range"] == (None, None)
    assert inputs["pixel_uniform"]["dimensions"] == ["batch", "height", "width", "channels"]
    assert inputs["latent_normal"]["description"] == export_lib.INPUTS["latent_normal"][0]
    outputs = {t["name"]: t for t in meta["outputs"]}
    assert set(outputs) == {"images", "mean_images"} and outputs["images"]["content"] == "image"
    # the interpreter runs the file with its metadata as without
    rng = np.random.default_rng(5)
    inputs = module.example_inputs("sample", 3, rng)
    a, b = export_lib.tflite_run(plain, inputs), export_lib.tflite_run(data, inputs)
    for key in ("images", "mean_images"):
        np.testing.assert_array_equal(a[key], b[key])
    again = tflite_metadata.read(export_lib.with_metadata(data, module, "sample", "Replaced."))
    assert again["description"].startswith("Replaced.")  # one TFLITE_METADATA entry, replaced


def test_sigterm_during_an_export_stops_it_in_one_line_and_leaves_nothing(small_runs, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "exported"
    proc = subprocess.Popen([sys.executable, "-m", "export.main", f"--workdir={small_runs['mnist_vamp']}",
                             f"--export_dir={out}"], cwd=repo, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not list(tmp_path.glob(".exported.partial-*/saved_model")) and time.time() < deadline:
        time.sleep(0.05)  # until the SavedModel is being written into the staging directory
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr[-2000:]
    lines = [line for line in stderr.splitlines() if line.startswith(("warning: ", "error: "))]
    assert len(lines) == 1 and "SIGTERM: stopped during the export; nothing was written to" in lines[0]
    assert os.listdir(tmp_path) == []  # no export, no staging directory
