"""A run's checkpoints: the loop state, and the 'latest' and 'best' checkpoint managers.

checkpoints/latest holds the model, the optimizer and the LoopState (so a rerun resumes
at the exact step); checkpoints/best holds the best-validation model weights. Checkpoints
are numbered explicitly (latest by global step, best by epoch): the best manager's own
save counter restarts in every resumed process, and a reused name could overwrite, then
delete, the checkpoint already on disk. Under multi-worker training every worker joins
each (collective) save; non-chief workers write to a scratch directory they delete.

A save writes the checkpoint's files first and points the manager's state file at it
last (TensorFlow writes that file atomically), so a crash during a save leaves the state
pointing at the previous checkpoint. A checkpoint damaged later (a truncated file, a full
disk) is moved aside into <directory>/damaged/ and the newest one that restores is used,
with a warning; if none restores, CheckpointDamaged says so.

A save that fails (a full disk, a directory that vanished) removes what it had written
(TensorFlow's '<prefix>_temp' shards and any files of that prefix) and raises
files.StorageError naming the checkpoint; one killed mid-save leaves such files behind,
and they are removed when the run's checkpoints are opened again.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import os
import shutil
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from vamp_tf import files, step
from vamp_tf import workdir as run_workdir
from vamp_tf.models import build_model
from vamp_tf.workdir import RunPaths

log = logging.getLogger("vamp_tf")


class CheckpointDamaged(RuntimeError):
    """No checkpoint of a directory can be restored."""


def _move_aside(path: str) -> str:
    """Moves the files of checkpoint `path` (prefix) into <its directory>/damaged/."""
    directory = os.path.join(os.path.dirname(path), "damaged")
    os.makedirs(directory, exist_ok=True)
    for name in glob.glob(glob.escape(path) + ".*"):
        shutil.move(name, os.path.join(directory, os.path.basename(name)))
    return directory


def remove_partial_saves(directory: str, keep: Optional[list] = None) -> list[str]:
    """Removes what unfinished saves left in `directory`: TensorFlow's '*_temp' shard
    directories, its state file's temporary twin ('checkpoint.tmp<hex>', written then renamed), and
    the files of checkpoints the state file does not list (`keep`: the
    listed prefixes; default: read from the state file). Returns the paths removed."""
    if not os.path.isdir(directory):
        return []
    if keep is None:
        try:
            state = tf.train.get_checkpoint_state(directory)
        except tf.errors.OpError:
            state = None
        # Without a readable state file nothing tells a partial checkpoint from a whole one: keep them all.
        keep = list(state.all_model_checkpoint_paths) + [state.model_checkpoint_path] if state else None
    kept = None if keep is None else {os.path.basename(p) for p in keep}
    removed = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        prefix = name.split(".")[0]
        partial = "_temp" in name or name.startswith("checkpoint.tmp") or (
            kept is not None and prefix.startswith("ckpt-") and (name.endswith(".index") or ".data-" in name)
            and prefix not in kept)
        if partial:
            shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else os.remove(path)
            removed.append(path)
    return removed


class ModelCheckpoint(tf.train.Checkpoint):
    """tf.train.Checkpoint(model=model, **others) that also restores files written when the
    model's layers had other names: a model's `legacy_checkpoint_children()` gives its layers
    under the names of that older layout (the dense HVAE's decoder was p_x_body and p_x_head
    before it was p_x). Saves always use the current names."""

    def __init__(self, model, **others):
        super().__init__(model=model, **others)
        legacy = model.legacy_checkpoint_children()
        # Kept out of the checkpoint's tracked graph (a closure and a tuple of strings).
        self._legacy_view = (lambda: tf.train.Checkpoint(model=tf.train.Checkpoint(**legacy), **others)) \
            if legacy else None
        self._legacy_prefixes = tuple(f"model/{name}/" for name in legacy if not hasattr(model, name))

    def for_file(self, path: str) -> tf.train.Checkpoint:
        """The object that reads the checkpoint at `path`: self, or the model's older layout."""
        if self._legacy_view is None:
            return self
        names = (name for name, _ in tf.train.list_variables(path))
        return self._legacy_view() if any(n.startswith(self._legacy_prefixes) for n in names) else self


def restore_newest(checkpoint: tf.train.Checkpoint, directory: str,
                   check: Callable = lambda status: status.expect_partial()) -> Optional[str]:
    """Restores the newest checkpoint of `directory` that can be read; returns its path
    (None if the directory holds none). Damaged ones are moved aside (module docstring).
    A ModelCheckpoint also reads files written under a model's older layer names."""
    directory = os.path.abspath(directory)  # the state file's relative entries are joined to it below
    state = tf.train.get_checkpoint_state(directory)
    if state is None or not state.model_checkpoint_path:
        return None
    candidates = list(dict.fromkeys(reversed([*state.all_model_checkpoint_paths, state.model_checkpoint_path])))
    candidates = [p if os.path.isabs(p) else os.path.join(directory, p) for p in candidates]
    for i, path in enumerate(candidates):
        try:
            target = checkpoint.for_file(path) if isinstance(checkpoint, ModelCheckpoint) else checkpoint
            check(target.restore(path))
        except Exception as e:  # pylint: disable=broad-except  (any unreadable file: try the previous one)
            aside = _move_aside(path)
            log.warning("checkpoint %s cannot be restored (%s: %s); moved its files to %s", path, type(e).__name__,
                        str(e).splitlines()[0][:200] if str(e) else "", aside)
            continue
        if i:
            remaining = candidates[i:][::-1]
            from tensorflow.python.checkpoint import checkpoint_management  # pylint: disable=import-outside-toplevel
            checkpoint_management.update_checkpoint_state_internal(  # written atomically, as the manager does
                directory, path, all_model_checkpoint_paths=remaining, save_relative_paths=True)
            log.warning("using %s, the newest checkpoint of %s that restores", path, directory)
        return path
    raise CheckpointDamaged(f"no checkpoint in {directory} can be restored (the damaged files are in "
                            f"{os.path.join(directory, 'damaged')}); rerun with --overwrite to start the run over.")


