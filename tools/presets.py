r"""Ships a recorded run as a preset (vamp_tf.presets), and re-scores a preset against its record.

    python -m tools.presets ship RUNS_ROOT RECORD PRESET     the run RUNS_ROOT/RECORD, recorded, becomes PRESET
    python -m tools.presets rescore PRESET [NUM_IMAGES]      its test log-likelihood beside its record's
    python -m tools.presets pseudo-inputs PRESET             where its pseudo-inputs' pixels lie, as a record
    python -m tools.presets list

`ship` takes a finished run whose record is in experiments/results/ (python -m tools.record first)
and whose test scores are the record's, image by image. It writes vamp_tf/presets/PRESET.keras
(the best-validation weights without optimizer state, deflated), loads that file back, scores
the first FIRST_IMAGES test images with the record's S and seed and requires them equal to the
record's, then writes the manifest entry. `rescore` scores the preset's whole test set (or its
first NUM_IMAGES images) from the shipped file and prints the mean beside the record's, with
their paired difference. `pseudo-inputs` writes experiments/pseudo_inputs/PRESET.json: the shares of a
VampPrior preset's pseudo-input parameters below 0, in [0, 1] and above 1. The prior clips them to [0, 1],
so a parameter outside gets no gradient and stays where it is: the share below 0 is the share of pixels
that are 0 for good.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zipfile
from typing import Optional

from vamp_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()

import numpy as np  # noqa: E402

from tools import records  # noqa: E402
from vamp_tf import checkpoints, files, models, presets, statistics  # noqa: E402
from vamp_tf import workdir as run_workdir  # noqa: E402

PSEUDO_INPUTS = os.path.join(records.EXPERIMENTS, "pseudo_inputs")
FIRST_IMAGES = 20  # one evaluation batch: the images the test suite re-scores (tests/presets_test.py)


class ShipError(ValueError):
    """A run cannot be shipped as it is."""


def deflated_copy(source: str, target: str) -> None:
    """`source` (a zip: a .keras file) rewritten into `target` with every member deflated and a fixed date,
    so the same model gives the same bytes."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zout.writestr(info, zin.read(item.filename))


def _portable(config: dict) -> dict:
    """The run's config without where its data was read from on the machine that trained it."""
    return {**config, "train": {**config["train"], "data_dir": None}}


def ship(workdir: str, record_name: str, preset: str, manifest: Optional[str] = None,
         records_dir: str = records.RECORDS) -> dict:
    """Writes the preset's file and manifest entry from the recorded, finished run in `workdir`."""
    record, per_image = records.load(record_name, records_dir)
    if record is None or per_image is None:
        raise ShipError(f"no record {record_name} with per-image scores in experiments/results/: record the run "
                        "first (python -m tools.record RUNS_ROOT NAME).")
    stored = run_workdir.paths(workdir).log_likelihoods
    if not os.path.isfile(stored) or not np.array_equal(np.load(stored).astype(np.float32), per_image.astype(np.float32)):
        raise ShipError(f"{workdir}'s test scores are not record {record_name}'s: ship the run that was recorded.")
    model, config, checkpoint = checkpoints.restore_model(workdir, "best")
    results = record["results"]
    if int(checkpoint.rsplit("-", 1)[1]) != results["metrics"]["best_epoch"]:
        raise ShipError(f"{checkpoint} is not the best epoch {results['metrics']['best_epoch']} that was scored.")
    manifest = manifest or presets.MANIFEST
    target = os.path.join(os.path.dirname(os.path.abspath(manifest)), f"{preset}.keras")
    with tempfile.TemporaryDirectory(dir=os.path.dirname(target)) as tmp:
        plain = os.path.join(tmp, "model.keras")
        model.save(plain)
        deflated_copy(plain, os.path.join(tmp, "deflated.keras"))
        os.replace(os.path.join(tmp, "deflated.keras"), target)
    t = config.train
    entry = {
        "file": f"{preset}.keras", "dataset": t.dataset, "model": config.model.model, "prior": config.model.prior,
        "likelihood": config.model.likelihood, "latent_dim": config.model.latent_dim,
        "num_components": config.model.num_components, "component_weights": config.model.component_weights,
        "record": record_name, "best_epoch": results["metrics"]["best_epoch"], "epochs_run": results["epochs_run"],
        "test_log_likelihood": results["metrics"]["test_log_likelihood"],
        "test_log_likelihood_standard_error": statistics.standard_error(per_image),
        "num_test_images": len(per_image), "eval_samples": t.eval_samples, "seed": t.seed,
        "eval_batch_size": t.eval_batch_size, "config": _portable(config.to_dict()),
        "first_images": [float(v) for v in per_image[:FIRST_IMAGES].astype(np.float32)],
        "sha256": presets.sha256(target), "bytes": os.path.getsize(target),
    }
    # The written file, loaded back, must score its first test images as the record did: bit for bit on the
    # processor that scored the record, within tests/presets_test.py's tolerance on another.
    got = presets.score_entry(entry, FIRST_IMAGES, t.data_dir, models.load_model(target)).astype(np.float32)
    want = per_image[:FIRST_IMAGES].astype(np.float32)
    difference = float(np.max(np.abs(got - want)))
    same_processor = results.get("machine", {}).get("cpu") == files.processor()
    if (difference != 0.0) if same_processor else not np.allclose(got, want, rtol=2e-6, atol=2e-3):
        os.remove(target)
        raise ShipError(f"{target}, loaded back, scores the first {FIRST_IMAGES} test images up to {difference:.3g} "
                        f"nats from record {record_name} (on {'the' if same_processor else 'another'} processor "
                        "that scored it); not shipped.")
    entry["first_images_check"] = {"max_abs_difference": difference, "processor": files.processor(),
                                   "date": time.strftime("%Y-%m-%d")}
    entries = files.read_json(manifest) or {}
    entries[preset] = entry
    files.write_json(manifest, dict(sorted(entries.items())))
    return entry


