"""Tests of bench/flop_counts.py: a flagfile's counts are the model's, the ratio pairs the right models."""

import types

import pytest
from absl import app, flags

from bench import flop_counts


@pytest.fixture
def restore_flags():
    yield
    flags.FLAGS.unparse_flags()


def test_counts_of_the_papers_mnist_hvae_are_its_hand_count(restore_flags):
    found = flop_counts.counts("experiments/paper/mnist_hvae_vamp.flags")
    model = found["config"].model
    assert (model.model, model.architecture, model.num_components) == ("hvae", "dense", 500)
    d, h, latent = 784, 300, 40
    encoder = d * 2 * h + h * 2 * h + h * 2 * latent
    decoder = (latent * 2 * h + 2 * h * 2 * h + h * 2 * latent) + (latent * 2 * h + h * 2 * h + h * 2 * latent) + (
        2 * latent * 2 * h + 2 * h * 2 * h + h * d)
    macs = 600 * encoder + 100 * d * 2 * h + 100 * decoder + 2 * latent * 100 * 500
    assert found["train"] == 3 * 2 * macs / 100
    # one image through q(z2 | x) and q(z1 | x, z2)'s x layer, 5000 samples through the rest and the prior
    assert found["test"] == 2 * (encoder + d * 2 * h + 5000 * decoder + 2 * latent * 5000 * 500)


def test_a_missing_flagfile_is_named(restore_flags):
    with pytest.raises(app.UsageError, match="no file 'experiments/paper/nope.flags'"):
        flop_counts.config_of("experiments/paper/nope.flags")


def test_ratios_pair_each_convolutional_model_with_the_dense_hvae_of_its_dataset_and_prior():
    def entry(dataset, prior, architecture, train):
        cfg = types.SimpleNamespace(train=types.SimpleNamespace(dataset=dataset),
                                    model=types.SimpleNamespace(model="hvae", prior=prior, architecture=architecture))
        return {"config": cfg, "train": train}
    found = {"a": entry("mnist", "vamp", "dense", 2.0), "b": entry("mnist", "vamp", "conv", 110.0),
             "c": entry("mnist", "standard", "dense", 1.0), "d": entry("mnist", "standard", "pixelcnn", 60.0),
             "e": entry("frey_faces", "vamp", "conv", 7.0)}  # no dense twin: left out
    assert sorted(flop_counts.ratios(found)) == [55.0, 60.0]
