"""Which numeric precision a run trains in (TrainConfig.precision), and what a choice costs here.

'auto' (the convolutional flagfiles' choice) is mixed_bfloat16 where the hardware computes bfloat16
(a GPU, or a CPU with avx512_bf16 or amx_bf16 in lscpu's flags) and float32 where bfloat16 would be
emulated; the trainer resolves it once at the start (resolve_config), so the run's config.json,
log and results.json name the precision it trained in.
"""

from __future__ import annotations

import dataclasses
import logging

log = logging.getLogger("vamp_tf")


def resolve(precision: str, bf16_hardware: str, has_gpu: bool) -> str:
    """The concrete precision of `precision`: itself, or for 'auto' mixed_bfloat16 on a GPU or on a CPU
    with bfloat16 hardware (bf16_hardware non-empty: files.bf16_hardware()), float32 otherwise."""
    if precision != "auto":
        return precision
    return "mixed_bfloat16" if has_gpu or bf16_hardware else "float32"


def resolve_config(config):
    """config with train.precision resolved on this machine (unchanged unless it is 'auto'); logs the choice."""
    if config.train.precision != "auto":
        return config
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from vamp_tf import files  # pylint: disable=import-outside-toplevel
    hardware, gpus = files.bf16_hardware(), tf.config.list_physical_devices("GPU")
    chosen = resolve("auto", hardware, bool(gpus))
    why = ("a GPU" if gpus else f"this CPU's {hardware}") if chosen != "float32" else \
        "no GPU and no bfloat16 hardware on this CPU (lscpu: no avx512_bf16 or amx_bf16), where bfloat16 is emulated"
    log.info("--precision=auto: training in %s (%s)", chosen, why)
    return dataclasses.replace(config, train=dataclasses.replace(config.train, precision=chosen))


def warning(precision: str, bf16_hardware: str, has_gpu: bool) -> str | None:
    """What a reduced training precision costs on hardware that lacks it, or None.

    Emulated half precision is correct but slow: on an AMD EPYC with AVX2 only (2026-11-30), one
    training step of the Frey Faces PixelHVAE took 28.3 s in mixed_bfloat16 against 2.61 s in
    float32 (bench.train_throughput, BUILD.md). A run is not refused for it: the flag may be meant
    for another machine.
    """
    if has_gpu or precision in ("float32", "auto"):
        return None
    if precision == "mixed_bfloat16" and not bf16_hardware:
        return ("--precision=mixed_bfloat16 on a CPU without bfloat16 hardware (no avx512_bf16 or amx_bf16 in "
                "lscpu's flags): bfloat16 is emulated, so training is slower than float32 (about 11x for the "
                "PixelHVAE, BUILD.md); pass --precision=auto (or float32) on this machine.")
    if precision == "mixed_float16":
        return ("--precision=mixed_float16 without a GPU: it is meant for GPUs (BUILD.md; not timed on a CPU), "
                "and a CPU without float16 hardware runs it emulated; pass --precision=auto here (float32, or "
                "mixed_bfloat16 on a CPU with avx512_bf16 or amx_bf16).")
    return None
