"""Small file helpers: atomic JSON writes and the provenance recorded with results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from typing import Any, Optional


class DamagedFile(ValueError):
    """A run's file exists but cannot be read (truncated, corrupted)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str, data: Any) -> str:
    """Writes JSON atomically (temporary file + rename): a crash never leaves half a file.
    The file gets the usual permissions (0666 minus the umask; mkstemp alone gives 0600)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True, default=_default)
            f.write("\n")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _default(value):
    import numpy as np  # pylint: disable=import-outside-toplevel
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_json(path: str) -> Optional[Any]:
    """The JSON in `path`, None if there is no such file; DamagedFile naming the file if
    it cannot be parsed."""
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DamagedFile(f"{path} is damaged ({type(e).__name__}: {e}); restore it from a copy, or delete it "
                          "(a run without history.json resumes from its checkpoint with an empty history; "
                          "without config.json or results.json it is treated as a new or unfinished run).") from e


def git_commit(directory: Optional[str] = None) -> Optional[str]:
    """The commit of the vamp_tf checkout (with '-dirty' if modified), or None."""
    directory = directory or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=directory,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _cpuinfo(key: str) -> Optional[str]:
    """The value of the first `key` line of /proc/cpuinfo (Linux), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's model name ('AMD EPYC', ...), or what platform knows of it."""
    return _cpuinfo("model name") or platform.processor() or "unknown CPU"


def cpu_flags() -> set:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere)."""
    return set((_cpuinfo("flags") or "").split())


def bf16_hardware() -> str:
    """The CPU's bfloat16 matmul hardware: 'amx_bf16', 'avx512_bf16', both, or '' (none)."""
    return ", ".join(f for f in ("amx_bf16", "avx512_bf16") if f in cpu_flags())


def provenance() -> dict:
    """Versions, commit and machine, for results.json."""
    import keras  # pylint: disable=import-outside-toplevel
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    import tensorflow_probability as tfp  # pylint: disable=import-outside-toplevel
    return {
        "commit": git_commit(),
        "versions": {"python": sys.version.split()[0], "tensorflow": tf.__version__, "keras": keras.__version__,
                     "tensorflow_probability": tfp.__version__, "numpy": np.__version__},
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpu_count": os.cpu_count(), "cpu_bf16": bf16_hardware() or "none",
                    "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]},
    }
