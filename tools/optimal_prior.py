r"""Scores a trained model under the optimal prior and three others, and splits its rate held out.

    python -m tools.optimal_prior --preset=mnist_vamp [--test_images=1000] [--out=experiments/optimal_prior]
    python -m tools.optimal_prior --workdir=RUN --name=NAME ...
    python -m tools.optimal_prior --preset=binarized_mnist_hvae_vamp --test_images=200 --test_stride=50

For the model's encoder and decoder fixed, the test log-likelihood (S = the record's, its seed) of the
first --test_images test images (of every --test_stride-th, for a test file ordered by class) under the
priors of vamp_tf.optimal_prior: the aggregate posterior of the training set (optimal for this encoder),
the trained prior, N(0, I), a K-component mixture fitted to q(z) (K = --fitted_components), and (with
--bandwidths, the default) the aggregate smoothed by the bandwidth that --bandwidth_images validation
images prefer. The same noise per image under all of them, so their differences are paired. The 'trained'
column must equal the record's per-image scores (checked).
Then the rate split on the whole test set (one draw per image): in-sample (log q over the test
posteriors, capped at log N) and held out (log q over the training posteriors), and the held-out
estimator's bias measured by subsampling the training set (--subsample). Dynamically binarized training
images enter the aggregate as one fixed binarization each (datasets.examples), as the model saw them.
Writes OUT/NAME.json and OUT/NAME.npz (each image's scores), which tools.report turns into RESULTS.md's table.
"""

import os
import time

from vamp_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from tools import optimal_prior_records  # noqa: E402

DEFAULT_OUT = optimal_prior_records.DIRECTORY
FLAGS = flags.FLAGS  # defined only when run (below): importing this module defines no flag


def _load():
    import dataclasses  # pylint: disable=import-outside-toplevel
    from vamp_tf import checkpoints, presets  # pylint: disable=import-outside-toplevel
    from vamp_tf.config import Config  # pylint: disable=import-outside-toplevel
    if bool(FLAGS.preset) == bool(FLAGS.workdir):
        raise app.UsageError("pass exactly one of --preset and --workdir.")
    if FLAGS.preset:
        info = presets.info(FLAGS.preset)
        config = Config.from_dict(info["config"])
        return presets.load(FLAGS.preset), config, info["record"], FLAGS.name or FLAGS.preset
    if not FLAGS.name:
        raise app.UsageError("--workdir needs --name (the output's name).")
    model, config, _ = checkpoints.restore_model(FLAGS.workdir)
    return model, dataclasses.replace(config), os.path.basename(os.path.normpath(FLAGS.workdir)), FLAGS.name


def _smoothed(model, t, parameters, bandwidths, bandwidth_images, bandwidth_samples):
    """(prior (e), its record): the aggregate smoothed by the bandwidth the first bandwidth_images validation
    images prefer."""
    from vamp_tf import datasets, optimal_prior  # pylint: disable=import-outside-toplevel
    from vamp_tf.progress import Progress  # pylint: disable=import-outside-toplevel
    valid = datasets.evaluation_images(t, "validation")[:bandwidth_images]
    best, scores = optimal_prior.choose_bandwidth(
        model, parameters, valid, bandwidths, bandwidth_samples, t.seed,
        progress=Progress(len(valid) * len(bandwidths), "choosing the bandwidth on validation images").update)
    return optimal_prior.smoothed_aggregate(parameters, best), {
        "bandwidth": best, "validation_images": len(valid), "validation_samples": bandwidth_samples,
        "validation_log_likelihood": {str(h): v for h, v in scores.items()}}


def _training_images(t):
    """The training images whose posteriors make the aggregate, as the model sees them: one fixed binary draw
    of each image of a dynamically binarized dataset."""
    from vamp_tf import datasets  # pylint: disable=import-outside-toplevel
    return datasets.examples(t.dataset, "train", t.data_dir, t.split_seed, t.train_examples, gray_values=t.gray_values)


def _summary(per_image: dict, smoothed=None):
    """(mean, standard error, paired difference from the aggregate, shares closed) of each prior's scores; the
    shares of the gap to the smoothed aggregate go into `smoothed`."""
    from vamp_tf import optimal_prior, statistics  # pylint: disable=import-outside-toplevel
    mean = {k: float(np.mean(v)) for k, v in per_image.items()}
    error = {k: statistics.standard_error(v) for k, v in per_image.items()}
    paired = {k: list(statistics.paired_difference(v, per_image["aggregate"]))
              for k, v in per_image.items() if k != "aggregate"}
    shares = {k: list(optimal_prior.share_closed(per_image, k)) for k in ("trained", "fitted")}
    if smoothed:
        smoothed["share_closed"] = {k: list(optimal_prior.share_closed(per_image, k, "smoothed"))
                                    for k in ("trained", "fitted")}
    return mean, error, paired, shares


