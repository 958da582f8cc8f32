"""Exporting trained models for generation: a tf.Module, its SavedModel, TFLite bytes.

`GenerativeModule(model)` exposes, with fixed input signatures (INPUTS and OUTPUTS describe each):
  sample(component_uniform: [N], latent_normal: [N, noise_dim], pixel_uniform: [N, H, W, C])
                                        -> {'images', 'mean_images': [N, H, W, C]}
  decode(z: [N, latent_width], pixel_uniform: [N, H, W, C])
                                        -> {'images', 'mean_images': [N, H, W, C]}
  encode(x: [N, H, W, C])               -> {'mean', 'log_variance': [N, latent_dim]}
                                           (the latent family's parameter_names)
'images' are drawn, x ~ p(x | z) (binary for Bernoulli data, on the grid k / 255 for gray data), as
the Keras model's `sample`; 'mean_images' are E[x | z], as its `mean_images` (for the autoregressive
PixelHVAE: each pixel's conditional mean given the pixels drawn before it). All randomness is an
input: component_uniform picks the prior's mixture component, latent_normal drives z (and z1 | z2 in
the HVAE), pixel_uniform draws each pixel by the likelihood's inverse CDF; so the same inputs give the
same images on every runtime. The prior's components (for the VampPrior: the encoded pseudo-inputs)
are computed once at export and frozen as constants.

The SavedModel's functions check that inputs are finite (InvalidArgumentError naming the
input). TFLite has no such op; its functions are the unchecked twins, and
export/sample.py checks inputs in numpy instead. The .tflite files carry TFLite metadata
(export/tflite_metadata.py): the model's name and description, and each input's and output's
meaning, shape and range.

Export libraries return artifacts; export/main.py restores a run (vamp_tf.workdir) or a preset
(vamp_tf.presets) and writes them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Optional

import numpy as np
import tensorflow as tf

from vamp_tf import files
from vamp_tf.config import Config
from vamp_tf.models import LatentVariableModel


# Every input and output of the exported functions: (description, value range). Shapes are in `module.inputs`.
INPUTS = {
    "component_uniform": ("uniform noise U[0, 1), one per image: picks the prior's mixture component (the inverse "
                          "CDF of its weights; the VampPrior's K pseudo-inputs, the standard prior's one)", (0.0, 1.0)),
    "latent_normal": ("standard normal noise N(0, 1): draws z from the chosen component, z = mu_k + sigma_k * noise "
                      "(in the HVAE its first latent_dim columns draw z2, the rest z1 given z2)", (None, None)),
    "pixel_uniform": ("uniform noise U[0, 1), one per pixel: draws each pixel of x ~ p(x | z) by the likelihood's "
                      "inverse CDF", (0.0, 1.0)),
    "z": ("a latent code (the HVAE's: [z1, z2] concatenated), e.g. from encode or from the prior", (None, None)),
    "x": ("images, pixels in [0, 1] (binary data: 0 or 1; gray data: k / 255)", (0.0, 1.0)),
}
OUTPUTS = {
    "images": ("images drawn from the model, x ~ p(x | z): binary for Bernoulli data, k / 255 for gray data", (0.0, 1.0)),
    "mean_images": ("the mean images E[x | z] (the Bernoulli probabilities; the discretized logistic's mean)",
                    (0.0, 1.0)),
    "mean": ("the mean of q(z | x) (the HVAE's q(z2 | x))", (None, None)),
    "log_variance": ("the log-variance of q(z | x) (the HVAE's q(z2 | x))", (None, None)),
    "concentration": ("the concentration of the Power Spherical q(z | x)", (0.0, None)),
}


def _finite(tensor, name):
    return tf.debugging.assert_all_finite(tensor, f"{name} must be finite (no NaN or inf)")


class GenerativeModule(tf.Module):
    """The exported functions of a trained model (see the module docstring)."""

    def __init__(self, model: LatentVariableModel):
        super().__init__(name="vamp_tf_export")
        self.model = model  # tracks the weights
        config = model.config
        self.image_shape = tuple(config.input_shape)
        self.latent_width, self.noise_dim, self.latent_dim = model.latent_width, model.noise_dim, config.latent_dim
        self._prior = tuple(tf.constant(t.numpy()) for t in model.prior_parameters())
        self.autoregressive = model.autoregressive
        image = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="x")
        pixel = tf.TensorSpec((None,) + self.image_shape, tf.float32, name="pixel_uniform")
        latent = tf.TensorSpec([None, self.latent_width], tf.float32, name="z")
        uniform = tf.TensorSpec([None], tf.float32, name="component_uniform")
        normal = tf.TensorSpec([None, self.noise_dim], tf.float32, name="latent_normal")
        self.inputs = {"sample": [uniform, normal, pixel], "decode": [latent, pixel], "encode": [image]}
        self.outputs = {"sample": ["images", "mean_images"], "decode": ["images", "mean_images"],
                        "encode": list(model.family.parameter_names)}
        self.sample = tf.function(self._sample_checked, autograph=False, input_signature=self.inputs["sample"])
        self.decode = tf.function(self._decode_checked, autograph=False, input_signature=self.inputs["decode"])
        self.encode = tf.function(self._encode_checked, autograph=False, input_signature=self.inputs["encode"])

    def unchecked(self, function: str):
        """'decode' or 'sample' without the finiteness checks, for TFLite (which has no such op).
        Made on demand, not kept: a tf.function attribute would be traced and written into
        every SavedModel too (5 functions instead of 3: 5.3-5.9 s against 3.8 s to save a small
        PixelHVAE on a 2-core AMD EPYC)."""
        python = {"decode": self._decode, "sample": self._sample}[function]
        return tf.function(python, autograph=False, input_signature=self.inputs[function])

    def _sample_checked(self, component_uniform, latent_normal, pixel_uniform):
        return self._sample(_finite(component_uniform, "component_uniform"), _finite(latent_normal, "latent_normal"),
                            _finite(pixel_uniform, "pixel_uniform"))

    def _decode_checked(self, z, pixel_uniform):
        return self._decode(_finite(z, "z"), _finite(pixel_uniform, "pixel_uniform"))

    def _encode_checked(self, x):
        return self._encode(_finite(x, "x"))

    def _decode(self, z, pixel_uniform):
        images, mean_images = self.model.images_at(z, pixel_uniform)
        return {"images": images, "mean_images": mean_images}

    def _sample(self, component_uniform, latent_normal, pixel_uniform):
        return self._decode(self.model.prior_z(component_uniform, latent_normal, self._prior), pixel_uniform)

    def _encode(self, x):
        return self.model.encode(x)

    def example_inputs(self, function: str, n: int, rng: np.random.Generator) -> dict:
        """Random valid inputs {name: float32 array} of `function` for n images."""
        out = {}
        for spec in self.inputs[function]:
            shape = [n] + list(spec.shape[1:])
            normal = spec.name in ("z", "latent_normal")
            out[spec.name] = (rng.standard_normal(shape) if normal else rng.random(shape)).astype(np.float32)
        return out

    def signatures(self) -> dict:
        return {"decode": self.decode.get_concrete_function(), "sample": self.sample.get_concrete_function(),
                "encode": self.encode.get_concrete_function()}


def save_saved_model(module: GenerativeModule, directory: str) -> str:
    """Writes the SavedModel with signatures 'decode', 'sample', 'encode' (files.StorageError
    naming the directory if the disk is full or the directory vanishes)."""
    try:
        tf.saved_model.save(module, directory, signatures=module.signatures())
    except (tf.errors.OpError, OSError) as e:
        raise files.storage_error(directory, e, resumes=False) from e
    return directory


def save_keras_model(model, path: str, seed: int = 0) -> float:
    """Writes the model as a Keras file (model.save; vamp_tf's layers are registered with keras.saving),
    loads it back and returns the largest difference of the one-sample ELBO terms of the two models on
    random images with the same noise (0.0 when the file holds the model). files.StorageError names
    the path if the disk is full."""
    import keras  # pylint: disable=import-outside-toplevel
    try:
        model.save(path)
    except OSError as e:
        raise files.storage_error(path, e, resumes=False) from e
    loaded = keras.models.load_model(path)
    images = tf.cast(tf.random.stateless_uniform((4,) + tuple(model.config.input_shape), seed=[seed, 1]) < 0.5,
                     tf.float32)
    if model.likelihood.name != "bernoulli":
        images = tf.round(tf.random.stateless_uniform(tf.shape(images), seed=[seed, 2]) * 255.0) / 255.0
    a, b = model(images, seed=[seed, 3]), loaded(images, seed=[seed, 3])
    return max(float(tf.reduce_max(tf.abs(a[k] - b[k]))) for k in a)


class ExportStopped(Exception):
    """SIGINT or SIGTERM during an export (its message: the signal's name)."""


@contextlib.contextmanager
def stop_raises():
    """SIGINT / SIGTERM raise ExportStopped for the `with` block (in the main thread), so `staged` removes its
    staging directory and the process says where it stopped, instead of dying with a half-written folder."""
    import signal  # pylint: disable=import-outside-toplevel

    def handle(signum, frame):
        raise ExportStopped(signal.Signals(signum).name)
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def staged(out: str):
    """Yields a staging directory beside `out`; on success it replaces `out` (an older export
    there is removed only then), on any error it is deleted: an export is whole or absent."""
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    try:
        os.makedirs(parent, exist_ok=True)
        stage = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(out)}.partial-")
    except OSError as e:
        raise files.storage_error(out, e, resumes=False) from e
    try:
        yield stage
        old = None
        if os.path.exists(out):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(out)}.old-")
            os.rename(out, os.path.join(old, "export"))
        os.rename(stage, out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        raise files.storage_error(out, e, resumes=False) from e
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def tflite_bytes(module: GenerativeModule, function: str, quantize: bool = False) -> bytes:
    """TFLite flatbuffer of 'decode' or 'sample' (float32; dynamic-range int8 weights if
    quantize).

    The weights are frozen into constants first: converting the SavedModel (or the concrete
    function) directly left the Keras 3 variables as uninitialised resources in the
    flatbuffer (6 kB decoders whose every output was NaN).
    """
    from tensorflow.python.framework import convert_to_constants  # pylint: disable=import-outside-toplevel
    fn = module.unchecked(function)
    output_names = sorted(module.outputs[function])  # the order freezing flattens a dict's values in
    frozen = convert_to_constants.convert_variables_to_constants_v2(fn.get_concrete_function())

    @tf.function(autograph=False, input_signature=fn.input_signature)
    def named(*args):  # freezing flattens the outputs; name them again
        return dict(zip(output_names, frozen(*args)))

    try:
        with tempfile.TemporaryDirectory() as tmp:  # a variable-free SavedModel keeps the signature's names
            tf.saved_model.save(tf.Module(), tmp, signatures={function: named.get_concrete_function()})
            converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[function])
            if quantize:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            return converter.convert()
    except (tf.errors.OpError, OSError) as e:  # the temporary directory's disk is full
        raise files.storage_error(tempfile.gettempdir(), e, resumes=False) from e


