"""Shared test setup: quiet TensorFlow, the real data directory, a small trained run."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data"


def data_dir() -> str:
    """VAMP_TF_DATA_DIR, else ../shared/data next to the repository."""
    return os.environ.get("VAMP_TF_DATA_DIR") or str(DEFAULT_DATA_DIR)


@pytest.fixture(scope="session")
def real_data_dir():
    path = data_dir()
    if not os.path.exists(os.path.join(path, "mnist.npz")):
        pytest.fail(f"real data not found in {path}: set VAMP_TF_DATA_DIR to the shared data directory")
    return path