def add_smoothed(model, config, out: dict, per_image: dict, bandwidths, bandwidth_images: int = 200,
                 bandwidth_samples: int = 500) -> None:
    """Adds prior (e) to an earlier measurement `out`, `per_image` (its record and scores), in place: the same
    test images and the same noise per image, so its column pairs with the others."""
    from vamp_tf import datasets, optimal_prior, surgery  # pylint: disable=import-outside-toplevel
    from vamp_tf.progress import Progress  # pylint: disable=import-outside-toplevel
    started, t = time.time(), config.train
    train = _training_images(t)
    positions = _positions(out["test_images_of"], out["num_test_images"], out.get("test_stride", 1))
    scored = datasets.evaluation_images(t, "test")[positions]
    prior, smoothed = _smoothed(model, t, surgery.posterior_parameters(model, train), bandwidths, bandwidth_images,
                                bandwidth_samples)
    progress = Progress(len(scored), "log p(x) under the smoothed prior")
    per_image.update(optimal_prior.log_likelihoods(model, scored, {"smoothed": prior}, t.eval_samples, t.seed,
                                                   progress=progress.update, indices=positions))
    mean, error, paired, shares = _summary(per_image, smoothed)
    out.update(test_log_likelihood=mean, standard_error=error, aggregate_minus=paired, share_closed=shares,
               smoothed=smoothed, seconds=out["seconds"] + time.time() - started)


def _positions(num_test: int, test_images: int, stride: int) -> np.ndarray:
    """The scored test images' positions: every stride-th, the first test_images of them (0: all)."""
    if stride < 1:
        raise ValueError(f"--test_stride={stride}: it must be 1 or more (1: the first --test_images images).")
    positions = np.arange(0, num_test, stride)
    return positions[:test_images] if test_images else positions


