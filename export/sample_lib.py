"""Generating images from exported models with numpy (and LiteRT or TensorFlow), no vamp_tf.

A .tflite sampler runs in the LiteRT interpreter (ai_edge_litert) with numpy only; a
SavedModel directory is loaded with tf.saved_model.load. The noise (a uniform per image
for the prior component, a standard normal matrix for z) is drawn here with numpy, so both
runtimes give the same images for the same seed. Shapes come from export.json beside the
model. Used by export/sample.py.
"""

import json
import os
import struct
import zlib

import numpy as np


class SampleError(ValueError):
    pass


def read_metadata(model_path: str) -> dict:
    directory = os.path.dirname(os.path.abspath(model_path.rstrip("/")))
    path = os.path.join(directory, "export.json")
    if not os.path.exists(path):
        raise SampleError(f"no export.json beside {model_path}: pass a file written by python -m export.main.")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise SampleError(f"{path} cannot be read ({e}); export the model again with python -m export.main.") from e


def noise(metadata: dict, num_samples: int, seed: int) -> dict:
    """The sampler's inputs, float32, from numpy's PCG64 seeded with `seed`: uniform [N]
    and normal [N, noise_dim]; for autoregressive models also pixel_uniform [N, H, W, C]."""
    if num_samples < 1:
        raise SampleError(f"num_samples={num_samples} must be >= 1.")
    rng = np.random.default_rng(seed)
    inputs = {"uniform": rng.random(num_samples, dtype=np.float32),
              "normal": rng.standard_normal((num_samples, metadata["noise_dim"]), dtype=np.float32)}
    if "pixel_uniform" in metadata["inputs"]["sample"]:
        inputs["pixel_uniform"] = rng.random((num_samples, *metadata["image_shape"]), dtype=np.float32)
    return inputs


def check_inputs(metadata: dict, inputs: dict) -> None:
    """What the TFLite model cannot check itself: names, shapes, ranges, finiteness."""
    wanted = metadata["inputs"]["sample"]
    if set(inputs) != set(wanted):
        raise SampleError(f"the sampler takes inputs {', '.join(sorted(wanted))}; got {', '.join(sorted(inputs))}.")
    n = inputs["uniform"].shape[0] if inputs["uniform"].ndim == 1 else None
    for name, shape in wanted.items():
        want = [n] + list(shape[1:])
        if list(inputs[name].shape) != want:
            raise SampleError(f"{name} has shape {inputs[name].shape}; the model needs {want} "
                              "(N images, the uniform's length).")
    if not all(np.all(np.isfinite(v)) for v in inputs.values()):
        raise SampleError("the noise contains NaN or inf; it must be finite.")
    for name in ("uniform", "pixel_uniform"):
        if name in inputs and (np.any(inputs[name] < 0) or np.any(inputs[name] >= 1)):
            raise SampleError(f"{name} must lie in [0, 1).")


def sample_tflite(path: str, inputs: dict) -> np.ndarray:
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
    return interpreter.get_signature_runner("sample")(**inputs)["images"]


def sample_saved_model(path: str, inputs: dict) -> np.ndarray:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    fn = tf.saved_model.load(path).signatures["sample"]
    return fn(**{name: tf.constant(value) for name, value in inputs.items()})["images"].numpy()


def resolve_model(model_path: str) -> str:
    """The sampler to run: model_path itself (a .tflite file or a saved_model directory), or, for the
    export directory python -m export.main wrote (it holds export.json), its sampler.tflite."""
    if os.path.isdir(model_path) and os.path.exists(os.path.join(model_path, "export.json")):
        return os.path.join(model_path, "sampler.tflite")
    return model_path


def generate(model_path: str, num_samples: int, seed: int) -> np.ndarray:
    """Images [N, H, W, C] in [0, 1] from a sampler.tflite, a saved_model directory or the export directory
    that holds them (its sampler.tflite)."""
    model_path = resolve_model(model_path)
    if not os.path.exists(model_path):
        hint = " (the *_int8.tflite files are written only with --quantize)" if "_int8" in model_path else ""
        raise SampleError(f"{model_path} does not exist{hint}: pass a sampler.tflite or saved_model directory "
                          "written by python -m export.main --export_dir=...")
    metadata = read_metadata(model_path)
    inputs = noise(metadata, num_samples, seed)
    check_inputs(metadata, inputs)
    if os.path.isdir(model_path):
        return sample_saved_model(model_path, inputs)
    if model_path.endswith(".tflite"):
        return sample_tflite(model_path, inputs)
    raise SampleError(f"{model_path} is neither a .tflite file nor a SavedModel directory.")


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
