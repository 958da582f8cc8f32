"""Tests of vamp_tf.tensorboard: the smoke run's TensorBoard logs, read back as TensorBoard reads them."""

import os

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator


def _load(path):
    accumulator = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.TENSORS: 0,
                                                                         event_accumulator.IMAGES: 0,
                                                                         event_accumulator.HISTOGRAMS: 0})
    accumulator.Reload()
    return accumulator


@pytest.fixture(scope="module")
def logs(smoke_run):
    _, workdir, results = smoke_run
    root = os.path.join(workdir, "tensorboard")
    return {name: _load(os.path.join(root, name)) for name in ("train", "validation", "test")}, _load(root), results


def _scalars(accumulator, tag):
    return {event.step: float(tf.make_ndarray(event.tensor_proto)) for event in accumulator.Tensors(tag)}


def test_train_and_validation_are_runs_with_the_same_tags_so_they_overlay(logs):
    runs, _, _ = logs
    for tag in ("neg_elbo", "reconstruction", "kl"):
        assert tag in runs["train"].Tags()["tensors"] and tag in runs["validation"].Tags()["tensors"], tag
    train, validation = _scalars(runs["train"], "neg_elbo"), _scalars(runs["validation"], "neg_elbo")
    assert sorted(train) == sorted(validation) == [1, 2]
    assert {"beta", "loss", "seconds"} <= set(runs["train"].Tags()["tensors"])


def test_images_hparams_and_the_final_scores_are_there(logs):
    runs, root, results = logs
    images = runs["train"].Tags()["tensors"]
    assert "samples" in images and "reconstructions" in images  # image summaries (tensors of PNGs), epoch 1
    samples = runs["train"].Tensors("samples")
    assert [e.step for e in samples] == [1] and len(samples[0].tensor_proto.string_val) == 2 + 16  # w, h, 16 PNGs
    plugins = root.PluginTagToContent("hparams")
    assert plugins, "no HParams session"
    metrics = results["metrics"]
    test = _scalars(runs["test"], "test_log_likelihood")
    assert list(test) == [metrics["best_epoch"]] and test[metrics["best_epoch"]] == pytest.approx(
        metrics["test_log_likelihood"], rel=1e-6)
    assert "log_likelihood_per_image" in runs["test"].Tags()["tensors"]
