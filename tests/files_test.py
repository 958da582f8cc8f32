"""Tests of vamp_tf.files."""

import json
import os

import numpy as np
import pytest

from vamp_tf import files


def test_write_json_is_atomic_and_handles_numpy(tmp_path):
    path = str(tmp_path / "r.json")
    files.write_json(path, {"a": np.float32(1.5), "b": np.arange(3)})
    assert json.load(open(path)) == {"a": 1.5, "b": [0, 1, 2]}
    with pytest.raises(TypeError):
        files.write_json(path, {"bad": object()})
    assert json.load(open(path)) == {"a": 1.5, "b": [0, 1, 2]}  # the old file survives a failed write
    assert os.listdir(tmp_path) == ["r.json"]


def test_provenance_names_versions_and_machine():
    p = files.provenance()
    assert {"tensorflow", "keras", "tensorflow_probability", "numpy", "python"} <= set(p["versions"])
    assert p["machine"]["cpu_count"] >= 1
