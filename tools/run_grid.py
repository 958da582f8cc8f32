r"""Runs a named set of experiment flagfiles, each into its own workdir; resumable.

    python -m tools.run_grid --set=seed_frey --max_epochs=2000 --parallel=2
    python -m tools.run_grid --set=mnist_main --max_epochs=300

Each run is `python -m trainers.main --flagfile=experiments/GROUP/NAME.flags
--workdir=ROOT/NAME --epochs=min(its epochs, max_epochs)`, logged to ROOT/NAME/train.log.
Rerunning the same command continues every run from its checkpoint (finished runs are
skipped by the trainer itself); raising --max_epochs later extends them. --parallel N
runs N at a time, each with intra_op_threads = cores / N.
"""

import os
import subprocess
import sys
import time

from absl import app, flags

from tools import records

REPO = records.REPO

SETS = {
    "mnist_main": ["mnist_vamp_l40", "mnist_standard_l40"],
    "seed_mnist": [f"mnist_{p}_l{l}" for l in (40, 10, 100) for p in ("vamp", "standard")],
    "seed_frey": [f"frey_{p}_l{l}" for l in (40, 10, 100) for p in ("vamp", "standard")]
                 + ["frey_vamp_l40_h600", "frey_standard_l40_h600", "frey_vamp_l40_k1000", "frey_vamp_l40_k100"],
    "paper_static": ["binarized_mnist_vamp", "binarized_mnist_standard"],
    "extra": ["frey_vampdata_l40"],
    "second_seed": ["mnist_vamp_l10_seed1", "mnist_standard_l10_seed1"],
    "hvae": [f"{d}_hvae_{p}" for d in ("frey", "mnist", "binarized_mnist") for p in ("vamp", "standard")],
    "caltech": [f"caltech101_{m}{p}" for m in ("", "hvae_") for p in ("vamp", "standard")],
    "bfloat16": ["frey_vamp_l40_bf16", "mnist_vamp_l10_bf16"],
    "convhvae": ["frey_convhvae_vamp", "frey_convhvae_standard", "frey_pixelhvae_vamp", "frey_pixelhvae_standard"],
    "convhvae_mnist": [f"mnist_{m}hvae_{p}" for m in ("conv", "pixel") for p in ("vamp", "standard")],
    "fashion": [f"fashion_mnist_{m}{p}" for m in ("", "hvae_") for p in ("vamp", "standard")],
    "dead_components": ["frey_vamp_l40", "frey_vamp_l40_learnedw", "frey_vamp_l40_wideinit",
                        "mnist_vamp_l40_e20", "mnist_vamp_l40_learnedw_e20"],
}
# The rate-distortion sweep, the VampPrior's (slower) runs first so that two at a time end together.
SETS["rate_distortion"] = [f"mnist_{p}_l40_beta{b}" for p in ("vamp", "standard")
                           for b in ("1", "0p25", "0p5", "2", "4")]
SETS["all"] = [n for s in ("seed_frey", "mnist_main", "seed_mnist", "paper_static", "hvae", "extra", "second_seed",
                           "caltech", "dead_components", "bfloat16", "convhvae")
               for n in SETS[s]]
SETS["all"] = list(dict.fromkeys(SETS["all"]))

_SET = flags.DEFINE_multi_enum("set", ["all"], list(SETS), "Named set(s) of flagfiles to run, in order.")
_ONLY = flags.DEFINE_list("only", [], "Run only these flagfile names (without .flags), in this order.")
_ROOT = flags.DEFINE_string("root", os.path.join(REPO, "runs"), "Each run goes to ROOT/NAME.")
_MAX_EPOCHS = flags.DEFINE_integer("max_epochs", 2000, "Budget: at most this many epochs per run.")
_PARALLEL = flags.DEFINE_integer("parallel", 1, "Runs at a time.")
_THREADS = flags.DEFINE_integer("threads", 0, "intra_op_threads per run (0: cores / parallel).")
_EXTRA = flags.DEFINE_list("extra", [], "More trainer flags for every run, e.g. --extra=--eval_samples=1000.")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print the commands only.")


def flagfile_epochs(path):
    for line in open(path):
        if line.startswith("--epochs="):
            return int(line.strip().split("=", 1)[1])
    return 2000


def command(name, root, max_epochs, threads, extra):
    path = records.flagfile(name)
    if path is None:
        raise app.UsageError(f"no flagfile experiments/<group>/{name}.flags; known: {', '.join(sorted(SETS['all']))}")
    epochs = min(flagfile_epochs(path), max_epochs)
    return [sys.executable, "-m", "trainers.main", f"--flagfile={path}", f"--workdir={os.path.join(root, name)}",
            f"--epochs={epochs}", f"--intra_op_threads={threads}", *extra]


def main(argv):
    del argv
    names = _ONLY.value or list(dict.fromkeys(n for s in _SET.value for n in SETS[s]))
    threads = _THREADS.value or max(1, (os.cpu_count() or 1) // max(1, _PARALLEL.value))
    queue = [(n, command(n, _ROOT.value, _MAX_EPOCHS.value, threads, _EXTRA.value)) for n in names]
    if _DRY_RUN.value:
        for _, cmd in queue:
            print(" ".join(cmd))
        return
    running, failed = [], []
    while queue or running:
        while queue and len(running) < _PARALLEL.value:
            name, cmd = queue.pop(0)
            os.makedirs(os.path.join(_ROOT.value, name), exist_ok=True)
            log = open(os.path.join(_ROOT.value, name, "train.log"), "a")
            print(f"[run_grid] start {name}: {' '.join(cmd)}", flush=True)
            running.append((name, subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT), log))
        time.sleep(5)
        for item in list(running):
            name, proc, log = item
            if proc.poll() is not None:
                running.remove(item)
                log.close()
                print(f"[run_grid] {name} exited with {proc.returncode}", flush=True)
                if proc.returncode:
                    failed.append(name)
    if failed:
        print(f"[run_grid] failed: {', '.join(failed)} (see ROOT/NAME/train.log)", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