_DIMENSIONS = {"x": ["batch", "height", "width", "channels"], "pixel_uniform": ["batch", "height", "width", "channels"],
               "images": ["batch", "height", "width", "channels"],
               "mean_images": ["batch", "height", "width", "channels"], "z": ["batch", "latent"],
               "latent_normal": ["batch", "noise"], "component_uniform": ["batch"]}


def with_metadata(model: bytes, module: GenerativeModule, function: str, description: str) -> bytes:
    """The .tflite bytes of `function` with TFLite metadata (export/tflite_metadata.py): the model's name and
    `description`, and each input's and output's meaning (INPUTS, OUTPUTS), dimension names and range."""
    import vamp_tf  # pylint: disable=import-outside-toplevel
    from export import tflite_metadata  # pylint: disable=import-outside-toplevel
    inputs, outputs = tflite_metadata.signature_order(model, function)
    tensor = lambda name, table: {"name": name, "description": table[name][0], "range": table[name][1],  # noqa: E731
                                  "dimensions": _DIMENSIONS[name], "image": name.endswith("images")}
    metadata = tflite_metadata.build(
        name=f"vamp_tf {module.model.config.model} {function}",
        description=f"{description} Function '{function}': " + {
            "sample": "draws images from the model, z ~ p(z), x ~ p(x | z), every random choice an input.",
            "decode": "decodes latent codes z into drawn images and their means."}[function],
        version=f"vamp_tf {vamp_tf.__version__}",
        inputs=[tensor(n, INPUTS) for n in inputs], outputs=[tensor(n, OUTPUTS) for n in outputs])
    return tflite_metadata.attach(model, metadata)


