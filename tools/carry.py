r"""Carries a long run from one machine to the next through the repository.

    python -m tools.carry save RUNS_ROOT NAME [NAME ...]      workdir -> experiments/in_progress/NAME/
    python -m tools.carry restore RUNS_ROOT NAME [NAME ...]   experiments/in_progress/NAME/ -> workdir
    python -m tools.carry drop NAME [NAME ...]                once the run is recorded

A run by the paper's protocol takes longer than a sitting of this machine, and a machine can be
handed over empty: four runs in progress were lost that way. `save` copies what a resume needs,
and nothing else, into experiments/in_progress/NAME/: config.json, history.json, the newest
latest checkpoint (model, optimizer, loop state) and the best checkpoint its loop state names
(the weights the run is evaluated with). Commit that folder; on a new machine `restore` puts it
back into RUNS_ROOT/NAME and the trainer's usual command resumes at the exact step. Figures and
TensorBoard files are not carried (a resumed run writes new ones).

Cost, per save of a run: the dense VAE on MNIST 24 MB (18 + 6), the dense HVAE 45 MB (34 + 11);
git's compression gains little on float weights. The history keeps every version committed, so
save at the end of a sitting (not every epoch), and `drop` when the run is recorded.

A trainer writing into the workdir is paused (SIGSTOP, then SIGCONT) while its files are copied,
and the copy is taken only when its latest and best checkpoints agree (the best checkpoint is the
one the latest's loop state names); otherwise it waits for the trainer's next save. A run resumed
on another processor is not bit-identical to an uninterrupted one: its history names each epoch's
processor and its record says so (tools/records.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from typing import Optional

from vamp_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()

import tensorflow as tf  # noqa: E402

from tools import records  # noqa: E402
from vamp_tf import files  # noqa: E402
from vamp_tf import workdir as run_workdir  # noqa: E402

IN_PROGRESS = os.path.join(records.EXPERIMENTS, "in_progress")


class CarryError(ValueError):
    """A run cannot be carried (not a run, nothing carried, a newer state at the target)."""


def _newest(directory: str) -> Optional[str]:
    return tf.train.latest_checkpoint(directory) if os.path.isdir(directory) else None


def _loop_state(path: str) -> dict:
    reader = tf.train.load_checkpoint(path)
    value = lambda name: int(reader.get_tensor(f"{name}/.ATTRIBUTES/VARIABLE_VALUE"))  # noqa: E731
    return {"epoch": value("epoch"), "step_in_epoch": value("step_in_epoch"), "best_epoch": value("best_epoch"),
            "global_step": int(os.path.basename(path).split("-")[1])}


def _copy_checkpoint(path: str, target_dir: str) -> int:
    """Copies checkpoint `path` (prefix) into target_dir with a state file naming only it; returns bytes."""
    os.makedirs(target_dir, exist_ok=True)
    copied = 0
    for name in sorted(os.listdir(os.path.dirname(path))):
        if name.startswith(os.path.basename(path) + "."):
            shutil.copyfile(os.path.join(os.path.dirname(path), name), os.path.join(target_dir, name))
            copied += os.path.getsize(os.path.join(target_dir, name))
    prefix = os.path.basename(path)
    with open(os.path.join(target_dir, "checkpoint"), "w") as f:
        f.write(f'model_checkpoint_path: "{prefix}"\nall_model_checkpoint_paths: "{prefix}"\n')
    return copied


class _Paused:
    """SIGSTOP the live trainer holding the workdir's lock (if any) for the `with` block."""

    def __init__(self, workdir: str):
        self.pid = None
        try:
            with open(os.path.join(workdir, run_workdir.RunLock.NAME)) as f:
                pid = int(json.loads(f.read() or "{}").get("pid", 0))
            if pid and pid != os.getpid():
                os.kill(pid, 0)
                self.pid = pid
        except (OSError, ValueError):
            self.pid = None

    def __enter__(self):
        if self.pid:
            os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        if self.pid:
            os.kill(self.pid, signal.SIGCONT)


