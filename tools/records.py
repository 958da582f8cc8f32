"""Run records: what RESULTS.md is generated from, kept in the repository (experiments/results/).

Repository tooling (tools/ is not installed): it reads workdirs through vamp_tf.workdir
and writes into this checkout.

A workdir (checkpoints, figures, logs) lives on the machine that trained it, and is lost with
it. A record keeps what the report needs of a finished run, in a few kB: its results.json
(without the workdir's figure paths; it holds the epochs run and the epoch budget), the
commits of its history, and each test image's log-likelihood (float32, NAME.npy) for
standard errors and paired differences. The representative figures go to docs/figures/NAME/.
Only a finished run, evaluated after its last epoch, is recorded. Record the two runs of a pair together: the
report's paired column compares them image by image. `python -m tools.record` writes
records; tools.report reads them.
"""

from __future__ import annotations

import os
import shutil
from typing import Optional

import numpy as np

from vamp_tf import files
from vamp_tf import workdir as run_workdir

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDS = os.path.join(REPO, "experiments", "results")
EXPERIMENTS = os.path.join(REPO, "experiments")
# The flagfiles by purpose: experiments/<group>/<name>.flags; a run's name is its flagfile's, unique across groups.
GROUPS = ("paper", "ablations", "parity_runs", "sphere", "rate_distortion", "fashion", "presets")


def flagfiles() -> dict:
    """{name: path} of every experiment's flagfile (experiments/<group>/<name>.flags)."""
    out = {}
    for group in GROUPS:
        directory = os.path.join(EXPERIMENTS, group)
        for entry in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
            if entry.endswith(".flags"):
                name = entry[:-len(".flags")]
                if name in out:
                    raise ValueError(f"two flagfiles are named {name}: {out[name]} and {os.path.join(directory, entry)}; "
                                     "a run's name must be unique across experiments/*/.")
                out[name] = os.path.join(directory, entry)
    return out


def flagfile(name: str) -> Optional[str]:
    """The path of experiment `name`'s flagfile, or None."""
    return flagfiles().get(name)
FIGURES = os.path.join(REPO, "docs", "figures")
REPRESENTATIVE = {  # run: figures copied into docs/figures/RUN/ (a few hundred kB in all)
    "mnist_vamp_l40": ("samples", "pseudo_inputs", "learning_curves"),
    "mnist_standard_l40": ("samples",),
    "frey_vamp_l40": ("samples", "pseudo_inputs"),
    "frey_vampdata_l40": ("samples", "pseudo_inputs"),
    "frey_vamp_l40_learnedw": ("samples", "pseudo_inputs"),
    "frey_vamp_l40_wideinit": ("samples",),
    "frey_vamp_l40_bf16": ("samples",),
    "caltech101_vamp": ("samples", "pseudo_inputs", "reconstructions"),
    "caltech101_standard": ("samples",),
    "caltech101_hvae_vamp": ("samples",),
    "frey_convhvae_vamp": ("samples", "reconstructions", "pseudo_inputs"),
    "frey_convhvae_standard": ("samples", "reconstructions"),
    "frey_pixelhvae_vamp": ("samples", "reconstructions"),
    "frey_pixelhvae_standard": ("samples", "reconstructions"),
    "frey_sphere_vamp_l10": ("samples", "pseudo_inputs"),  # the VampPrior on the sphere (issue 40)
    "mnist_sphere_vamp_l3_seed1": ("latent_sphere", "samples"),  # S^2: the test images' mean directions (issue 40)
}


class NotFinished(ValueError):
    """The workdir holds no finished, evaluated run."""


def from_workdir(workdir: str, name: str) -> tuple[dict, Optional[np.ndarray]]:
    """The record of the finished run in workdir, and its per-image test log-likelihoods."""
    results = run_workdir.read_results(workdir)
    history = run_workdir.read_history(workdir)
    last_epoch = history[-1]["epoch"] if history else None
    if not results or not results.get("complete"):
        raise NotFinished(f"{workdir} holds no finished run (no complete results.json): let its training and "
                          "test evaluation finish (rerun the same run_grid command), then record it.")
    if results["epochs_run"] != last_epoch:
        raise NotFinished(f"{workdir} was trained to epoch {last_epoch} after its evaluation at epoch "
                          f"{results['epochs_run']}: rerun it to the end so that it is evaluated again, then record it.")
    per_image_path = run_workdir.paths(workdir).log_likelihoods
    per_image = np.load(per_image_path).astype(np.float32) if os.path.exists(per_image_path) else None
    record = {
        "name": name,
        "results": {k: v for k, v in results.items() if k != "figures"},
        "commits": sorted({h.get("commit") or "?" for h in history}),
        "processors": processor_segments(history),
        "per_image_log_likelihoods": None if per_image is None else f"{name}.npy",
        # [epoch, validation -ELBO] of every validated epoch: the parity table compares curves at matched epochs.
        "validation_curve": [[h["epoch"], round(h["validation_neg_elbo"], 3)] for h in history
                             if "validation_neg_elbo" in h],
    }
    return record, per_image


def processor_segments(history: list) -> list:
    """[[first epoch, last epoch, processor], ...]: which processor (files.processor) trained which epochs,
    in order; None where the history predates the field. More than one processor means the run was
    resumed on another machine, and is not bit-identical to an uninterrupted run on either."""
    segments = []
    for h in history:
        name = h.get("processor")
        if segments and segments[-1][2] == name and segments[-1][1] == h["epoch"] - 1:
            segments[-1][1] = h["epoch"]
        else:
            segments.append([h["epoch"], h["epoch"], name])
    return segments


def resumed_elsewhere(record: dict) -> Optional[str]:
    """A sentence if the record's epochs were trained on more than one processor, else None."""
    known = {s[2] for s in record.get("processors") or [] if s[2]}
    if len(known) < 2:
        return None
    parts = "; ".join(f"epochs {a}-{b} on {p or 'an unrecorded processor'}" for a, b, p in record["processors"])
    return f"resumed on another processor ({parts}): not bit-identical to an uninterrupted run on either."


def write(record: dict, per_image: Optional[np.ndarray], records_dir: str = RECORDS) -> str:
    """Writes NAME.json (and NAME.npy), replacing an older record of the same run."""
    os.makedirs(records_dir, exist_ok=True)
    if per_image is not None:
        np.save(os.path.join(records_dir, f"{record['name']}.npy"), per_image.astype(np.float32))
    return files.write_json(os.path.join(records_dir, f"{record['name']}.json"), record)


def load(name: str, records_dir: str = RECORDS) -> tuple[Optional[dict], Optional[np.ndarray]]:
    """(record, per-image log-likelihoods as float64) of a recorded run, or (None, None)."""
    record = files.read_json(os.path.join(records_dir, f"{name}.json"))
    if record is None:
        return None, None
    array = record.get("per_image_log_likelihoods")
    per_image = np.load(os.path.join(records_dir, array)).astype(np.float64) if array else None
    return record, per_image


def copy_figures(workdir: str, name: str, figures_dir: str = FIGURES) -> list[str]:
    """Copies the run's representative figures (REPRESENTATIVE) into figures_dir/NAME/."""
    results = run_workdir.read_results(workdir) or {}
    copied = []
    for kind in REPRESENTATIVE.get(name, ()):
        source = os.path.join(workdir, results.get("figures", {}).get(kind, f"figures/{kind}.png"))
        if os.path.isfile(source):
            target = os.path.join(figures_dir, name, f"{kind}.png")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(source, target)
            copied.append(target)
    return copied
