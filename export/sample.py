r"""Generates images from an exported model, without vamp_tf.

    python -m export.sample --model=OUT --num_samples=64 --seed=0 --out=samples.png   (OUT/sampler.tflite)
    python -m export.sample --model=OUT/sampler.tflite --num_samples=64 --seed=0 --out=samples.png
    python -m export.sample --model=OUT/saved_model --num_samples=64 --seed=0 --out=samples.png

A .tflite file runs in the LiteRT interpreter (ai_edge_litert) with numpy only; a
SavedModel directory is loaded with tf.saved_model.load. Either way this process never
imports vamp_tf (see export/sample_lib.py).
"""

from absl import app, flags

from export import sample_lib

_MODEL = flags.DEFINE_string("model", None, "sampler.tflite, a saved_model directory, or the export directory "
                             "(--export_dir of export.main: its sampler.tflite).", required=True)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "How many images.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the numpy noise.")
_OUT = flags.DEFINE_string("out", "samples.png", "PNG grid to write.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    try:
        images = sample_lib.generate(_MODEL.value, _NUM_SAMPLES.value, _SEED.value)
        sample_lib.write_png(_OUT.value, sample_lib.grid(images))
    except sample_lib.SampleError as e:
        raise SystemExit(f"error: {e}") from None
    print(f"wrote {len(images)} samples to {_OUT.value}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
