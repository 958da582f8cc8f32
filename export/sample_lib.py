"""Generating images from exported models with numpy (and LiteRT or TensorFlow), no vamp_tf.

A .tflite sampler runs in the LiteRT interpreter (ai_edge_litert) with numpy only; a
SavedModel directory is loaded with tf.saved_model.load. The noise (component_uniform per
image for the prior's component, latent_normal for z, pixel_uniform for each pixel's draw) is
drawn here with numpy, batch by batch from (seed, batch index), so both runtimes give the same
images for the same seed and a batch's images do not depend on how many are asked for. Shapes
come from export.json beside the model. `batches` yields BATCH images at a time, so memory stays
bounded whatever the count; export/sample.py writes them (a PNG sheet, a .npy array or a folder).
A shipped preset (`preset_runner`) runs in the Keras model itself and is the one path that
imports vamp_tf. Used by export/sample.py.
"""

import json
import os
import struct
import zlib
from typing import Callable, Iterator

import numpy as np

BATCH = 256  # images per call of the model: the memory bound of `batches`
MAX_SHEET = 2500  # images on one PNG sheet (50 x 50); more go to a .npy file or a folder
OUTPUTS = ("images", "mean_images")  # drawn images x ~ p(x | z), and their means E[x | z]


class SampleError(ValueError):
    pass


def read_metadata(model_path: str) -> dict:
    directory = os.path.dirname(os.path.abspath(model_path.rstrip("/")))
    path = os.path.join(directory, "export.json")
    if not os.path.exists(path):
        raise SampleError(f"no export.json beside {model_path}: pass a file written by python -m export.main.")
    try:
        with open(path) as f:
            metadata = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise SampleError(f"{path} cannot be read ({e}); export the model again with python -m export.main.") from e
    if "component_uniform" not in metadata.get("inputs", {}).get("sample", {}):
        raise SampleError(f"{path} was written by an older export.main (its sampler takes "
                          f"{', '.join(metadata.get('inputs', {}).get('sample', {})) or 'no inputs'}); export the "
                          "model again with python -m export.main.")
    return metadata


def noise(metadata: dict, num_samples: int, seed: int, batch: int = 0) -> dict:
    """The sampler's inputs for `num_samples` images, float32, from numpy's PCG64 seeded with (seed, batch, input):
    component_uniform [N], latent_normal [N, noise_dim], pixel_uniform [N, H, W, C]."""
    if num_samples < 1:
        raise SampleError(f"num_samples={num_samples} must be >= 1.")
    stream = lambda i: np.random.default_rng([seed, batch, i])  # noqa: E731  (one per input: the first k images
    # of a batch are the same whatever num_samples is)
    return {"component_uniform": stream(0).random(num_samples, dtype=np.float32),
            "latent_normal": stream(1).standard_normal((num_samples, metadata["noise_dim"]), dtype=np.float32),
            "pixel_uniform": stream(2).random((num_samples, *metadata["image_shape"]), dtype=np.float32)}


def check_inputs(metadata: dict, inputs: dict) -> None:
    """What the TFLite model cannot check itself: names, shapes, ranges, finiteness."""
    wanted = metadata["inputs"]["sample"]
    if set(inputs) != set(wanted):
        raise SampleError(f"the sampler takes inputs {', '.join(sorted(wanted))}; got {', '.join(sorted(inputs))}.")
    n = inputs["component_uniform"].shape[0] if inputs["component_uniform"].ndim == 1 else None
    for name, shape in wanted.items():
        want = [n] + list(shape[1:])
        if list(inputs[name].shape) != want:
            raise SampleError(f"{name} has shape {inputs[name].shape}; the model needs {want} "
                              "(N images, component_uniform's length).")
    if not all(np.all(np.isfinite(v)) for v in inputs.values()):
        raise SampleError("the noise contains NaN or inf; it must be finite.")
    for name in ("component_uniform", "pixel_uniform"):
        if np.any(inputs[name] < 0) or np.any(inputs[name] >= 1):
            raise SampleError(f"{name} must lie in [0, 1).")