class LoopState:
    """The loop's position and early-stopping state, saved in every latest checkpoint."""

    def __init__(self):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)          # completed epochs
        self.step_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)  # steps of the next one
        # Sums of step.TRAIN_TERMS over the steps done in the current epoch, then the image count.
        self.epoch_sums = tf.Variable(tf.zeros([len(step.TRAIN_TERMS) + 1], tf.float64), trainable=False)
        self.best_validation = tf.Variable(np.inf, dtype=tf.float64, trainable=False)
        self.best_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.epochs_without_improvement = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.stopped_early = tf.Variable(False, trainable=False)  # final; the epoch limit is not
        self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        # The run's first step's -ELBO (the untrained model's), a yardstick for divergence; 0 = not yet.
        self.first_neg_elbo = tf.Variable(0.0, dtype=tf.float64, trainable=False)

    def trackables(self) -> dict:
        return dict(vars(self))


class RunCheckpoints:
    """The latest and best checkpoints of a run (see the module docstring)."""

    def __init__(self, run: RunPaths, model, optimizer, state: LoopState, is_chief: bool = True, task_id: int = 0):
        self.is_chief, self.run, self.task_id = is_chief, run, task_id
        self.latest = ModelCheckpoint(model, optimizer=optimizer, **state.trackables())
        self.best = ModelCheckpoint(model)
        self._make_managers()

    def _make_managers(self):
        run, task_id = self.run, self.task_id
        if self.is_chief:
            for directory in (run.latest, run.best):
                for path in remove_partial_saves(directory):
                    log.warning("removed %s, left by a save that did not finish", path)
        self.latest_manager = tf.train.CheckpointManager(self.latest, run.latest, max_to_keep=2)
        self.best_manager = tf.train.CheckpointManager(self.best, run.best, max_to_keep=1)
        if self.is_chief:
            self._write = {"latest": self.latest_manager, "best": self.best_manager}
        else:
            self._write = {"latest": tf.train.CheckpointManager(self.latest, run.worker_checkpoints(task_id, "latest"), 1),
                           "best": tf.train.CheckpointManager(self.best, run.worker_checkpoints(task_id, "best"), 1)}

    def save_latest(self, global_step: int) -> None:
        self._save("latest", global_step)

    def save_best(self, epoch: int) -> None:
        self._save("best", epoch)

    def _save(self, which: str, number: int) -> None:
        manager = self._write[which]
        try:
            manager.save(checkpoint_number=number)
        except (tf.errors.OpError, OSError) as e:  # a full disk, a vanished directory, read-only storage
            try:
                remove_partial_saves(manager.directory, manager.checkpoints)
            except OSError:
                pass  # the directory itself may be gone
            raise files.storage_error(os.path.join(manager.directory, f"ckpt-{number}"), e) from e
        if not self.is_chief:  # non-chief workers join the collective save, then drop their copy
            shutil.rmtree(manager.directory, ignore_errors=True)

    def restore_latest(self):
        """Restores the newest readable latest checkpoint, if any; returns its path (or None)."""
        path = restore_newest(self.latest, self.run.latest, lambda status: status.assert_existing_objects_matched())
        self._make_managers()  # a fallback rewrote the state file
        return path

    def restore_best(self):
        """Restores the best weights, if any were saved; returns the path (or None)."""
        path = restore_newest(self.best, self.run.best)
        self._make_managers()
        return path


def checkpoint_directory(workdir: str, which: str = "best") -> str:
    """checkpoints/<which> of the run if it holds a checkpoint ('best' falls back to
    'latest'). Raises RunNotFound if there is none."""
    run = run_workdir.paths(workdir)
    candidates = (run.best, run.latest) if which == "best" else (run.latest,)
    for directory in candidates:
        if tf.train.latest_checkpoint(directory):
            return directory
    raise run_workdir.RunNotFound(f"no checkpoint in {run.checkpoints}: train the run first "
                                  f"(python -m trainers.main ... --workdir={workdir}).")


def restore_model(workdir: str, which: str = "best", **model_changes):
    """The model of the run in workdir with the weights of its best (or latest) checkpoint.

    model_changes: ModelConfig fields to build the model with instead of the run's, for
      fields that add no weight (e.g. probability_clamp=1e-5: the same weights, scored
      under the reference's clamp; tools/rescore.py).
    Returns (model, config, checkpoint path); config is the run's own. Raises
    workdir.RunNotFound if the workdir holds no run or no checkpoint, CheckpointDamaged if
    none of its checkpoints restores.
    """
    config = run_workdir.read_config(workdir)
    if config is None:
        raise run_workdir.RunNotFound(f"{workdir} holds no training run (no config.json): pass the --workdir of a run.")
    directory = checkpoint_directory(workdir, which)
    model = build_model(dataclasses.replace(config.model, **model_changes), seed=config.train.seed)
    path = restore_newest(ModelCheckpoint(model), directory,
                          lambda status: status.expect_partial().assert_existing_objects_matched())
    return model, config, path
