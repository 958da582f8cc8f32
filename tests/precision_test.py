"""Tests of vamp_tf.precision: --precision=auto chooses what the hardware computes; emulated half precision warns."""

import logging

import pytest

from vamp_tf import config, files, precision


@pytest.mark.parametrize("hardware, gpu, chosen", [
    ("", False, "float32"),                    # an AMD EPYC with AVX2 only: bf16 would be emulated
    ("avx512_bf16", False, "mixed_bfloat16"),  # an AMD EPYC with avx512_bf16
    ("amx_bf16, avx512_bf16", False, "mixed_bfloat16"),  # an Intel Xeon with AMX
    ("", True, "mixed_bfloat16"),              # a GPU
])
def test_auto_is_bfloat16_only_where_the_hardware_computes_it(hardware, gpu, chosen):
    assert precision.resolve("auto", hardware, gpu) == chosen
    for concrete in ("float32", "mixed_bfloat16", "mixed_float16"):  # asked for by name: kept
        assert precision.resolve(concrete, hardware, gpu) == concrete


def test_resolve_config_names_the_choice_on_this_machine(caplog):
    cfg = config.Config(config.ModelConfig(), config.TrainConfig(precision="auto"))
    with caplog.at_level(logging.INFO, logger="vamp_tf"):
        resolved = precision.resolve_config(cfg)
    with open("/proc/cpuinfo") as f:  # read here, not through the code under test
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    want = "mixed_bfloat16" if {"avx512_bf16", "amx_bf16"} & set(flags) else "float32"  # this machine has no GPU
    assert resolved.train.precision == want and resolved.model == cfg.model
    assert f"--precision=auto: training in {want}" in caplog.text
    fixed = config.Config(config.ModelConfig(), config.TrainConfig(precision="float32"))
    assert precision.resolve_config(fixed) is fixed


@pytest.mark.parametrize("asked, hardware, gpu, warned", [
    ("mixed_bfloat16", "", False, "--precision=auto"),
    ("mixed_bfloat16", "avx512_bf16", False, None),
    ("mixed_bfloat16", "amx_bf16", False, None),
    ("mixed_bfloat16", "", True, None),
    ("mixed_float16", "avx512_bf16", False, "without a GPU"),
    ("mixed_float16", "", True, None),
    ("float32", "", False, None),
    ("auto", "", False, None),
])
def test_precision_warning_names_emulated_half_precision_and_the_fix(asked, hardware, gpu, warned):
    message = precision.warning(asked, hardware, gpu)
    if warned is None:
        assert message is None
    else:
        assert warned in message and "emulated" in message
