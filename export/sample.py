r"""Generates images from an exported model (without vamp_tf) or from a shipped preset.

    python -m export.sample --preset=mnist_vamp --out=samples.png                   (a shipped trained model)
    python -m export.sample --model=OUT --num_samples=64 --seed=0 --out=samples.png   (OUT/sampler.tflite)
    python -m export.sample --model=OUT/sampler.tflite --num_samples=64 --out=samples.png
    python -m export.sample --model=OUT/saved_model --num_samples=100000 --out=samples.npy
    python -m export.sample --model=OUT --num_samples=5000 --out=samples/           (one PNG per image)

The images are drawn, x ~ p(x | z) (binary for MNIST); --mean writes their means E[x | z] instead.
A .tflite file runs in the LiteRT interpreter (ai_edge_litert) with numpy only; a SavedModel
directory is loaded with tf.saved_model.load; either way this process never imports vamp_tf (a
--preset runs in vamp_tf's Keras model, with the same noise). Images are made BATCH at a time
(export/sample_lib.py), so memory stays bounded whatever --num_samples is: a .npy file or a folder
takes any count, a PNG sheet at most sample_lib.MAX_SHEET images.
"""

from absl import app, flags

from export import sample_lib

_MODEL = flags.DEFINE_string("model", None, "sampler.tflite, a saved_model directory, or the export directory "
                             "(--export_dir of export.main: its sampler.tflite).")
_PRESET = flags.DEFINE_string("preset", None, "A shipped trained model (vamp_tf.presets.names()), instead of --model.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "How many images.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the numpy noise.")
_OUT = flags.DEFINE_string("out", "samples.png", "A .png sheet (at most 2,500 images), a .npy array "
                           "[N, H, W, C] in [0, 1], or a folder (ending in /) of one PNG per image.")
_MEAN = flags.DEFINE_bool("mean", False, "Write the mean images E[x | z] instead of drawn images.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    if bool(_MODEL.value) == bool(_PRESET.value):
        raise app.UsageError("pass exactly one of --model (an exported model) and --preset (a shipped model).")
    output = "mean_images" if _MEAN.value else "images"
    try:
        if _NUM_SAMPLES.value < 1:
            raise sample_lib.SampleError(f"--num_samples={_NUM_SAMPLES.value} must be >= 1.")
        sample_lib.check_out(_OUT.value, _NUM_SAMPLES.value)  # before any model is loaded
        opened = sample_lib.preset_runner(_PRESET.value) if _PRESET.value else sample_lib.open_model(_MODEL.value)
        stream = sample_lib.batches(opened, _NUM_SAMPLES.value, _SEED.value, output)
        written = sample_lib.write(_OUT.value, stream, _NUM_SAMPLES.value)
    except sample_lib.SampleError as e:
        raise SystemExit(f"error: {e}") from None
    kind = "mean images" if _MEAN.value else "samples"
    print(f"wrote {_NUM_SAMPLES.value} {kind} to {written}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
