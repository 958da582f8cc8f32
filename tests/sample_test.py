"""Tests of export/sample.py's writing: batches streamed to a .npy file or a folder, a PNG sheet's limit,
memory bounded by the batch whatever the count."""

import os
import subprocess
import sys

import numpy as np
import pytest

from export import sample, sample_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
META = {"noise_dim": 3, "image_shape": [4, 5, 1],
        "inputs": {"sample": {"component_uniform": [None], "latent_normal": [None, 3], "pixel_uniform": [None, 4, 5, 1]}}}


def _runner(calls):
    def run(component_uniform, latent_normal, pixel_uniform):
        calls.append(len(component_uniform))
        return {"images": (pixel_uniform < 0.5).astype(np.float32), "mean_images": pixel_uniform * 0 + 0.5}
    return run


def test_the_model_is_asked_for_at_most_a_batch_of_images_at_a_time():
    calls = []
    images = list(sample_lib.batches((META, _runner(calls)), 1000, seed=0))
    assert calls == [256, 256, 256, 232] == [len(b) for b in images]


def test_a_npy_file_is_written_batch_by_batch_and_whole_or_absent(tmp_path):
    calls = []
    out = str(tmp_path / "deep" / "samples.npy")
    sample._write(out, sample_lib.batches((META, _runner(calls)), 600, seed=1), 600)
    array = np.load(out)
    assert array.shape == (600, 4, 5, 1) and calls == [256, 256, 88]
    np.testing.assert_array_equal(array, np.concatenate(list(sample_lib.batches((META, _runner([])), 600, seed=1))))

    def failing():
        yield np.zeros((256, 4, 5, 1), np.float32)
        raise sample_lib.SampleError("the model failed half-way")
    with pytest.raises(sample_lib.SampleError, match="half-way"):
        sample._write(str(tmp_path / "broken.npy"), failing(), 600)
    assert sorted(os.listdir(tmp_path)) == ["deep"]  # neither broken.npy nor its .partial


def test_a_folder_gets_one_png_per_image(tmp_path):
    out = str(tmp_path / "images") + os.sep
    sample._write(out, sample_lib.batches((META, _runner([])), 5, seed=0), 5)
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
    with pytest.raises(sample_lib.SampleError, match="choose images \\(drawn\\) or mean_images"):
        next(sample_lib.batches((META, _runner([])), 3, 0, output="means"))
    with pytest.raises(sample_lib.SampleError, match="--out=x.jpg: end it in .png"):
        sample._write("x.jpg", iter([np.zeros((1, 4, 5, 1), np.float32)]), 1)
