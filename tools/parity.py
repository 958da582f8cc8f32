r"""Parity records: what the paper's own code gave on our data, for RESULTS.md's parity table.

    python -m tools.parity NAME RUN_DIR --reference_commit=SHA --reference_data=DESCRIPTION [--reference_threads=1]
        [--reference_test_stride=N] [--reference_no_validation_figures]

RUN_DIR is the directory in which the paper's reference code (jmtomczak/vae_vampprior) ran:
its standard output saved as RUN_DIR/log.txt, and the directory it made under
RUN_DIR/snapshots/ (the per-image test log-likelihoods, saved as per_image_ll_test.npy).
This module only reads what that run printed and saved; it neither builds nor runs the
reference code, and none of that code is in this repository (docs/paper_code_referee.md
says how the comparisons were made). NAME.json and NAME.npy are written to
experiments/parity/: the reference's commit, its settings (the Namespace it printed), the
budget (epochs run, best epoch, whether early stopping ended it), the machine, the
per-epoch curves, the test metrics and each test image's log-likelihood (in the order of
our test split, so that tools.report pairs it image by image with our runs).
"""

from __future__ import annotations

import ast
import glob
import math
import os
import re
from typing import Optional

import numpy as np
from absl import app, flags

from tools import records
from vamp_tf import files, units

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARITY = os.path.join(REPO, "experiments", "parity")
REFERENCE_REPOSITORY = "jmtomczak/vae_vampprior"
# What was changed in the reference code to run it on PyTorch 2.13 on a CPU; none of it is its math.
PATCHES = ("scipy.misc.logsumexp -> scipy.special.logsumexp; the HVAE models' Python 2 'from Model import Model' -> "
           "'from models.Model import Model'; .data[0] -> .item(); Variable(volatile=True) -> "
           "evaluation under torch.no_grad(); reshape order 'fortran' -> 'F'; torch.load(weights_only=False); "
           "the optimizer's deprecated add_/addcmul_/addcdiv_ signatures; the PixelHVAE sampler's .cuda() on CPU; "
           "hist(normed) -> density. For our data: the Frey Faces loader reads one fixed split (train | "
           "validation | test) instead of shuffling the file unseeded, test loaders do not shuffle, and "
           "calculate_likelihood also saves each test image's log-likelihood.")
# Not needed by a current PyTorch, so recorded only for the runs that had it (--reference_no_validation_figures).
NO_VALIDATION_FIGURES = (" Its validation pass skipped the per-epoch figure of 9 reconstructions (drawn after the "
                         "validation loss is summed; for the PixelHVAE 560 sequential passes of its masked stack "
                         "over a batch of 100, about 200 of the 260 s of an epoch here): no number it reports "
                         "changes, only the random stream its later epochs draw from.")

# Named reference_*: tools.report imports this module beside other tools' flags.
_COMMIT = flags.DEFINE_string("reference_commit", None, "The reference code's commit.")
_DATA = flags.DEFINE_string("reference_data", None,
                            "The data it was given (e.g. 'our split_seed 0 of frey_rawface.mat').")
_THREADS = flags.DEFINE_integer("reference_threads", 1, "Threads the reference ran on (OMP_NUM_THREADS).")
_TORCH = flags.DEFINE_string("reference_torch", "2.13.0+cpu", "The PyTorch it ran on.")
_STRIDE = flags.DEFINE_integer("reference_test_stride", 1,
                               "It scored every n-th image of our test split (its VampPrior scoring re-encodes "
                               "the K pseudo-inputs for every 100 samples: 52 minutes for all 2,307 Caltech "
                               "images with the VAE).")
_NO_FIGURES = flags.DEFINE_boolean("reference_no_validation_figures", False,
                                   "Its validation pass ran without its per-epoch reconstruction figure "
                                   "(NO_VALIDATION_FIGURES); said in the record's patches.")

_EPOCH = re.compile(r"^Epoch: (\d+)/(\d+), Time elapsed: ([\d.]+)s")
_TRAIN = re.compile(r"^\* Train loss: ([-\d.naninf]+)\s+\(RE: ([-\d.naninf]+), KL: ([-\d.naninf]+)\)")
_VALID = re.compile(r"^o Val\.\s+loss: ([-\d.naninf]+)\s+\(RE: ([-\d.naninf]+), KL: ([-\d.naninf]+)\)")
_FINAL = re.compile(r"^(LogL|ELBO) \((TEST|TRAIN)\): ([-\d.naninf]+)")


class NotFinished(ValueError):
    """The reference run has not printed its final evaluation."""


def _settings(line: str) -> dict:
    """The reference's argparse Namespace(...) line as a dict of its literal values."""
    body = line.strip()[len("Namespace("):-1]
    out = {}
    for key, value in re.findall(r"(\w+)=('(?:[^']*)'|\[[^\]]*\]|[^,]+)", body):
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def parse_log(text: str) -> dict:
    """Epoch curves, settings and final metrics from the reference code's standard output."""
    settings, epochs, best_epoch, final = {}, [], None, {}
    for line in text.splitlines():
        if line.startswith("Namespace("):
            settings = _settings(line)
        elif m := _EPOCH.match(line):
            epochs.append({"epoch": int(m.group(1)), "cap": int(m.group(2)), "seconds": float(m.group(3))})
        elif (m := _TRAIN.match(line)) and epochs:
            epochs[-1].update(train_loss=float(m.group(1)), train_reconstruction=-float(m.group(2)),
                              train_kl=float(m.group(3)))
        elif (m := _VALID.match(line)) and epochs:
            epochs[-1].update(validation_neg_elbo=float(m.group(1)), validation_reconstruction=-float(m.group(2)),
                              validation_kl=float(m.group(3)))
        elif line.strip() == "->model saved<-" and epochs:
            best_epoch = epochs[-1]["epoch"]
        elif m := _FINAL.match(line):
            final[f"{m.group(1)}_{m.group(2)}".lower()] = float(m.group(3))
    if "logl_test" not in final or not epochs:
        raise NotFinished("the log holds no final evaluation ('LogL (TEST)'): let the reference run finish.")
    return {"settings": settings, "epochs": epochs, "best_epoch": best_epoch, "final": final}


