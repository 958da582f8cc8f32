"""Tests of export/sample_lib.py (and the export.main binary that writes its inputs), run as
users run them: the sampling process never imports vamp_tf."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from export import sample_lib as sample

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Makes `import vamp_tf` fail, then runs export.sample's command line.
BLOCK_AND_RUN = """
import sys
sys.modules["vamp_tf"] = None
import numpy as np
from export import sample_lib as sample
try:
    import vamp_tf
    raise SystemExit("vamp_tf was importable")
except ImportError:
    pass
for model, out in zip(sys.argv[1::2], sys.argv[2::2]):
    images = sample.generate(model, 64, 0)
    np.save(out + ".npy", images)
    np.save(out + ".mean.npy", sample.generate(model, 64, 0, output="mean_images"))
    sample.write_png(out, sample.grid(images))
assert "vamp_tf" not in [m.split(".")[0] for m in sys.modules if sys.modules[m] is not None]
"""


@pytest.fixture(scope="module")
def export_dir(small_runs, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("exported") / "frey_vamp")
    subprocess.run([sys.executable, "-m", "export.main", f"--workdir={small_runs['frey_vamp']}",
                    f"--export_dir={out}", "--quantize"], cwd=REPO, check=True, capture_output=True, timeout=300)
    return out


def test_export_main_writes_every_artifact(export_dir, small_runs):
    meta = json.load(open(os.path.join(export_dir, "export.json")))
    for name in ("decoder.tflite", "sampler.tflite", "decoder_int8.tflite", "sampler_int8.tflite"):
        assert os.path.getsize(os.path.join(export_dir, name)) == meta["sizes_bytes"][name]
    assert os.path.isdir(os.path.join(export_dir, "saved_model"))
    assert meta["image_shape"] == [28, 20, 1] and meta["prior"] == "vamp" and meta["noise_dim"] == 4
    assert meta["max_abs_difference_vs_saved_model"]["sampler.tflite"] < 1e-5
    assert meta["source_checkpoint"].endswith(os.path.join("checkpoints", "best", "ckpt-1"))  # epoch 1
    assert meta["files"]["keras"] == "model.keras"
    assert meta["sizes_bytes"]["model.keras"] == os.path.getsize(os.path.join(export_dir, "model.keras"))
    import keras  # pylint: disable=import-outside-toplevel
    from vamp_tf import checkpoints  # pylint: disable=import-outside-toplevel  (also registers the layers)
    loaded = keras.models.load_model(os.path.join(export_dir, "model.keras"))
    run_model, _, _ = checkpoints.restore_model(small_runs["frey_vamp"])  # the best checkpoint it came from
    assert loaded.config.prior == "vamp"
    np.testing.assert_array_equal(loaded.mean_images(2, seed=0).numpy(), run_model.mean_images(2, seed=0).numpy())


def test_the_export_directory_itself_names_its_sampler(export_dir):
    by_directory = sample.generate(export_dir, 3, seed=4)
    np.testing.assert_array_equal(by_directory, sample.generate(os.path.join(export_dir, "sampler.tflite"), 3, seed=4))


def test_both_runtimes_generate_the_same_images_without_vamp_tf(export_dir, tmp_path):
    tflite_png, saved_png = str(tmp_path / "tflite.png"), str(tmp_path / "saved.png")
    subprocess.run([sys.executable, "-c", BLOCK_AND_RUN, os.path.join(export_dir, "sampler.tflite"), tflite_png,
                    os.path.join(export_dir, "saved_model"), saved_png], cwd=REPO, check=True, timeout=300,
                   capture_output=True)
    a, b = np.load(tflite_png + ".npy"), np.load(saved_png + ".npy")
    assert a.shape == (64, 28, 20, 1)
    np.testing.assert_allclose(np.load(tflite_png + ".mean.npy"), np.load(saved_png + ".mean.npy"), atol=1e-5)
    # drawn: a pixel moves to the next gray level only where its noise sits within rounding of a bin's edge
    assert np.mean(np.abs(a - b) > 1e-5) < 1e-3 and np.max(np.abs(a - b)) < 1.5 / 255
    assert 0 <= a.min() and a.max() <= 1
    import matplotlib.image
    png = matplotlib.image.imread(tflite_png)
    assert png.shape == (3 * (8 * 29 + 1), 3 * (8 * 21 + 1))


def test_bad_inputs_and_files_name_the_problem(export_dir, tmp_path):
    meta = sample.read_metadata(os.path.join(export_dir, "sampler.tflite"))
    inputs = sample.noise(meta, 3, 0)
    assert set(inputs) == {"component_uniform", "latent_normal", "pixel_uniform"}
    with pytest.raises(sample.SampleError, match="latent_normal has shape \\(3, 3\\); the model needs \\[3, 4\\]"):
        sample.check_inputs(meta, dict(inputs, latent_normal=inputs["latent_normal"][:, :3]))
    with pytest.raises(sample.SampleError, match="takes inputs component_uniform, latent_normal, pixel_uniform; got "
                                                 "component_uniform, extra, latent_normal, pixel_uniform"):
        sample.check_inputs(meta, dict(inputs, extra=inputs["component_uniform"]))
    inputs["latent_normal"][0, 0] = np.inf
    with pytest.raises(sample.SampleError, match="NaN or inf"):
        sample.check_inputs(meta, inputs)
    with pytest.raises(sample.SampleError, match="num_samples=0"):
        sample.noise(meta, 0, 0)
    (tmp_path / "sampler.tflite").write_bytes(b"x")
    with pytest.raises(sample.SampleError, match="no export.json"):
        sample.generate(str(tmp_path / "sampler.tflite"), 2, 0)


def test_same_seed_same_noise_other_seed_or_batch_other_noise(export_dir):
    meta = sample.read_metadata(os.path.join(export_dir, "sampler.tflite"))
    a, b, c = sample.noise(meta, 5, 1), sample.noise(meta, 5, 1), sample.noise(meta, 5, 2)
    np.testing.assert_array_equal(a["latent_normal"], b["latent_normal"])
    assert not np.array_equal(a["latent_normal"], c["latent_normal"])
    assert not np.array_equal(a["latent_normal"], sample.noise(meta, 5, 1, batch=1)["latent_normal"])


def test_drawn_images_are_the_likelihoods_values_and_mean_images_their_means(export_dir):
    drawn = sample.generate(export_dir, 300, 0)  # two batches
    means = sample.generate(export_dir, 300, 0, output="mean_images")
    np.testing.assert_allclose(drawn * 255, np.round(drawn * 255), atol=1e-3)  # Frey Faces: on the grid k / 255
    assert not np.allclose(drawn, means)
    # a batch's images do not depend on how many are asked for
    np.testing.assert_array_equal(sample.generate(export_dir, 3, 0), drawn[:3])
    np.testing.assert_array_equal(sample.generate(export_dir, 257, 0)[256], drawn[256])


def test_bad_model_files_and_outputs_get_one_clear_error(export_dir, tmp_path):
    with pytest.raises(sample.SampleError, match="sampler.tflite does not exist: pass a sampler.tflite"):
        sample.generate(str(tmp_path / "sampler.tflite"), 2, 0)
    with pytest.raises(sample.SampleError, match="written only with --quantize"):
        sample.generate(str(tmp_path / "sampler_int8.tflite"), 2, 0)
    with pytest.raises(sample.SampleError, match="has no 'sample' signature \\(it has: decode\\).*not the decoder"):
        sample.generate(os.path.join(export_dir, "decoder.tflite"), 2, 0)
    import shutil
    damaged = tmp_path / "damaged"
    shutil.copytree(export_dir, damaged)
    garbage = damaged / "sampler.tflite"
    garbage.write_bytes(b"this is not a flatbuffer" * 10)
    with pytest.raises(sample.SampleError, match="is not a readable TFLite model"):
        sample.generate(str(garbage), 2, 0)
    data = open(os.path.join(export_dir, "sampler.tflite"), "rb").read()
    garbage.write_bytes(data[:len(data) // 2])
    with pytest.raises(sample.SampleError, match="is not a readable TFLite model"):
        sample.generate(str(garbage), 2, 0)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(sample.SampleError, match="cannot write .*afile/out.png: .*afile is a file, not a directory"):
        sample.write_png(str(tmp_path / "afile" / "out.png"), np.zeros((2, 2), np.uint8))
    proc = subprocess.run([sys.executable, "-m", "export.sample", f"--model={tmp_path / 'none.tflite'}"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'none.tflite'} does not exist: pass a sampler.tflite or saved_model directory written "
        "by python -m export.main --export_dir=..."]


def test_a_damaged_saved_model_is_named_in_one_sentence(export_dir, tmp_path):
    import shutil
    damaged = tmp_path / "export"
    shutil.copytree(export_dir, damaged)
    variables = damaged / "saved_model" / "variables"
    for data in variables.glob("variables.data-*"):
        data.write_bytes(data.read_bytes()[:100])  # truncated weights
    with pytest.raises(sample.SampleError, match="saved_model is a damaged SavedModel \\(.*\\); export the model again"):
        sample.generate(str(damaged / "saved_model"), 2, 0)
    (damaged / "saved_model" / "saved_model.pb").unlink()
    with pytest.raises(sample.SampleError, match="holds no saved_model.pb, so it is not a SavedModel"):
        sample.generate(str(damaged / "saved_model"), 2, 0)


# The writing: batches streamed to a .npy file or a folder, a PNG sheet's limit, memory bounded by the batch.
META = {"noise_dim": 3, "image_shape": [4, 5, 1],
        "inputs": {"sample": {"component_uniform": [None], "latent_normal": [None, 3], "pixel_uniform": [None, 4, 5, 1]}}}


def _runner(calls):
    def run(component_uniform, latent_normal, pixel_uniform):
        calls.append(len(component_uniform))
        return {"images": (pixel_uniform < 0.5).astype(np.float32), "mean_images": pixel_uniform * 0 + 0.5}
    return run


def test_the_model_is_asked_for_at_most_a_batch_of_images_at_a_time():
    calls = []
    images = list(sample.batches((META, _runner(calls)), 1000, seed=0))
    assert calls == [256, 256, 256, 232] == [len(b) for b in images]


def test_a_npy_file_is_written_batch_by_batch_and_whole_or_absent(tmp_path):
    calls = []
    out = str(tmp_path / "deep" / "samples.npy")
    sample.write(out, sample.batches((META, _runner(calls)), 600, seed=1), 600)
    array = np.load(out)
    assert array.shape == (600, 4, 5, 1) and calls == [256, 256, 88]
    np.testing.assert_array_equal(array, np.concatenate(list(sample.batches((META, _runner([])), 600, seed=1))))

    def failing():
        yield np.zeros((256, 4, 5, 1), np.float32)
        raise sample.SampleError("the model failed half-way")
    with pytest.raises(sample.SampleError, match="half-way"):
        sample.write(str(tmp_path / "broken.npy"), failing(), 600)
    assert sorted(os.listdir(tmp_path)) == ["deep"]  # neither broken.npy nor its .partial


def test_a_folder_gets_one_png_per_image(tmp_path):
    out = str(tmp_path / "images") + os.sep
    sample.write(out, sample.batches((META, _runner([])), 5, seed=0), 5)
    assert sorted(os.listdir(out)) == [f"{i:06d}.png" for i in range(5)]
    import matplotlib.image
    assert matplotlib.image.imread(os.path.join(out, "000000.png")).shape == (12, 15)  # 4 x 5, enlarged 3 times


def test_more_images_than_a_sheet_shows_are_refused_in_one_line_before_any_model_loads(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "export.sample", f"--model={tmp_path / 'none.tflite'}",
                           "--num_samples=100000", f"--out={tmp_path / 'x.png'}"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        "error: --num_samples=100000 is more than one PNG sheet shows (2500): pass --out=FILE.npy (an array, "
        "written batch by batch) or --out=FOLDER/ (one PNG per image)."]
    assert os.listdir(tmp_path) == []


def test_an_unknown_output_kind_and_a_bad_suffix_are_named():
    with pytest.raises(sample.SampleError, match="choose images \\(drawn\\) or mean_images"):
        next(sample.batches((META, _runner([])), 3, 0, output="means"))
    with pytest.raises(sample.SampleError, match="--out=x.jpg: end it in .png"):
        sample.write("x.jpg", iter([np.zeros((1, 4, 5, 1), np.float32)]), 1)
