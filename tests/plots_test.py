"""Tests of vamp_tf.plots."""

import os

import numpy as np

from vamp_tf import plots


def test_image_grid_places_every_image():
    images = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3, 1) / 30
    grid = plots.image_grid(images, columns=3, pad=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1)
    np.testing.assert_array_equal(grid[1:3, 1:4], images[0, ..., 0])
    np.testing.assert_array_equal(grid[4:6, 5:8], images[4, ..., 0])


def test_every_figure_is_written(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((6, 28, 20, 1))
    history = [{"epoch": e, "train_neg_elbo": 100 - e, "train_reconstruction": -90 + e, "train_kl": 10,
                "validation_neg_elbo": 101 - e, "validation_reconstruction": -91 + e, "validation_kl": 10}
               for e in range(1, 8)]
    paths = [plots.samples(x, str(tmp_path / "a.png")), plots.pseudo_inputs(x, str(tmp_path / "b.png")),
             plots.reconstructions(x, x[::-1], str(tmp_path / "c.png")),
             plots.log_likelihood_histogram(rng.normal(-90, 5, 100), str(tmp_path / "d.png")),
             plots.learning_curves(history, str(tmp_path / "e.png"))]
    sphere = rng.normal(size=(50, 3))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    paths += [plots.latent_sphere(sphere, str(tmp_path / "f.png"), labels=rng.integers(0, 10, 50)),
              plots.latent_sphere(sphere, str(tmp_path / "g.png"))]
    for path in paths:
        assert os.path.getsize(path) > 1000