def tflite_run(model_bytes_or_path, inputs: dict, signature: Optional[str] = None) -> dict:
    """Runs a TFLite model with the LiteRT interpreter on numpy inputs (any batch size)."""
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=import-outside-toplevel
    if isinstance(model_bytes_or_path, (bytes, bytearray)):
        interpreter = Interpreter(model_content=bytes(model_bytes_or_path))
    else:
        interpreter = Interpreter(model_path=str(model_bytes_or_path))
    signature = signature or next(iter(interpreter.get_signature_list()))
    runner = interpreter.get_signature_runner(signature)  # resizes to the inputs' batch itself
    return runner(**{k: np.asarray(v, np.float32) for k, v in inputs.items()})


def from_preset(name: str):
    """(model, config, source) of a shipped preset (vamp_tf.presets), its file's digest checked."""
    from vamp_tf import presets  # pylint: disable=import-outside-toplevel
    from vamp_tf.config import Config  # pylint: disable=import-outside-toplevel
    info = presets.info(name)
    model = presets.load(name)
    return model, Config.from_dict(info["config"]), f"preset {name} (sha256 {info['sha256']}, record {info['record']})"


def description(config, source: str) -> str:
    """What the exported model is, in a sentence (the .tflite files' metadata)."""
    m = config.model
    prior = {"vamp": f"a VampPrior (K = {m.num_components} pseudo-inputs)", "standard": "a standard normal prior",
             "mog": f"a mixture-of-Gaussians prior (K = {m.num_components})"}.get(m.prior, m.prior)
    return (f"A {m.model.upper()} with {prior}, latent {m.latent_dim}, {m.likelihood} likelihood, trained on "
            f"{config.train.dataset} ({'x'.join(str(d) for d in m.input_shape)} images); weights: {source}.")


def describe(module: GenerativeModule, config: Config, checkpoint: str) -> dict:
    """The metadata written to export.json (checkpoint: where the weights came from, a checkpoint or a preset)."""
    return {
        "dataset": config.train.dataset, "model": config.model.model, "prior": config.model.prior,
        "likelihood": config.model.likelihood, "num_components": config.model.num_components,
        "latent_dim": module.latent_dim, "latent_width": module.latent_width, "noise_dim": module.noise_dim,
        "image_shape": list(module.image_shape), "source_checkpoint": checkpoint,
        "architecture": config.model.architecture, "autoregressive": module.autoregressive,
        "inputs": {function: {spec.name: [None] + list(spec.shape[1:]) for spec in specs}
                   for function, specs in module.inputs.items()},
        "outputs": module.outputs,
        "descriptions": {name: INPUTS.get(name, OUTPUTS.get(name, ("", None)))[0]
                         for name in {spec.name for specs in module.inputs.values() for spec in specs}
                         | {name for names in module.outputs.values() for name in names}},
    }