def tflite_runner(path: str) -> Callable[[dict], dict]:
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=import-outside-toplevel
    try:
        interpreter = Interpreter(model_path=path)
    except (ValueError, RuntimeError) as e:
        raise SampleError(f"{path} is not a readable TFLite model ({str(e).splitlines()[0][:200]}): it is "
                          "truncated or not a .tflite file; export it again with python -m export.main.") from e
    signatures = interpreter.get_signature_list()
    if "sample" not in signatures:
        raise SampleError(f"{path} has no 'sample' signature (it has: {', '.join(signatures) or 'none'}); "
                          "pass the sampler (sampler.tflite or sampler_int8.tflite), not the decoder.")
    return interpreter.get_signature_runner("sample")


def saved_model_runner(path: str) -> Callable[[dict], dict]:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise SampleError(f"{path} holds no saved_model.pb, so it is not a SavedModel: pass the saved_model "
                          "directory written by python -m export.main, or export the model again.")
    try:
        loaded = tf.saved_model.load(path)
    except (tf.errors.OpError, ValueError, OSError, IndexError) as e:  # IndexError: a truncated variables file
        raise SampleError(f"{path} is a damaged SavedModel ({str(e).splitlines()[0][:200]}); export the model "
                          "again with python -m export.main.") from None
    if "sample" not in loaded.signatures:
        raise SampleError(f"{path} has no 'sample' signature (it has: {', '.join(loaded.signatures) or 'none'}); "
                          "export the model again with python -m export.main.")
    fn = loaded.signatures["sample"]
    return lambda **inputs: {k: v.numpy() for k, v in fn(**{n: tf.constant(a) for n, a in inputs.items()}).items()}


def preset_runner(name: str) -> tuple[dict, Callable[[dict], dict]]:
    """(metadata, runner) of a shipped preset (vamp_tf.presets): the Keras model draws with the same noise and
    the same rule as its exported sampler. The one runner that imports vamp_tf."""
    from vamp_tf import presets  # pylint: disable=import-outside-toplevel
    try:
        model = presets.load(name)
    except (KeyError, presets.PresetDamaged) as e:
        raise SampleError(e.args[0]) from e
    metadata = {"noise_dim": model.noise_dim, "image_shape": list(model.config.input_shape),
                "inputs": {"sample": {"component_uniform": [None], "latent_normal": [None, model.noise_dim],
                                      "pixel_uniform": [None, *model.config.input_shape]}}}

    def run(component_uniform, latent_normal, pixel_uniform):
        images, means = model.images_at(model.prior_z(component_uniform, latent_normal), pixel_uniform)
        return {"images": images.numpy(), "mean_images": means.numpy()}
    return metadata, run


def resolve_model(model_path: str) -> str:
    """The sampler to run: model_path itself (a .tflite file or a saved_model directory), or, for the
    export directory python -m export.main wrote (it holds export.json), its sampler.tflite."""
    if os.path.isdir(model_path) and os.path.exists(os.path.join(model_path, "export.json")):
        return os.path.join(model_path, "sampler.tflite")
    return model_path


def open_model(model_path: str) -> tuple[dict, Callable[[dict], dict]]:
    """(metadata, runner) of a sampler.tflite, a saved_model directory or the export directory holding them."""
    model_path = resolve_model(model_path)
    if not os.path.exists(model_path):
        hint = " (the *_int8.tflite files are written only with --quantize)" if "_int8" in model_path else ""
        raise SampleError(f"{model_path} does not exist{hint}: pass a sampler.tflite or saved_model directory "
                          "written by python -m export.main --export_dir=...")
    metadata = read_metadata(model_path)
    if os.path.isdir(model_path):
        return metadata, saved_model_runner(model_path)
    if model_path.endswith(".tflite"):
        return metadata, tflite_runner(model_path)
    raise SampleError(f"{model_path} is neither a .tflite file nor a SavedModel directory.")


