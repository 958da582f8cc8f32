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


def test_results_get_the_usual_permissions_and_respect_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        path = files.write_json(str(tmp_path / "a.json"), {})
        assert os.stat(path).st_mode & 0o777 == 0o644
        os.umask(0o077)
        path = files.write_json(str(tmp_path / "b.json"), {})
        assert os.stat(path).st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)


def test_a_corrupted_json_file_is_named_with_what_to_do(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{\n  "model": {\n    latent_dim: 3\n')
    with pytest.raises(files.DamagedFile, match=f"{path} is damaged .*line 3.*restore it from a copy, or delete it"):
        files.read_json(str(path))


def test_processor_names_the_model_its_numbers_and_widest_matmul_hardware(monkeypatch):
    info = {"model name": "AMD EPYC", "cpu family": "26", "model\t": "2", "flags": "fpu avx2 avx512f avx512_bf16"}
    monkeypatch.setattr(files, "_cpuinfo", lambda key: info.get(key))
    assert files.processor() == "AMD EPYC, family 26 model 2, avx512_bf16"
    info["flags"] = "fpu avx2"
    assert files.processor() == "AMD EPYC, family 26 model 2, avx2"


def test_remove_temporaries_removes_only_what_atomic_write_leaves_before_its_rename(tmp_path):
    files.write_json(str(tmp_path / "kept.json"), {"a": 1})
    (tmp_path / ".tmp-k1ll3d.png").write_bytes(b"")  # a kill -9 between mkstemp and the rename
    (tmp_path / "other.tmp").write_bytes(b"x")
    assert files.remove_temporaries(str(tmp_path)) == [str(tmp_path / ".tmp-k1ll3d.png")]
    assert sorted(os.listdir(tmp_path)) == ["kept.json", "other.tmp"]
    assert files.remove_temporaries(str(tmp_path / "missing")) == []