def rescore(preset: str, num_images: int = 0, manifest: Optional[str] = None, records_dir: str = records.RECORDS,
            data_dir=None) -> dict:
    """The preset's test log-likelihood from its file beside its record's (paired over the same images)."""
    entry = presets.info(preset, manifest)
    record, per_image = records.load(entry["record"], records_dir)
    started = time.time()
    got = presets.score(preset, num_images or None, data_dir=data_dir, manifest=manifest)
    stored = per_image[:len(got)]
    difference = got.astype(np.float32).astype(np.float64) - stored  # at the record's precision (float32)
    return {"preset": preset, "record": entry["record"], "num_images": len(got), "eval_samples": entry["eval_samples"],
            "rescored": float(np.mean(got)), "recorded": float(np.mean(stored)),
            "difference": float(np.mean(difference)), "max_abs_difference": float(np.max(np.abs(difference))),
            "seconds": time.time() - started, "processor": files.processor(),
            "record_test_log_likelihood": record["results"]["metrics"]["test_log_likelihood"]}


def pseudo_inputs(preset: str, out: str = PSEUDO_INPUTS, manifest: Optional[str] = None) -> dict:
    """Writes out/PRESET.json: where the preset's pseudo-input parameters lie against the clip to [0, 1]."""
    entry = presets.info(preset, manifest)
    model = presets.load(preset, manifest)
    if not model.prior.has_pseudo_inputs:
        raise ShipError(f"preset {preset} has a {entry['prior']} prior, which has no pseudo-inputs.")
    u = model.prior.pseudo_inputs_variable.numpy().astype(np.float64)
    percent = lambda mask: float(100.0 * np.mean(mask))  # noqa: E731
    record = {"preset": preset, "record": entry["record"], "sha256": entry["sha256"],
              "components": int(u.shape[0]), "pixels": int(u.size),
              "below_zero_percent": percent(u < 0.0), "in_range_percent": percent((u >= 0.0) & (u <= 1.0)),
              "above_one_percent": percent(u > 1.0), "mean_clipped": float(np.mean(np.clip(u, 0.0, 1.0)))}
    files.write_json(os.path.join(out, f"{preset}.json"), record)
    return record


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["list"]:
            for name in presets.names():
                e = presets.info(name)
                print(f"{name}: {e['dataset']} {e['model']} {e['prior']}, record {e['record']}, test log-likelihood "
                      f"{e['test_log_likelihood']:.2f} nats (S = {e['eval_samples']}), {e['bytes'] / 1e6:.1f} MB")
            return 0
        if argv[:1] == ["ship"] and len(argv) == 4:
            entry = ship(os.path.join(argv[1], argv[2]), argv[2], argv[3])
            print(f"shipped {argv[3]} ({entry['bytes'] / 1e6:.2f} MB, sha256 {entry['sha256'][:12]}...) from record "
                  f"{argv[2]}; first {FIRST_IMAGES} test images re-scored within "
                  f"{entry['first_images_check']['max_abs_difference']:.3g} nats of the record")
            return 0
        if argv[:1] == ["pseudo-inputs"] and len(argv) == 2:
            r = pseudo_inputs(argv[1])
            print(f"{argv[1]}: of its {r['pixels']} pseudo-input parameters, {r['below_zero_percent']:.1f}% are below 0, "
                  f"{r['in_range_percent']:.1f}% in [0, 1], {r['above_one_percent']:.1f}% above 1 "
                  f"(written to experiments/pseudo_inputs/{argv[1]}.json)")
            return 0
        if argv[:1] == ["rescore"] and len(argv) in (2, 3):
            r = rescore(argv[1], int(argv[2]) if len(argv) == 3 else 0)
            print(f"{r['preset']}: test log-likelihood {r['rescored']:.3f} nats re-scored from the shipped file, "
                  f"{r['recorded']:.3f} in record {r['record']} over the same {r['num_images']} images "
                  f"(S = {r['eval_samples']}; paired difference {r['difference']:+.2g}, largest per image "
                  f"{r['max_abs_difference']:.2g}; {r['seconds']:.0f} s on {r['processor']})")
            return 0
    except (ShipError, presets.PresetDamaged, KeyError) as e:
        print(f"error: {e.args[0] if isinstance(e, KeyError) else e}", file=sys.stderr)
        return 2
    print("usage:\n" + "\n".join(__doc__.strip().splitlines()[2:6]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
