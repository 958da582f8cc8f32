"""A run's checkpoints: the loop state, and the 'latest' and 'best' checkpoint managers.

checkpoints/latest holds the model, the optimizer and the LoopState (so a rerun resumes
at the exact step); checkpoints/best holds the best-validation model weights. Checkpoints
are numbered explicitly (latest by global step, best by epoch): the best manager's own
save counter restarts in every resumed process, and a reused name could overwrite, then
delete, the checkpoint already on disk. Under multi-worker training every worker joins
each (collective) save; non-chief workers write to a scratch directory they delete.
"""

from __future__ import annotations

import shutil

import numpy as np
import tensorflow as tf

from vamp_tf import step
from vamp_tf.workdir import RunPaths


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

    def trackables(self) -> dict:
        return dict(vars(self))


class RunCheckpoints:
    """The latest and best checkpoints of a run (see the module docstring)."""

    def __init__(self, run: RunPaths, model, optimizer, state: LoopState, is_chief: bool = True, task_id: int = 0):
        self.is_chief = is_chief
        self.latest = tf.train.Checkpoint(model=model, optimizer=optimizer, **state.trackables())
        self.best = tf.train.Checkpoint(model=model)
        self.latest_manager = tf.train.CheckpointManager(self.latest, run.latest, max_to_keep=2)
        self.best_manager = tf.train.CheckpointManager(self.best, run.best, max_to_keep=1)
        if is_chief:
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
        manager.save(checkpoint_number=number)
        if not self.is_chief:  # non-chief workers join the collective save, then drop their copy
            shutil.rmtree(manager.directory, ignore_errors=True)

    def restore_latest(self):
        """Restores the newest latest checkpoint, if any; returns its path (or None)."""
        path = self.latest_manager.latest_checkpoint
        if path:
            self.latest.restore(path).assert_existing_objects_matched()
        return path

    def restore_best(self):
        """Restores the best weights, if any were saved; returns the path (or None)."""
        path = self.best_manager.latest_checkpoint
        if path:
            self.best.restore(path).expect_partial()
        return path