def build_record(name: str, run_dir: str, commit: str, data: str, threads: int = 1,
                 torch_version: str = "2.13.0+cpu", test_stride: int = 1,
                 no_validation_figures: bool = False) -> tuple[dict, np.ndarray]:
    """(record, per-image test log-likelihoods) of the finished reference run in run_dir."""
    log_path = os.path.join(run_dir, "log.txt")
    if not os.path.isfile(log_path):
        raise app.UsageError(f"no {log_path}: RUN_DIR is where the reference ran, its output saved as log.txt.")
    with open(log_path, errors="replace") as f:
        parsed = parse_log(f.read())
    arrays = sorted(glob.glob(os.path.join(run_dir, "snapshots", "*", "per_image_ll_test.npy")))
    if len(arrays) != 1:
        raise app.UsageError(f"expected one snapshots/*/per_image_ll_test.npy under {run_dir}, found {len(arrays)}.")
    per_image = np.load(arrays[0]).astype(np.float64).ravel()
    s, epochs = parsed["settings"], parsed["epochs"]
    cap = epochs[-1]["cap"]
    input_size = s.get("input_size") or [1, 28, 28]
    dims = int(np.prod(input_size))
    gray = s.get("input_type") == "gray"
    nll = -float(np.mean(per_image))
    if not math.isclose(nll, parsed["final"]["logl_test"], abs_tol=0.01):
        raise app.UsageError(f"{arrays[0]} (mean -log p(x) {nll:.3f}) does not belong to the run in "
                             f"{log_path} (LogL (TEST) {parsed['final']['logl_test']:.3f}).")
    metrics = {"test_log_likelihood": -nll, "test_nll": nll, "test_neg_elbo": parsed["final"].get("elbo_test"),
               "train_neg_elbo": parsed["final"].get("elbo_train"), "eval_samples": s.get("S")}
    if gray:
        metrics["bits_per_dim"] = float(units.bits_per_dim(-nll, dims))
    patience = s.get("early_stopping_epochs", 50)
    record = {
        "name": name,
        "reference": {"repository": REFERENCE_REPOSITORY, "commit": commit, "framework": f"PyTorch {torch_version}",
                      "threads": threads,
                      "patches": PATCHES + (NO_VALIDATION_FIGURES if no_validation_figures else "")},
        "data": data,
        "settings": s,
        "budget": {"epochs_cap": cap, "epochs_run": epochs[-1]["epoch"], "best_epoch": parsed["best_epoch"],
                   "stopped_early": epochs[-1]["epoch"] < cap, "early_stopping_patience": patience,
                   "warmup_epochs": s.get("warmup")},
        "metrics": metrics,
        "num_test_images": int(len(per_image)),
        "test_stride": int(test_stride),  # it scored our test images 0, n, 2n, ...
        "train_seconds": float(sum(e["seconds"] for e in epochs)),
        "curve": [{k: e[k] for k in ("epoch", "train_loss", "validation_neg_elbo") if k in e} for e in epochs],
        "machine": {"cpu": files.cpu_model(), "cpu_bf16": files.bf16_hardware() or "none",
                    "avx512f": "avx512f" in files.cpu_flags(), "cpu_count": os.cpu_count()},
        "per_image_log_likelihoods": f"{name}.npy",
    }
    return record, per_image


def write(record: dict, per_image: np.ndarray, directory: str = PARITY) -> str:
    """NAME.json and NAME.npy in directory (the layout of our own run records, tools.records)."""
    return records.write(record, per_image, directory)


def load(name: str, directory: str = PARITY) -> tuple[Optional[dict], Optional[np.ndarray]]:
    """(record, per-image log-likelihoods as float64) of a reference run, or (None, None)."""
    return records.load(name, directory)


def main(argv):
    if len(argv) != 3 or not _COMMIT.value or not _DATA.value:
        raise app.UsageError("usage: python -m tools.parity NAME RUN_DIR --reference_commit=SHA "
                             "--reference_data=DESCRIPTION")
    try:
        record, per_image = build_record(argv[1], argv[2], _COMMIT.value, _DATA.value, _THREADS.value, _TORCH.value,
                                         _STRIDE.value, _NO_FIGURES.value)
    except NotFinished as e:
        raise app.UsageError(f"{argv[2]}: {e}") from e
    path = write(record, per_image)
    m = record["metrics"]
    print(f"recorded {record['name']} in {path}: -log p(x) {m['test_nll']:.2f} nats"
          + (f" ({m['bits_per_dim']:.3f} bits/dim)" if "bits_per_dim" in m else "")
          + f", {record['budget']['epochs_run']} epochs (best {record['budget']['best_epoch']})")


if __name__ == "__main__":
    app.run(main)
