r"""Exports a trained model for generation: SavedModel, TFLite decoder and sampler.

    python -m export.main --preset=mnist_vamp --export_dir=exported/mnist_vamp     (a shipped trained model)
    python -m export.main --workdir=runs/mnist_vamp_l40 --export_dir=exported/mnist_vamp
    python -m export.main --workdir=RUN --export_dir=OUT --quantize

Writes OUT/saved_model/ (signatures decode, sample, encode), OUT/decoder.tflite,
OUT/sampler.tflite (and OUT/*_int8.tflite with --quantize), OUT/model.keras (the whole model,
for keras.models.load_model) and OUT/export.json (shapes, dataset, prior, sizes in bytes, source
checkpoint, TFLite-vs-SavedModel differences). Generate images from them with export/sample.py.
"""

import os

from vamp_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # VAMP_TF_VERBOSE=1 shows TensorFlow's start-up lines

from absl import app, flags, logging  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", None, "The training run's --workdir (or pass --preset).")
_PRESET = flags.DEFINE_string("preset", None, "A shipped trained model (vamp_tf.presets.names()), instead of --workdir.")
_EXPORT_DIR = flags.DEFINE_string("export_dir", None, "Where to write the artifacts.", required=True)
_CHECKPOINT = flags.DEFINE_enum("checkpoint", "best", ["best", "latest"],
                                "Which weights: best validation (default) or the latest epoch.")
_QUANTIZE = flags.DEFINE_bool("quantize", False, "Also write dynamic-range int8 TFLite models.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from export import export_lib  # pylint: disable=import-outside-toplevel
    from vamp_tf import checkpoints, files, presets, workdir  # pylint: disable=import-outside-toplevel
    startup.command_line_logging()  # vamp_tf's lines at INFO, TensorFlow's at WARNING, no absl prefix
    if bool(_WORKDIR.value) == bool(_PRESET.value):
        raise app.UsageError("pass exactly one of --workdir (a training run) and --preset (a shipped model: "
                             "python -c 'import vamp_tf; print(vamp_tf.presets.names())').")
    try:
        if _PRESET.value:
            model, config, checkpoint = export_lib.from_preset(_PRESET.value)
        else:
            model, config, checkpoint = checkpoints.restore_model(_WORKDIR.value, _CHECKPOINT.value)
    except (workdir.RunNotFound, files.DamagedFile, checkpoints.CheckpointDamaged, presets.PresetDamaged,
            KeyError) as e:
        logging.error("%s", e.args[0] if isinstance(e, KeyError) else e)
        raise SystemExit(2) from None
    module = export_lib.GenerativeModule(model)
    try:
        with export_lib.stop_raises(), export_lib.staged(_EXPORT_DIR.value) as stage:  # whole or absent
            meta = _export(module, config, checkpoint, stage)
    except files.StorageError as e:
        logging.error("%s", e)
        raise SystemExit(1) from None
    except export_lib.ExportStopped as e:
        logging.warning("%s: stopped during the export; nothing was written to %s (an earlier export there is "
                        "kept). Rerun the same command to export.", e, _EXPORT_DIR.value)
        raise SystemExit(130) from None
    print(f"exported {config.model.model}/{config.model.prior} ({config.train.dataset}) from {checkpoint} to "
          f"{_EXPORT_DIR.value}: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in meta["sizes_bytes"].items()))


def _export(module, config, checkpoint, out) -> dict:
    """Writes the SavedModel, the TFLite files and export.json into `out`; returns the metadata."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    from export import export_lib  # pylint: disable=import-outside-toplevel
    from vamp_tf import files  # pylint: disable=import-outside-toplevel
    export_lib.save_saved_model(module, os.path.join(out, "saved_model"))
    meta = export_lib.describe(module, config, checkpoint)
    meta["files"] = {"saved_model": "saved_model"}
    meta["sizes_bytes"] = {}
    meta["max_abs_difference_vs_saved_model"] = {}
    keras_error = export_lib.save_keras_model(module.model, os.path.join(out, "model.keras"))
    if keras_error != 0.0:
        raise SystemExit(f"model.keras, loaded back, differs from the run's model by {keras_error}; not exported.")
    meta["files"]["keras"] = "model.keras"
    meta["sizes_bytes"]["model.keras"] = os.path.getsize(os.path.join(out, "model.keras"))
    rng = np.random.default_rng(0)
    n = 2 if module.autoregressive else 16  # an autoregressive check runs H x W passes of the decoder
    check = {function: module.example_inputs(function, n, rng) for function in ("decode", "sample")}
    names = {"decode": "decoder", "sample": "sampler"}
    for function in ("decode", "sample"):
        reference = {k: v.numpy() for k, v in getattr(module, function)(**check[function]).items()}
        for quantize in ([False, True] if _QUANTIZE.value else [False]):
            name = names[function] + ("_int8" if quantize else "") + ".tflite"
            data = export_lib.with_metadata(export_lib.tflite_bytes(module, function, quantize=quantize), module,
                                            function, export_lib.description(config, checkpoint))
            files.write_bytes(os.path.join(out, name), data)
            got = export_lib.tflite_run(data, check[function])
            # the mean images are compared: a drawn pixel may flip where its noise sits within rounding of p
            error = float(np.max(np.abs(got["mean_images"] - reference["mean_images"])))
            if not quantize and not error < 1e-4:
                raise SystemExit(f"{name} disagrees with the SavedModel by {error} (expected < 1e-4); not exported.")
            meta["files"][name[:-7]] = name
            meta["sizes_bytes"][name] = len(data)
            meta["max_abs_difference_vs_saved_model"][name] = error
    files.write_json(os.path.join(out, "export.json"), meta)
    return meta


def run():
    app.run(main)


if __name__ == "__main__":
    run()