def measure(model, config, record_name: str, name: str, test_images: int = 1000, components: int = 500,
            subsample=(1000, 5000, 20000), records_dir=None, bandwidths=(), bandwidth_images: int = 200,
            bandwidth_samples: int = 500, test_stride: int = 1) -> tuple[dict, dict]:
    """(the record of the measurement, each scored image's log-likelihood under each prior)."""
    from tools import records  # pylint: disable=import-outside-toplevel
    from vamp_tf import datasets, files, optimal_prior, surgery  # pylint: disable=import-outside-toplevel
    from vamp_tf.progress import Progress  # pylint: disable=import-outside-toplevel
    started = time.time()
    t = config.train
    train = _training_images(t)
    test = datasets.evaluation_images(t, "test")
    positions = _positions(len(test), test_images, test_stride)
    scored = test[positions]
    every = f" (every {test_stride}th)" if test_stride > 1 else ""
    print(f"{name}: {len(train)} training posteriors, {len(scored)} of {len(test)} test images{every}, "
          f"S = {t.eval_samples}")
    parameters = surgery.posterior_parameters(model, train)
    found = optimal_prior.priors(model, train, num_components=components, seed=t.seed, parameters=parameters)
    smoothed = None
    if bandwidths:  # the aggregate with a bandwidth, chosen on validation images (never the scored test images)
        found["smoothed"], smoothed = _smoothed(model, t, parameters, bandwidths, bandwidth_images, bandwidth_samples)
    per_image = {}
    for prior in found:
        progress = Progress(len(scored), f"log p(x) under the {prior} prior")
        per_image.update(optimal_prior.log_likelihoods(model, scored, {prior: found[prior]}, t.eval_samples, t.seed,
                                                       progress=progress.update, indices=positions))
    _, recorded = records.load(record_name, *([records_dir] if records_dir else []))
    check = None
    if recorded is not None:
        check = float(np.max(np.abs(per_image["trained"].astype(np.float32) - recorded[positions].astype(np.float32))))
    mean, error, paired, shares = _summary(per_image, smoothed)
    split = surgery.rate_distortion(model, test, seed=t.seed, reference_images=train, reference_sizes=subsample)
    bias = split.pop("held_out_by_reference_size", {})
    out = {"name": name, "record": record_name, "dataset": t.dataset,
           "model": config.model.model, "prior": config.model.prior, "num_train_images": len(train),
           "num_test_images": len(scored), "test_images_of": len(test), "test_stride": test_stride,
           "eval_samples": t.eval_samples, "seed": t.seed,
           "fitted_components": components, "test_log_likelihood": mean, "standard_error": error,
           "aggregate_minus": paired, "share_closed": shares, "trained_matches_record": check,
           "rate_split": {k: list(v) if isinstance(v, tuple) else v for k, v in split.items()},
           "held_out_by_reference_size": {str(m): {k: list(v) for k, v in terms.items()}
                                          for m, terms in sorted(bias.items())},
           "smoothed": smoothed, "seconds": time.time() - started, **files.provenance()}
    return out, per_image


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    from vamp_tf import files  # pylint: disable=import-outside-toplevel
    model, config, record_name, name = _load()
    bandwidths = [float(h) for h in FLAGS.bandwidths]
    if FLAGS.add_smoothed:
        out = files.read_json(os.path.join(FLAGS.out, f"{name}.json"))
        if out is None:
            raise app.UsageError(f"--add_smoothed needs an earlier measurement {name}.json in {FLAGS.out}.")
        with np.load(os.path.join(FLAGS.out, f"{name}.npz")) as saved:
            per_image = {k: saved[k].astype(np.float64) for k in saved.files}
        add_smoothed(model, config, out, per_image, bandwidths, FLAGS.bandwidth_images, FLAGS.bandwidth_samples)
    else:
        out, per_image = measure(model, config, record_name, name, FLAGS.test_images, FLAGS.fitted_components,
                                 [int(v) for v in FLAGS.subsample], bandwidths=bandwidths,
                                 bandwidth_images=FLAGS.bandwidth_images, bandwidth_samples=FLAGS.bandwidth_samples,
                                 test_stride=FLAGS.test_stride)
        out["preset"] = FLAGS.preset
    os.makedirs(FLAGS.out, exist_ok=True)
    np.savez(os.path.join(FLAGS.out, f"{name}.npz"), **{k: v.astype(np.float32) for k, v in per_image.items()})
    files.write_json(os.path.join(FLAGS.out, f"{name}.json"), out)
    mean, shares = out["test_log_likelihood"], out["share_closed"]
    print(" ".join(f"{k} {v:.2f}" for k, v in mean.items())
          + f"; the trained prior closes {shares['trained'][0]:.1%} ± {shares['trained'][1]:.1%} of the gap"
          + f" (fitted: {shares['fitted'][0]:.1%}); trained vs record: {out['trained_matches_record']}")


if __name__ == "__main__":
    flags.DEFINE_string("preset", None, "A shipped trained model (vamp_tf.presets).")
    flags.DEFINE_string("workdir", None, "A finished training run, instead of --preset (name it with --name).")
    flags.DEFINE_string("name", None, "The output's name (default: the preset's).")
    flags.DEFINE_integer("test_images", 1000, "The first N test images are scored (0: all).")
    flags.DEFINE_integer("test_stride", 1, "Score every S-th test image (the first --test_images of them): a subset "
                         "of every class where the test file is ordered by class (binarized_mnist).")
    flags.DEFINE_integer("fitted_components", 500, "Components of the mixture fitted to q(z).")
    flags.DEFINE_list("subsample", ["1000", "5000", "20000"], "Training-set sizes M at which the held-out "
                      "estimator's bias is measured (besides the whole set).")
    flags.DEFINE_list("bandwidths", ["0.05", "0.1", "0.2", "0.3", "0.5", "0.8", "1.2"], "Bandwidths h of the smoothed "
                      "aggregate (the aggregate convolved with N(0, h^2 I)); the best on validation images is scored "
                      "as prior (e). Empty: no smoothed prior.")
    flags.DEFINE_bool("add_smoothed", False, "Add only prior (e) to the earlier measurement OUT/NAME (same images "
                      "and noise), instead of measuring again.")
    flags.DEFINE_integer("bandwidth_images", 200, "Validation images that choose the bandwidth.")
    flags.DEFINE_integer("bandwidth_samples", 500, "Importance samples per validation image there.")
    flags.DEFINE_string("out", DEFAULT_OUT, "Where to write NAME.json/.npz.")
    app.run(main)
