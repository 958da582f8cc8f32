"""Shared benchmark helpers: FLOP counts from model shapes, the machine's matmul rate,
peak memory, and writing results into bench/README.md between markers."""

from __future__ import annotations

import os
import platform
import re
import resource
import time

import tensorflow as tf

from vamp_tf import files

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")


def _likelihood_params(model_config) -> int:
    """Per-pixel parameters of the model's likelihood (1 Bernoulli, 2 discretized logistic)."""
    from vamp_tf import distributions  # pylint: disable=import-outside-toplevel
    return len(distributions.get_likelihood(model_config.likelihood).param_names)


def _head_width(model_config) -> int:
    """Outputs of the latent family's head per input feature (Gaussian: 2 x latent_dim, mean and
    log-variance; Power Spherical: latent_dim + 1, direction and concentration)."""
    from vamp_tf import latents  # pylint: disable=import-outside-toplevel
    head = latents.make_family(model_config.posterior).head(model_config.latent_dim, "count")
    head(tf.zeros([1, 1]))
    return sum(int(w.shape[-1]) for w in head.trainable_weights if len(w.shape) == 2)


def dense_macs(model_config, rows: dict) -> int:
    """Multiply-accumulates of every dense layer of a VAE/HVAE for the given row counts.

    rows: {'encoder': n, 'decoder': n, 'prior_pairs': n} where prior_pairs is the number
    of (z, component) pairs of a mixture prior (0 for the standard prior); for the HVAE,
    'images' (default: 'decoder') counts images through q(z1 | x, z2)'s x layer, which runs
    once per image whatever the number of samples.
    GatedDense(in -> h) is one [in, 2h] matmul.
    """
    if model_config.architecture != "dense":
        raise ValueError(f"dense_macs counts dense networks only; for architecture={model_config.architecture!r} "
                         "use conv_macs (or model_macs, which picks).")
    d, h, latent = model_config.input_dim, model_config.hidden_units, model_config.latent_dim
    params, head = _likelihood_params(model_config), _head_width(model_config)
    encoder = d * 2 * h + h * 2 * h + h * head                             # q(z | x) / q(z2 | x)
    if model_config.model == "vae":
        decoder = latent * 2 * h + h * 2 * h + h * d * params
    else:  # HVAE: q(z1 | x, z2) and p(z1 | z2) and p(x | z1, z2), per sample
        q_z1 = latent * 2 * h + 2 * h * 2 * h + h * head  # its x layer (d * 2h) runs once per image
        p_z1 = latent * 2 * h + h * 2 * h + h * head
        p_x = 2 * latent * 2 * h + 2 * h * 2 * h + h * d * params
        decoder = q_z1 + p_z1 + p_x
        decoder_images = d * 2 * h
        return (encoder * rows["encoder"] + decoder_images * rows.get("images", rows["decoder"])
                + decoder * rows["decoder"] + 2 * latent * rows.get("prior_pairs", 0))
    return encoder * rows["encoder"] + decoder * rows["decoder"] + 2 * latent * rows.get("prior_pairs", 0)


