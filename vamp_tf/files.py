"""Small file helpers: atomic JSON writes and the provenance recorded with results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from typing import Any, Callable, Optional


class DamagedFile(ValueError):
    """A run's file exists but cannot be read (truncated, corrupted)."""


class StorageError(RuntimeError):
    """A file of a run or an export could not be written (a full disk, a directory that
    vanished, storage that turned read-only); nothing half-written was left in its place."""


def storage_error(path: str, error: BaseException, resumes: bool = True) -> StorageError:
    """The one-line StorageError for a failed write of `path` (an OSError or a TensorFlow error)."""
    reason = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
    reason = " ".join(str(reason).split())
    for known in ("No space left on device", "Disk quota exceeded", "Read-only file system",
                  "No such file or directory", "Permission denied"):
        if known.lower() in reason.lower():
            reason = known
            break
    else:
        reason = reason[:200]
    then = ("then rerun the same command: the run resumes from its newest intact checkpoint" if resumes
            else "then run the command again")
    fix = ("Make it writable" if reason in ("Read-only file system", "Permission denied") else
           "Restore the directory" if reason == "No such file or directory" else "Free space there")
    return StorageError(f"cannot write {path}: {reason}. {fix} (or pass a directory on another disk), {then}.")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


TEMPORARY_PREFIX = ".tmp-"  # atomic_write's file before its rename


def atomic_write(path: str, write: Callable[[Any], None], suffix: str = "") -> str:
    """Calls write(f) on a binary file opened beside `path`, flushes it to disk, then renames it
    to `path`: a crash or a full disk never leaves half a file under the final name. The file
    gets the usual permissions (0666 minus the umask; mkstemp alone gives 0600). OSError ->
    StorageError naming `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX, suffix=suffix)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as e:
        raise storage_error(path, e) from e
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
    return path


def remove_temporaries(directory: str) -> list[str]:
    """Removes the files atomic_write left in `directory` when a kill (-9) stopped it before its rename;
    returns their paths. Only for a directory no other process is writing into."""
    if not os.path.isdir(directory):
        return []
    left = [os.path.join(directory, n) for n in os.listdir(directory) if n.startswith(TEMPORARY_PREFIX)]
    for path in left:
        os.remove(path)
    return left


def write_json(path: str, data: Any) -> str:
    """Writes JSON atomically (atomic_write); a failed write (full disk, ...) raises StorageError
    naming the file."""
    text = json.dumps(data, indent=2, sort_keys=True, default=_default) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()), suffix=".json")


def write_npy(path: str, array) -> str:
    """np.save, atomically (atomic_write)."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    return atomic_write(path, lambda f: np.save(f, array), suffix=".npy")


def write_bytes(path: str, data: bytes) -> str:
    """Writes bytes atomically (atomic_write)."""
    return atomic_write(path, lambda f: f.write(data))


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


def processor() -> str:
    """The processor that computes, in one line of what decides its arithmetic: model name, family and
    model numbers, and its widest matmul hardware ('AMD EPYC, family 26 model 2, avx512_bf16'). Two runs
    on processors that differ in this line can round differently, so a run resumed on another one is not
    bit-identical to an uninterrupted run (the record says so: tools/records.py)."""
    flags = cpu_flags()
    widest = next((f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in flags), "no avx2")
    family, model = _cpuinfo("cpu family"), _cpuinfo("model\t") or _cpuinfo("model ")
    numbers = f", family {family} model {model}" if family and model else ""
    return f"{cpu_model()}{numbers}, {widest}"


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
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpu": processor(),
                    "cpu_count": os.cpu_count(), "cpu_bf16": bf16_hardware() or "none",
                    "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]},
    }