def save(workdir: str, name: str, in_progress: str = IN_PROGRESS, attempts: int = 60) -> dict:
    """Copies the resume state of the run in `workdir` into in_progress/NAME (replacing an older copy);
    returns its carry.json."""
    run = run_workdir.paths(workdir)
    if run_workdir.read_config(workdir) is None:
        raise CarryError(f"{workdir} holds no run (no config.json): give RUNS_ROOT and the run's name.")
    if run_workdir.read_results(workdir):
        raise CarryError(f"{workdir} is finished: record it (python -m tools.record) instead of carrying it.")
    for _ in range(attempts):
        with _Paused(workdir):
            latest = _newest(run.latest)
            if latest is None:
                raise CarryError(f"{workdir} has no checkpoint yet: let it train an epoch first.")
            state = _loop_state(latest)
            best = _newest(run.best)
            best_ok = state["best_epoch"] == 0 or (best is not None and best.endswith(f"ckpt-{state['best_epoch']}"))
            if best_ok:
                target = os.path.join(in_progress, name)
                stage = target + ".partial"
                shutil.rmtree(stage, ignore_errors=True)
                sizes = {"latest": _copy_checkpoint(latest, os.path.join(stage, "checkpoints", "latest"))}
                if state["best_epoch"]:
                    sizes["best"] = _copy_checkpoint(best, os.path.join(stage, "checkpoints", "best"))
                shutil.copyfile(run.config, os.path.join(stage, "config.json"))
                history = [h for h in run_workdir.read_history(workdir) if h["epoch"] <= state["epoch"]]
                files.write_json(os.path.join(stage, "history.json"), history)
                break
        time.sleep(2.0)  # caught between the best and the latest save of an epoch: wait for the latest
    else:
        raise CarryError(f"{workdir}: its latest and best checkpoints never agreed in {attempts} tries; is the "
                         "trainer writing both at once? Stop it (SIGTERM) and save again.")
    last = history[-1] if history else {}
    meta = {"name": name, **state, "saved": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "trained_by": {"commit": last.get("commit"), "processor": last.get("processor")},
            "saved_by_commit": files.git_commit(), "bytes": sizes,
            "resume": f"python -m tools.carry restore RUNS_ROOT {name}, then the trainer's command with "
                      f"--workdir=RUNS_ROOT/{name}"}
    files.write_json(os.path.join(stage, "carry.json"), meta)
    old = target + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(target):
        os.rename(target, old)
    os.rename(stage, target)
    shutil.rmtree(old, ignore_errors=True)
    return meta


def restore(workdir: str, name: str, in_progress: str = IN_PROGRESS) -> dict:
    """Puts in_progress/NAME back into `workdir`, unless the workdir already holds as much or more of the run."""
    source = os.path.join(in_progress, name)
    meta = files.read_json(os.path.join(source, "carry.json"))
    if meta is None:
        raise CarryError(f"nothing carried under the name {name!r} (no {source}/carry.json); "
                         f"carried runs: {', '.join(carried(in_progress)) or 'none'}.")
    run = run_workdir.paths(workdir)
    here = _newest(run.latest)
    if here is not None:
        stored, carried_config = run_workdir.read_config(workdir), run_workdir.read_config(source)
        differences = stored.differences(carried_config) if stored is not None else ["no config.json"]
        if differences:
            raise CarryError(f"{workdir} holds another run ({'; '.join(differences)}); restore into another workdir.")
        if _loop_state(here)["global_step"] >= meta["global_step"]:
            raise CarryError(f"{workdir} is already at step {_loop_state(here)['global_step']}, at or past the "
                             f"carried step {meta['global_step']}: nothing to restore; resume it as it is.")
    for part in ("latest", "best"):
        shutil.rmtree(os.path.join(run.checkpoints, part), ignore_errors=True)
        if os.path.isdir(os.path.join(source, "checkpoints", part)):
            shutil.copytree(os.path.join(source, "checkpoints", part), os.path.join(run.checkpoints, part))
    for name_ in ("config.json", "history.json"):
        shutil.copyfile(os.path.join(source, name_), os.path.join(run.workdir, name_))
    return meta


def drop(name: str, in_progress: str = IN_PROGRESS) -> None:
    path = os.path.join(in_progress, name)
    if not os.path.isdir(path):
        raise CarryError(f"nothing carried under the name {name!r}.")
    shutil.rmtree(path)


def carried(in_progress: str = IN_PROGRESS) -> list[str]:
    """The names of the runs carried in the repository."""
    if not os.path.isdir(in_progress):
        return []
    return sorted(n for n in os.listdir(in_progress) if os.path.isfile(os.path.join(in_progress, n, "carry.json")))


def main(argv: list[str]) -> int:
    usage = __doc__.strip().splitlines()[2:5]
    if len(argv) < 2 or argv[0] not in ("save", "restore", "drop") or (argv[0] != "drop" and len(argv) < 3):
        print("usage:\n" + "\n".join(usage), file=sys.stderr)
        return 2
    try:
        if argv[0] == "drop":
            for name in argv[1:]:
                drop(name)
                print(f"dropped experiments/in_progress/{name}")
            return 0
        root = argv[1]
        for name in argv[2:]:
            workdir = os.path.join(root, name)
            if argv[0] == "save":
                meta = save(workdir, name)
                print(f"saved {name} at epoch {meta['epoch']} (step {meta['global_step']}, best epoch "
                      f"{meta['best_epoch']}): " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in meta["bytes"].items())
                      + f" in experiments/in_progress/{name}; commit it")
            else:
                meta = restore(workdir, name)
                print(f"restored {name} into {workdir} at epoch {meta['epoch']} (step {meta['global_step']}), "
                      f"saved {meta['saved']} on {meta['processor']}; now run the trainer with --workdir={workdir}")
    except CarryError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
