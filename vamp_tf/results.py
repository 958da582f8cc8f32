"""The end of a run: the test evaluation of the best weights, its figures, results.json.

The test log-likelihood is importance-sampled (vamp_tf.evaluation.log_likelihood, S =
config.train.eval_samples) with the best-validation weights; bits/dim are added for gray
data. results.json holds every metric, the config, the epochs run, the wall times and
the provenance (versions, commit, machine).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Optional

import numpy as np

from vamp_tf import datasets, evaluation, files, plots
from vamp_tf.config import Config
from vamp_tf.progress import Progress, StopRequest
from vamp_tf.workdir import RunPaths

log = logging.getLogger("vamp_tf")


def evaluate_and_write(config: Config, run: RunPaths, model, state, history: list, best_epoch: int) -> dict:
    """Evaluates `model` (holding the best weights) on the test set, writes the figures,
    the per-image log-likelihoods and results.json; returns the results dict. Ctrl-C or
    SIGTERM while the test log-likelihood is computed: ScoringInterrupted (score_test_images)."""
    t = config.train
    started = time.time()
    test_images = datasets.evaluation_images(t, "test")
    log.info("evaluating epoch %d's weights on %d test images (S = %d importance samples)",
             best_epoch, len(test_images), t.eval_samples)
    with StopRequest() as stop:  # the run's own request (progress.StopRequest), seen in every phase below
        return _evaluate_and_write(config, run, model, state, history, best_epoch, test_images, started, stop)


def _stop_if_requested(stop, where: str, run: RunPaths) -> None:
    stop.check(ScoringInterrupted, f"stopped {where}; every test image's score is kept in "
                                   f"{run.partial_log_likelihoods}. Rerun the same command to finish the evaluation.")


def _evaluate_and_write(config, run, model, state, history, best_epoch, test_images, started, stop) -> dict:
    t = config.train
    per_image = score_test_images(config, run, model, test_images, best_epoch)
    _stop_if_requested(stop, "after scoring the test images, before the test ELBO", run)
    ll = {"per_image": per_image, "mean": float(np.mean(per_image))}
    files.write_npy(run.log_likelihoods, per_image)
    test = evaluation.elbo_terms(model, test_images, seed=t.seed)
    means = evaluation.posterior_means(model, test_images)
    units = evaluation.active_units_of(means)
    usage = evaluation.prior_usage(model, test_images)
    metrics = {
        "test_log_likelihood": ll["mean"],
        "test_nll": -ll["mean"],
        "test_elbo": test["elbo"],
        "test_neg_elbo": -test["elbo"],
        "test_reconstruction": test["reconstruction"],
        "test_kl": test["kl"],
        "active_units": {layer: u["count"] for layer, u in units.items()},
        "prior_usage": evaluation.usage_summary(usage),
        "best_validation_neg_elbo": float(state.best_validation.numpy()),
        "best_epoch": best_epoch,
    }
    metrics.update({f"test_{k}": v for k, v in test.items() if k.startswith("kl_")})
    if len(test_images) > 1:  # rate and distortion apart, the rate split by ELBO surgery (vamp_tf.surgery)
        split = evaluation.rate_distortion(model, test_images, seed=t.seed)
        metrics["rate_distortion"] = {k: list(v) if isinstance(v, tuple) else v for k, v in split.items()}
    if model.likelihood.bits_per_dim:
        metrics["bits_per_dim"] = float(evaluation.bits_per_dim(ll["mean"], config.model.input_dim))
        metrics["test_neg_elbo_bits_per_dim"] = float(evaluation.bits_per_dim(test["elbo"], config.model.input_dim))
    evaluation_seconds = time.time() - started
    _stop_if_requested(stop, "after the test ELBO, before the figures", run)
    figures = (write_figures(config, run, model, test_images, ll["per_image"], history, usage, means,
                             check=lambda: _stop_if_requested(stop, "while drawing the figures", run))
               if t.figures else {})
    _stop_if_requested(stop, "after the figures, before results.json", run)
    results = {
        "complete": True,
        "config": config.to_dict(),
        "metrics": metrics,
        "epochs_run": int(state.epoch.numpy()),
        "stopped_early": bool(state.stopped_early.numpy()),
        "train_seconds": float(state.train_seconds.numpy()),
        "evaluation_seconds": evaluation_seconds,
        "num_test_images": int(len(test_images)),
        "figures": {k: os.path.relpath(v, run.workdir) for k, v in figures.items()},
        "score_notes": score_notes(config),
        **files.provenance(),
    }
    files.write_json(run.results, results)
    if os.path.exists(run.partial_log_likelihoods):  # now in test_log_likelihoods.npy
        os.remove(run.partial_log_likelihoods)
    log.info("test log-likelihood %.2f nats (S=%d)%s; test ELBO %.2f (RE %.2f, KL %.2f); active units %s; "
             "prior components used %d of %d (effective %.1f, %.1f%% of the prior's mass)",
             ll["mean"], t.eval_samples,
             f", {metrics['bits_per_dim']:.3f} bits/dim" if "bits_per_dim" in metrics else "",
             test["elbo"], -test["reconstruction"], test["kl"], metrics["active_units"],
             usage["components_used"], usage["num_components"], usage["effective_components"],
             100 * usage["used_mass"])
    for note in results["score_notes"]:
        log.warning("%s", note)
    return results


def score_notes(config: Config) -> list:
    """What makes the run's reported score other than the exact likelihood's (a replication switch), in
    words; [] for the exact likelihood. Written to results.json, logged at the start and at the end."""
    clamp = config.model.probability_clamp
    if not clamp:
        return []
    how = ("each pixel's probability clamped to [c, 1 - c]" if config.model.likelihood == "bernoulli"
           else "each pixel's bin probability P scored as P + c")
    return [f"--probability_clamp={clamp:g}: the test log-likelihood is scored as the paper's code scores it "
            f"({how}, c = {clamp:g}), not by the exact likelihood; compare it only with runs scored the same way."]


class ScoringInterrupted(RuntimeError):
    """Ctrl-C or SIGTERM during the test log-likelihood: the images scored are kept; rerunning continues."""


def score_test_images(config: Config, run: RunPaths, model, test_images, best_epoch: int) -> np.ndarray:
    """Each test image's importance-sampled log-likelihood (evaluation.log_likelihood, float64 [N]),
    kept as it goes.

    After each batch the scores so far go to run.partial_log_likelihoods (atomically, with what
    they are scores of: the best epoch, S, the seed and the test set's size), so a run stopped
    while scoring (SIGTERM, Ctrl-C, a lost machine) loses one batch at most: rerunning its command
    scores only the rest, with the same noise per image, so the result is the one an uninterrupted
    run gives. A saved partial of other scores (another best epoch or S) is scored afresh.
    Ctrl-C or SIGTERM, checked between batches: ScoringInterrupted, once the batch is saved.
    """
    t = config.train
    key = {"best_epoch": int(best_epoch), "eval_samples": int(t.eval_samples), "seed": int(t.seed),
           "num_images": int(len(test_images))}
    done = _read_partial(run.partial_log_likelihoods, key)
    if len(done):
        log.info("resuming the test log-likelihood: %d of %d images were scored before", len(done), len(test_images))
    progress = Progress(len(test_images), "test log-likelihood", start_done=len(done))
    scored = [done]
    with StopRequest() as stop:
        for values in evaluation.log_likelihood_batches(model, test_images[len(done):], num_samples=t.eval_samples,
                                                        seed=t.seed, batch_size=t.eval_batch_size, start=len(done)):
            scored.append(values)
            so_far = np.concatenate(scored)
            files.atomic_write(run.partial_log_likelihoods,
                               lambda f, so_far=so_far: np.savez(f, per_image=so_far, key=json.dumps(key)),
                               suffix=".npz")
            progress.update(len(so_far))
            if stop.requested and len(so_far) < len(test_images):
                raise ScoringInterrupted(
                    f"{stop.requested}: stopped the test log-likelihood after {len(so_far)} of {len(test_images)} "
                    f"images; their scores are kept in {run.partial_log_likelihoods}. Rerun the same command to "
                    "score the rest.")
    return np.concatenate(scored)


def _read_partial(path: str, key: dict) -> np.ndarray:
    """The scores saved at `path` if they are of `key`'s scoring; else none (float64 [0])."""
    if not os.path.exists(path):
        return np.zeros([0])
    try:
        with np.load(path) as saved:
            saved_key, per_image = json.loads(str(saved["key"])), np.asarray(saved["per_image"], np.float64)
    except (OSError, ValueError, KeyError) as e:
        log.warning("%s is unreadable (%s); the test images are scored from the first", path, e)
        return np.zeros([0])
    if saved_key != key or len(per_image) > key["num_images"]:
        log.warning("%s holds the scores of another evaluation (%s, not %s); the test images are scored from the "
                    "first", path, saved_key, key)
        return np.zeros([0])
    return per_image


def write_figures(config: Config, run: RunPaths, model, test_images, per_image_ll, history, usage,
                  means: Optional[dict] = None, check=lambda: None) -> dict:
    """samples, reconstructions, pseudo-inputs (most used first), the log-likelihood
    histogram and the learning curves, and on a 3-dimensional sphere the test images' mean
    directions, as PNGs in run.figures; returns {kind: path}. means: the test images'
    evaluation.posterior_means (None: computed here where a figure needs them). check: called
    between figures (a stop request raises there); files a killed run left half-written are removed."""
    files.remove_temporaries(run.figures)
    t = config.train
    score = f"test log p(x) = {float(np.mean(per_image_ll)):.2f} nats" if len(per_image_ll) else "not scored"
    if len(per_image_ll) and model.likelihood.bits_per_dim:
        score += f" ({evaluation.bits_per_dim(float(np.mean(per_image_ll)), config.model.input_dim):.3f} bits/dim)"
    out = {
        "samples": plots.samples(model.mean_images(t.figure_samples, seed=t.seed).numpy(),
                                 os.path.join(run.figures, "samples.png"),
                                 title=f"{os.path.basename(os.path.normpath(run.workdir))}: {config.model.model_name}, "
                                       f"{config.model.prior} prior, {t.dataset}; {score}\nE[x | z], z ~ p(z)"),
    }
    check()
    shown = test_images[np.linspace(0, len(test_images) - 1, min(50, len(test_images))).astype(int)]
    out["reconstructions"] = plots.reconstructions(
        shown, model.reconstruct(shown).numpy(), os.path.join(run.figures, "reconstructions.png"))
    check()
    if model.prior.has_pseudo_inputs:
        order = np.argsort(-usage["usage"], kind="stable")[:100]
        used = f"most used first ({usage['components_used']} of {config.model.num_components} used by test images)"
        pseudo = model.prior.pseudo_inputs.numpy()[order]
        out["pseudo_inputs"] = plots.pseudo_inputs(pseudo, os.path.join(run.figures, "pseudo_inputs.png"),
                                                   title=f"Pseudo-inputs, {used}")
        decoded = pseudo[:25] if model.autoregressive else pseudo  # pixel by pixel: 25 are enough to look at
        out["pseudo_inputs_decoded"] = plots.samples(  # what each component of the prior generates
            model.reconstruct(decoded).numpy(), os.path.join(run.figures, "pseudo_inputs_decoded.png"),
            title=f"Pseudo-inputs decoded (E[x | z] at each one's posterior mean), {used}")
    check()
    out["log_likelihood_histogram"] = plots.log_likelihood_histogram(
        per_image_ll, os.path.join(run.figures, "log_likelihood_histogram.png"),
        title=f"Test log-likelihood (S={t.eval_samples})")
    out["learning_curves"] = plots.learning_curves(history, os.path.join(run.figures, "learning_curves.png"))
    check()
    if model.family.on_sphere and model.latent_width == 3:
        means = means if means is not None else evaluation.posterior_means(model, test_images)
        out["latent_sphere"] = plots.latent_sphere(
            means[model.prior_latent], os.path.join(run.figures, "latent_sphere.png"),
            labels=datasets.labels(t.dataset, "test", t.data_dir, t.test_examples),
            title=f"Test images' posterior mean directions ({config.model.prior} prior)")
    return out
