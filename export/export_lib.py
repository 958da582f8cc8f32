"""Exporting trained models for generation: a tf.Module, its SavedModel, TFLite bytes.

`GenerativeModule(model)` exposes, with fixed input signatures:
  decode(z: [N, latent_width])                     -> {'mean': [N, H, W, C]}
  sample(uniform: [N], normal: [N, noise_dim])    -> {'images': [N, H, W, C]}
  encode(x: [N, H, W, C])                          -> {'mean', 'log_variance': [N, latent_dim]}
                                                      (the latent family's parameter_names)
'mean'/'images' are E[x | z]: Bernoulli probabilities for binary data, the discretized
logistic mean for gray data. All randomness of `sample` is an input (uniform picks the
prior component, normal drives z = mu_k + sigma_k * normal, and z1 | z2 for the HVAE), so
the same inputs give the same images on every runtime. The prior's components (for the
VampPrior: the encoded pseudo-inputs) are computed once at export and frozen as constants.

Autoregressive models (the PixelHVAE) draw their pixels one by one inside the exported
graph (a while loop, which TFLite runs as a WHILE op): decode and sample take one more
input, pixel_uniform [N, H, W, C] in [0, 1), the noise of each pixel's draw, and return at
every pixel the mean of its conditional given the pixels drawn before it
(LatentVariableModel.decode_images). `module.inputs` lists every function's inputs.

The SavedModel's functions check that inputs are finite (InvalidArgumentError naming the
input). TFLite has no such op; its functions are the unchecked twins, and
export/sample.py checks inputs in numpy instead.

Export libraries return artifacts; export/main.py restores a run (vamp_tf.workdir) and
writes them.
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


def _finite(tensor, name):
    return tf.debugging.assert_all_finite(tensor, f"{name} must be finite (no NaN or inf)")


def _finite_or_none(tensor, name):
    return None if tensor is None else _finite(tensor, name)


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
        latent = tf.TensorSpec([None, self.latent_width], tf.float32, name="z")
        uniform = tf.TensorSpec([None], tf.float32, name="uniform")
        normal = tf.TensorSpec([None, self.noise_dim], tf.float32, name="normal")
        pixel = [tf.TensorSpec((None,) + self.image_shape, tf.float32, name="pixel_uniform")] \
            if self.autoregressive else []
        decode, sample = [latent] + pixel, [uniform, normal] + pixel
        self.inputs = {"decode": decode, "sample": sample, "encode": [image]}

        self.decode = tf.function(self._decode_checked, autograph=False, input_signature=decode)
        self.sample = tf.function(self._sample_checked, autograph=False, input_signature=sample)
        self.encode = tf.function(self._encode_checked, autograph=False, input_signature=[image])

    def unchecked(self, function: str):
        """'decode' or 'sample' without the finiteness checks, for TFLite (which has no such op).
        Made on demand, not kept: a tf.function attribute would be traced and written into
        every SavedModel too (5 functions instead of 3: 5.3-5.9 s against 3.8 s to save a small
        PixelHVAE on a 2-core AMD EPYC)."""
        python = {"decode": self._decode, "sample": self._sample}[function]
        return tf.function(python, autograph=False, input_signature=self.inputs[function])

    def _decode_checked(self, z, pixel_uniform=None):
        return self._decode(_finite(z, "z"), _finite_or_none(pixel_uniform, "pixel_uniform"))

    def _sample_checked(self, uniform, normal, pixel_uniform=None):
        return self._sample(_finite(uniform, "uniform"), _finite(normal, "normal"),
                            _finite_or_none(pixel_uniform, "pixel_uniform"))

    def _encode_checked(self, x):
        return self._encode(_finite(x, "x"))

    def _decode(self, z, pixel_uniform=None):
        return {"mean": self.model.decode_images(z, pixel_uniform)}

    def _sample(self, uniform, normal, pixel_uniform=None):
        return {"images": self.model.generate_images(uniform, normal, pixel_uniform, prior_parameters=self._prior)}

    def example_inputs(self, function: str, n: int, rng: np.random.Generator) -> dict:
        """Random valid inputs {name: float32 array} of `function` for n images."""
        out = {}
        for spec in self.inputs[function]:
            shape = [n] + list(spec.shape[1:])
            normal = spec.name in ("z", "normal")
            out[spec.name] = (rng.standard_normal(shape) if normal else rng.random(shape)).astype(np.float32)
        return out

    def _encode(self, x):
        # q(z | x) (for the HVAE q(z2 | x)): the latent family's parameters, e.g. 'mean', 'log_variance'
        return dict(zip(self.model.family.parameter_names, self.model.encoder(x)))

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
    output_name = {"decode": "mean", "sample": "images"}[function]
    frozen = convert_to_constants.convert_variables_to_constants_v2(fn.get_concrete_function())

    @tf.function(autograph=False, input_signature=fn.input_signature)
    def named(*args):  # freezing flattens the outputs; name them again
        return {output_name: frozen(*args)[0]}

    try:
        with tempfile.TemporaryDirectory() as tmp:  # a variable-free SavedModel keeps the signature's names
            tf.saved_model.save(tf.Module(), tmp, signatures={function: named.get_concrete_function()})
            converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[function])
            if quantize:
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
            return converter.convert()
    except (tf.errors.OpError, OSError) as e:  # the temporary directory's disk is full
        raise files.storage_error(tempfile.gettempdir(), e, resumes=False) from e


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


def describe(module: GenerativeModule, config: Config, checkpoint: str) -> dict:
    """The metadata written to export.json."""
    return {
        "dataset": config.train.dataset, "model": config.model.model, "prior": config.model.prior,
        "likelihood": config.model.likelihood, "num_components": config.model.num_components,
        "latent_dim": module.latent_dim, "latent_width": module.latent_width, "noise_dim": module.noise_dim,
        "image_shape": list(module.image_shape), "source_checkpoint": checkpoint,
        "architecture": config.model.architecture, "autoregressive": module.autoregressive,
        "inputs": {function: {spec.name: [None] + list(spec.shape[1:]) for spec in specs}
                   for function, specs in module.inputs.items()},
        "outputs": {"decode": "mean", "sample": "images", "encode": ["mean", "log_variance"]},
    }