def _stack_macs(image_shape, stack) -> tuple[int, int]:
    """(MACs, flattened features) of a convolution stack ((kernel, channels, stride) each, as
    networks.conv.ENCODER_STACK) on one image: 'same' padding, a gated convolution is one
    convolution with 2x the channels."""
    height, width, channels = image_shape
    macs = 0
    for kernel, out, stride in stack:
        height, width = -(-height // stride), -(-width // stride)
        macs += height * width * kernel * kernel * channels * 2 * out
        channels = out
    return macs, height * width * channels


def _conv_decoder_macs(pixels: int, in_channels: int, channels: int, params: int) -> int:
    """The convHVAE decoder's gated convolutions (the first on in_channels maps) and 1x1 head, per image."""
    from vamp_tf.networks import conv  # pylint: disable=import-outside-toplevel
    c = conv.DECODER_CHANNELS
    return pixels * 9 * (in_channels * 2 * c + (conv.DECODER_CONVS - 1) * c * 2 * c) + pixels * c * channels * params


def _pixel_decoder_macs(pixels: int, in_channels: int, channels: int, params: int) -> int:
    """The PixelCNN decoder's masked convolutions (counted whole; the first on the image and the
    in_channels latent maps) and 1x1 head, per image."""
    from vamp_tf.networks import pixelcnn  # pylint: disable=import-outside-toplevel
    c = pixelcnn.PIXEL_CHANNELS
    return (pixels * pixelcnn.KERNEL ** 2 * ((channels + in_channels) * c + (pixelcnn.PIXEL_LAYERS - 1) * c * c)
            + pixels * c * params)


def conv_macs(model_config, rows: dict) -> int:
    """Multiply-accumulates of the convHVAE / PixelHVAE (an architecture with a networks.conv.ConvLayout,
    which gives the shapes; config.Architecture.pixelcnn_decoder says which decoder follows).

    rows: {'encoder': images through q(z2 | x) (pseudo-inputs included), 'images': images
    through q(z1 | x, z2)'s convolution stack (once per image), 'decoder': samples through
    the rest of q(z1 | x, z2), p(z1 | z2) and p(x | z1, z2), 'prior_pairs': (z, component) pairs}.
    Masked convolutions are counted whole (the masked taps are multiplied by zero, not skipped).
    """
    from vamp_tf import config, networks  # pylint: disable=import-outside-toplevel
    from vamp_tf.networks import conv  # pylint: disable=import-outside-toplevel
    layout = networks.hvae_networks(model_config.architecture).conv_layout
    height, width, channels = model_config.input_shape
    pixels, h, latent = height * width, model_config.hidden_units, model_config.latent_dim
    params, head = _likelihood_params(model_config), _head_width(model_config)
    stack, features = _stack_macs(model_config.input_shape, conv.ENCODER_STACK)
    pair_stack, pair_features = _stack_macs(model_config.input_shape, layout.pair_stack)
    second = pair_features if layout.z2_as_wide_as_x else h
    encoder = stack + features * head
    q_z1 = latent * 2 * second + (pair_features + second) * 2 * h + h * head  # second, joint, head (per sample)
    p_z1 = latent * 2 * h + h * 2 * h + h * head
    if layout.joint_decoder:  # z1, z2 -> h each, then one gated layer to an image of `channels` maps
        maps, in_channels = 2 * latent * 2 * h + 2 * h * 2 * pixels * channels, channels
    else:  # z1 and z2 each to an image-sized map (gated dense)
        maps, in_channels = 2 * latent * 2 * pixels, 2
    pixel = config.ARCHITECTURES[model_config.architecture].pixelcnn_decoder
    body = (_pixel_decoder_macs if pixel else _conv_decoder_macs)(pixels, in_channels, channels, params)
    decoder = q_z1 + p_z1 + maps + body
    return (encoder * rows["encoder"] + pair_stack * rows.get("images", rows["decoder"])
            + decoder * rows["decoder"] + 2 * latent * rows.get("prior_pairs", 0))


def relu_mlp_macs(model_config, rows: dict) -> int:
    """dense_macs for the VAE with the S-VAE's ReLU MLPs (networks.architectures, 'relu_mlp')."""
    d, h, latent = model_config.input_dim, model_config.hidden_units, model_config.latent_dim
    params, head = _likelihood_params(model_config), _head_width(model_config)
    encoder = d * 2 * h + 2 * h * h + h * head
    decoder = latent * h + h * 2 * h + 2 * h * d * params
    return encoder * rows["encoder"] + decoder * rows["decoder"] + 2 * latent * rows.get("prior_pairs", 0)


_MACS = {"dense": dense_macs, "relu_mlp": relu_mlp_macs}


def model_macs(model_config, rows: dict) -> int:
    """dense_macs, relu_mlp_macs, or for every convolutional architecture conv_macs, as the model's
    architecture requires (rows: see conv_macs)."""
    return _MACS.get(model_config.architecture, conv_macs)(model_config, rows)


def train_step_flops(model_config, prior, batch: int) -> int:
    """FLOPs of one training step (forward and backward: 3 x the forward pass, 2 FLOPs per
    multiply-accumulate) on `batch` images; a prior with pseudo-inputs sends them through the encoder."""
    pseudo = prior.num_components if prior.has_pseudo_inputs else 0
    return 3 * 2 * model_macs(model_config, {"encoder": batch + pseudo, "images": batch, "decoder": batch,
                                             "prior_pairs": batch * prior.num_components})


def eval_flops(model_config, prior, samples: int) -> int:
    """FLOPs of the importance-sampled log-likelihood of one image with `samples` samples (the
    encoder once per image, the decoder and the prior once per sample)."""
    return 2 * model_macs(model_config, {"encoder": 1, "images": 1, "decoder": samples,
                                         "prior_pairs": samples * prior.num_components})


def matmul_gflops(n: int = 2048, repeats: int = 10, dtype=tf.float32) -> float:
    """This machine's matmul rate (GFLOP/s) on n x n matrices of `dtype`, with TensorFlow."""
    a, b = tf.cast(tf.random.normal([n, n]), dtype), tf.cast(tf.random.normal([n, n]), dtype)
    fn = tf.function(tf.matmul, autograph=False)
    fn(a, b).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        fn(a, b).numpy()
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> str:
    return (f"{files.cpu_model()} ({platform.machine()}, bf16 hardware: {files.bf16_hardware() or 'none'}), "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            f"TF {tf.__version__}, {'GPU' if tf.config.list_physical_devices('GPU') else 'no GPU'}")


def write_section(name: str, command: str, rows: list[tuple[str, str]]) -> None:
    """Replaces (or appends) the section `name` of bench/README.md with a table of rows; where an
    older README holds that section more than once, the first place keeps it and the others go."""
    body = [f"<!-- {name}:begin -->", f"### {name}", "",
            f"`{command}`", "",
            f"commit {files.git_commit()}, {time.strftime('%Y-%m-%d %H:%M %Z')}, {machine()}", "",
            "| measure | value |", "| --- | --- |"]
    body += [f"| {k} | {v} |" for k, v in rows]
    body += [f"<!-- {name}:end -->"]
    text = open(README).read() if os.path.exists(README) else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- {re.escape(name)}:begin -->.*?<!-- {re.escape(name)}:end -->", re.S)
    section = "\n".join(body)
    found = pattern.search(text)
    if found:
        rest = pattern.sub("", text[found.end():])
        text = text[:found.start()] + section + re.sub(r"\n{3,}", "\n\n", rest)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    with open(README, "w") as f:
        f.write(text)