def batches(opened: tuple, num_samples: int, seed: int, output: str = "images") -> Iterator[np.ndarray]:
    """Images [<= BATCH, H, W, C] in [0, 1], batch after batch, num_samples in all, from open_model's or
    preset_runner's (metadata, runner): 'images' drawn, or 'mean_images' (their means E[x | z])."""
    if output not in OUTPUTS:
        raise SampleError(f"output={output!r}: choose images (drawn) or mean_images (E[x | z]).")
    metadata, runner = opened
    if num_samples < 1:
        raise SampleError(f"num_samples={num_samples} must be >= 1.")
    for index, start in enumerate(range(0, num_samples, BATCH)):
        inputs = noise(metadata, min(BATCH, num_samples - start), seed, index)
        check_inputs(metadata, inputs)
        yield np.asarray(runner(**inputs)[output])


def generate(model_path: str, num_samples: int, seed: int, output: str = "images") -> np.ndarray:
    """All num_samples images at once [N, H, W, C] (for a few; export/sample.py streams `batches`)."""
    return np.concatenate(list(batches(open_model(model_path), num_samples, seed, output)))


def check_out(out: str, num_samples: int) -> None:
    """SampleError unless `out` can take num_samples images: a .npy file or a folder any count, a PNG sheet
    at most MAX_SHEET (checked before any model is loaded: export/sample.py)."""
    if out.endswith(".npy") or out.endswith(os.sep) or os.path.isdir(out):
        return
    if not out.endswith(".png"):
        raise SampleError(f"--out={out}: end it in .png (a sheet), .npy (an array) or / (a folder).")
    if num_samples > MAX_SHEET:
        raise SampleError(
            f"--num_samples={num_samples} is more than one PNG sheet shows ({MAX_SHEET}): pass --out=FILE.npy (an "
            "array, written batch by batch) or --out=FOLDER/ (one PNG per image).")


def write(out: str, stream, num_samples: int) -> str:
    """Writes the images of `stream` (batches) to a .npy, a folder or a PNG sheet; returns what it wrote."""
    if out.endswith(".npy"):
        array, done, partial = None, 0, out + ".partial"
        try:
            for images in stream:
                if array is None:
                    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
                    array = np.lib.format.open_memmap(partial, "w+", np.float32, (num_samples, *images.shape[1:]))
                array[done:done + len(images)] = images
                done += len(images)
            array.flush()
            del array
            os.replace(partial, out)  # whole or absent
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        return out
    if out.endswith(os.sep) or os.path.isdir(out):
        os.makedirs(out, exist_ok=True)
        done = 0
        for images in stream:
            for image in images:
                write_png(os.path.join(out, f"{done:06d}.png"), grid(image[np.newaxis], pad=0))
                done += 1
        return out
    check_out(out, num_samples)
    return write_png(out, grid(np.concatenate(list(stream))))


def grid(images: np.ndarray, pad: int = 1) -> np.ndarray:
    """[N, H, W, C] in [0, 1] -> uint8 [rows * (H + pad) + pad, cols * (W + pad) + pad]."""
    n, h, w = images.shape[:3]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = \
            np.clip(np.round(images[i, ..., 0] * 255), 0, 255).astype(np.uint8)
    return out


def write_png(path: str, gray: np.ndarray, scale: int = 3) -> str:
    """A grayscale PNG from uint8 [H, W], enlarged `scale` times (zlib + struct only)."""
    gray = np.repeat(np.repeat(gray, scale, axis=0), scale, axis=1)
    height, width = gray.shape
    raw = b"".join(b"\x00" + gray[i].tobytes() for i in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise SampleError(f"cannot write {path}: {parent} is a file, not a directory; pass an --out in a directory.")
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)
    except OSError as e:
        raise SampleError(f"cannot write {path}: {e.strerror or e}; pass an --out in a writable directory.") from e
    return path
