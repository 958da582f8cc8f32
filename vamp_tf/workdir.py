"""A run's folder: its paths, preparing it, reading what it holds, restoring its model.

Layout of a workdir:
  config.json          the Config (written when training starts)
  history.json         one entry per epoch
  results.json         the final evaluation (written at the end)
  test_log_likelihoods.npy   each test image's log-likelihood
  checkpoints/latest/  model, optimizer and loop state (for resuming)
  checkpoints/best/    the best-validation model weights (evaluated, exported)
  figures/*.png, tensorboard/
  .lock                held (fcntl.flock) by the one trainer writing into the run (RunLock)

Everything that reads or writes a run's files (the trainer, export, the repository's
tools and benchmarks) goes through this module.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import logging
import os
import shutil
import socket
import sys
import time
from typing import Optional

from vamp_tf import files
from vamp_tf.config import Config

log = logging.getLogger("vamp_tf")

RUN_FILES = ("config.json", "history.json", "results.json", "checkpoints", "figures", "tensorboard",
             "test_log_likelihoods.npy", "test_log_likelihoods.partial.npz")


class WorkdirConflict(ValueError):
    """The workdir holds a run with another configuration, or cannot hold a run."""


class WorkdirLocked(WorkdirConflict):
    """Another live process is training the run in this workdir."""


class RunNotFound(ValueError):
    """The directory holds no (finished, or restorable) run."""


@dataclasses.dataclass(frozen=True)
class RunPaths:
    """The files of the run in `workdir`."""

    workdir: str

    def _join(self, *parts):
        return os.path.join(self.workdir, *parts)

    @property
    def config(self):
        return self._join("config.json")

    @property
    def history(self):
        return self._join("history.json")

    @property
    def results(self):
        return self._join("results.json")

    @property
    def log_likelihoods(self):
        return self._join("test_log_likelihoods.npy")

    @property
    def partial_log_likelihoods(self):
        """The test images scored so far, while the test log-likelihood is being computed."""
        return self._join("test_log_likelihoods.partial.npz")

    @property
    def checkpoints(self):
        return self._join("checkpoints")

    @property
    def latest(self):
        return self._join("checkpoints", "latest")

    @property
    def best(self):
        return self._join("checkpoints", "best")

    @property
    def figures(self):
        return self._join("figures")

    @property
    def tensorboard(self):
        return self._join("tensorboard")

    def worker_checkpoints(self, task_id: int, which: str) -> str:
        """Where a non-chief worker writes (then deletes) its copy of a collective save."""
        return self._join("checkpoints", f"worker_{task_id}" + ("" if which == "latest" else f"_{which}"))


def paths(workdir: str) -> RunPaths:
    return RunPaths(os.path.abspath(workdir))


def read_config(workdir: str) -> Optional[Config]:
    """The Config of the run in workdir, or None if it has none."""
    stored = files.read_json(paths(workdir).config)
    return None if stored is None else Config.from_dict(stored)


def read_results(workdir: str) -> Optional[dict]:
    """results.json of the run in workdir, or None before its evaluation."""
    return files.read_json(paths(workdir).results)


def read_history(workdir: str) -> list:
    """history.json of the run in workdir ([] before its first epoch)."""
    return files.read_json(paths(workdir).history) or []


def finished_results(config: Config, workdir: str) -> Optional[dict]:
    """results.json if the workdir holds this exact run, finished and evaluated; else None."""
    existing = read_results(workdir)
    if existing is not None and existing.get("complete") and not config.differences(
            Config.from_dict(existing["config"]), ignore=frozenset()):
        return existing
    return None


def delete_run(workdir: str) -> None:
    """Deletes the run's own files (RUN_FILES), nothing else in the directory."""
    for name in RUN_FILES:
        path = os.path.join(workdir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def prepare(config: Config, workdir: str, overwrite: bool = False) -> RunPaths:
    """Creates the workdir, or checks that the run in it has the same configuration.

    Only fields in config.RESUMABLE_FIELDS (epochs, eval settings, data_dir, strategy) may
    differ; otherwise WorkdirConflict. overwrite=True deletes the run's files first.
    """
    run = paths(workdir)
    _check_workdir_path(run.workdir)
    stored = read_config(run.workdir)
    if stored is not None:
        differences = config.differences(stored)
        if differences and not overwrite:
            raise WorkdirConflict(
                f"{run.workdir} holds a run with another configuration ({'; '.join(differences)}): "
                f"use another --workdir (for example --workdir={run.workdir}_2), or pass --overwrite to delete "
                "that run and start over.")
    try:
        if overwrite:
            log.warning("--overwrite: deleting any run in %s", run.workdir)
            delete_run(run.workdir)
        os.makedirs(run.workdir, exist_ok=True)
        files.write_json(run.config, config.to_dict())
    except OSError as e:
        raise _cannot_write(run.workdir, e) from e
    except files.StorageError as e:
        raise WorkdirConflict(f"cannot write the run into {run.workdir}: {e}") from e
    return run


class RunLock:
    """Exclusive use of a workdir by one trainer, for as long as the `with` block runs.

    An fcntl.flock on <workdir>/.lock, which also holds the holder's pid, host, start time and
    command. A second trainer on the same workdir raises WorkdirLocked naming the holder. The
    kernel drops the lock when its process dies however it dies (kill -9 included), so a lock
    file left by a dead process is taken over, with a warning, never a reason to stop. The file
    is emptied, not deleted, on release (deleting it would let two processes lock two different
    files of the same name). Reading, evaluating or exporting a run takes no lock.

    On NFS, Linux turns flock into POSIX locks that the server arbitrates across machines, and a
    lost machine's lock ends with its lease (about 90 s); a file system without locks (ENOLCK,
    some FUSE mounts) gets a warning and no protection.
    """

    NAME = ".lock"

    def __init__(self, workdir: str):
        self.workdir = os.path.abspath(workdir)
        self.path = os.path.join(self.workdir, self.NAME)
        self._fd = None

    def __enter__(self) -> "RunLock":
        _check_workdir_path(self.workdir)
        try:
            os.makedirs(self.workdir, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise _cannot_write(self.workdir, e) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = _read_holder(fd)
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise WorkdirLocked(
                    f"{self.workdir} is in use: process {holder.get('pid', '?')} on {holder.get('host', '?')} has been "
                    f"training it since {holder.get('started', '?')} ({holder.get('command', '?')}). Wait for it to "
                    f"finish or stop it (kill {holder.get('pid', 'PID')}), or pass another --workdir.") from None
            log.warning("%s: file locks are not supported here (%s); nothing stops a second trainer on this workdir",
                        self.workdir, e.strerror or e)
            return self
        self._fd = fd
        previous = _read_holder(fd)
        if previous:
            log.warning("taking over %s from process %s on %s, which no longer runs (killed or crashed); the run "
                        "resumes from its newest intact checkpoint", self.workdir, previous.get("pid", "?"),
                        previous.get("host", "?"))
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                  "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:300]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)  # a clean release: the next holder has nothing to take over
            except OSError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}


def _check_workdir_path(workdir: str) -> None:
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise WorkdirConflict(f"--workdir={workdir} is a file; pass a directory (it is created if missing).")
    parent = _existing_ancestor(workdir)
    if not os.path.isdir(parent):
        raise WorkdirConflict(f"--workdir={workdir} cannot be created: {parent} is a file, not a directory; "
                              "pass a --workdir under a directory.")


def _cannot_write(workdir: str, e: OSError) -> WorkdirConflict:
    return WorkdirConflict(f"cannot write the run into {workdir}: {e.strerror or e}; pass a writable "
                           "--workdir (a finished run can still be read, exported and evaluated from where it is).")


def _existing_ancestor(path: str) -> str:
    """The longest prefix of `path` that exists (it may be a file)."""
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path
