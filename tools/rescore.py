r"""Scores a finished run again with one thing changed, paired with its own score.

    python -m tools.rescore WORKDIR --clamp=1e-5 [--record=experiments/rescored/NAME_clamp1e-5.json]
    python -m tools.rescore WORKDIR --checkpoint=latest [--record=...]

What can change: the likelihood (`--clamp`, the paper's reference code's guard against log 0:
a Bernoulli's probabilities clamped to [c, 1 - c], its 1e-5; a discretized logistic's pixel
scored as log(P(bin) + c), its 1e-7; it adds no weight), or the weights (`--checkpoint=latest`: the run's last epoch
instead of the best-validation epoch the protocol scores). The model is rebuilt from the run's
config, the checkpoint restored into it, and the test log-likelihood importance-sampled with
the run's own S, seed and batch size. The noise is the run's, so the difference to the run's
stored per-image log-likelihoods is the change's effect, with little importance-sampling noise.
--record writes a small JSON record that tools.report shows, and each test image's log-likelihood
beside it (.npy), to pair with other records.
"""

import os

from vamp_tf import startup  # noqa: E402  (TensorFlow without its start-up noise)

startup.import_tensorflow_quietly()

import numpy as np
from absl import app, flags

from tools import ablation_report
from vamp_tf import checkpoints, datasets, evaluation, files
from vamp_tf import workdir as run_workdir

_CLAMP = flags.DEFINE_float("clamp", 0.0, "0: exact; c > 0: a Bernoulli's probabilities clamped to [c, 1 - c], a "
                            "discretized logistic's pixel scored as log(P(bin) + c) (the paper's code: 1e-5, 1e-7).")
_CHECKPOINT = flags.DEFINE_enum("checkpoint", "best", ["best", "latest"],
                                "Whose weights: the best-validation epoch's (the run's own score) or the last epoch's.")
_RECORD = flags.DEFINE_string("record", None, "Write the record here (JSON).")


def rescore(workdir: str, probability_clamp: float = 0.0, checkpoint: str = "best") -> dict:
    """The run's test log-likelihood with its likelihood clamped (probability_clamp > 0) and/or
    the weights of another checkpoint ('latest': its last epoch), paired with its stored one."""
    if not probability_clamp and checkpoint == "best":
        raise app.UsageError("nothing to change: pass --clamp=C (e.g. 1e-5, the paper's code's clamp) and/or "
                             "--checkpoint=latest (the last epoch's weights).")
    config = run_workdir.read_config(workdir)
    results = run_workdir.read_results(workdir)
    stored_path = run_workdir.paths(workdir).log_likelihoods
    if config is None or not (results or {}).get("complete") or not os.path.isfile(stored_path):
        raise app.UsageError(f"{workdir} holds no finished, evaluated run: train and evaluate it first.")
    model, _, _ = checkpoints.restore_model(workdir, checkpoint, probability_clamp=probability_clamp)
    t = config.train
    images = datasets.evaluation_images(t, "test")
    ll = evaluation.log_likelihood(model, images, num_samples=t.eval_samples, seed=t.seed,
                                   batch_size=t.eval_batch_size)["per_image"]
    stored = np.load(stored_path).astype(np.float64)
    diff = stored - ll  # change of each image's -log p(x); negative: the change scores it better
    epochs = {"best": results["metrics"]["best_epoch"], "latest": results["epochs_run"]}
    return {"run": os.path.basename(os.path.normpath(workdir)), "probability_clamp": probability_clamp,
            "likelihood": config.model.likelihood,
            "checkpoint": checkpoint, "checkpoint_epoch": int(epochs[checkpoint]), "best_epoch": int(epochs["best"]),
            "eval_samples": t.eval_samples, "num_test_images": int(len(ll)),
            "test_log_likelihood": float(np.mean(ll)), "stored_test_log_likelihood": float(np.mean(stored)),
            "nll_change": float(np.mean(diff)),
            "nll_change_standard_error": float(np.std(diff, ddof=1) / np.sqrt(len(diff))),
            "largest_image_change": float(np.min(diff)), "per_image": ll, **files.provenance()}


def main(argv):
    if len(argv) != 2:
        raise app.UsageError("usage: python -m tools.rescore WORKDIR [--clamp=1e-5] [--checkpoint=latest] "
                             "[--record=PATH.json]")
    record = rescore(argv[1], _CLAMP.value, _CHECKPOINT.value)
    print(f"{record['run']}: -log p(x) {-record['stored_test_log_likelihood']:.3f} as stored, "
          f"{-record['test_log_likelihood']:.3f} with {ablation_report.describe_rescore(record)} "
          f"(change {record['nll_change']:+.3f} ± {record['nll_change_standard_error']:.3f} nats, same noise; "
          f"S = {record['eval_samples']})")
    per_image = record.pop("per_image")
    if _RECORD.value:
        # each test image's log-likelihood beside the record, to pair it with other records (the paper's code's)
        npy = os.path.splitext(_RECORD.value)[0] + ".npy"
        files.write_npy(npy, per_image.astype(np.float32))
        files.write_json(_RECORD.value, {**record, "per_image_log_likelihoods": os.path.basename(npy)})
        print(f"wrote {_RECORD.value} and {npy}")


if __name__ == "__main__":
    app.run(main)
