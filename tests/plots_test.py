"""Tests of vamp_tf.plots."""

import os

import matplotlib.image
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


def test_young_pseudo_inputs_are_drawn_with_their_structure_not_black(tmp_path):
    rng = np.random.default_rng(1)
    young = np.clip(0.05 + 0.01 * rng.standard_normal((16, 28, 28, 1)), 0, 1).astype(np.float32)  # their init
    young[:, 10:18, 12:16] += 0.03  # a faint stroke
    path = plots.pseudo_inputs(young, str(tmp_path / "p.png"))
    drawn = matplotlib.image.imread(path)[..., :3].mean(-1)
    inside = drawn[drawn.shape[0] // 10:, :]  # below the title
    assert np.percentile(inside, 95) - np.percentile(inside, 5) > 0.6  # the full gray range, not near-black
    stretched = plots.own_contrast(young)
    np.testing.assert_allclose(stretched.reshape(16, -1).min(1), 0.0)
    np.testing.assert_allclose(stretched.reshape(16, -1).max(1), 1.0)
    assert np.all(plots.own_contrast(np.full((2, 3, 3, 1), 0.2)) == 0.5)  # a flat image: mid-gray, no NaN


def _history(epochs):
    return [{"epoch": e, "train_neg_elbo": 300 - e, "train_reconstruction": -250.0 - 1000 * (e % 2), "train_kl": 10,
             "validation_neg_elbo": 301 - e, "validation_reconstruction": -251.0, "validation_kl": 10}
            for e in range(1, epochs + 1)]


def _overlap(a, b):
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


def test_learning_curves_have_whole_epochs_and_labels_clear_of_their_ticks():
    for epochs in (3, 7, 40):
        fig = plots.learning_curves_figure(_history(epochs))
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks), (epochs, ticks)
            label = ax.yaxis.label.get_window_extent(renderer)
            for tick in ax.get_yticklabels():
                if tick.get_text():
                    assert not _overlap(label, tick.get_window_extent(renderer)), (ax.get_ylabel(), tick.get_text())


def test_the_histogram_counts_whole_images():
    fig = plots.histogram_figure(np.array([-90.0, -91.0, -95.0]))
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_the_pareto_frontier_keeps_only_the_points_nothing_beats_on_both_axes():
    rate = [10.0, 20.0, 15.0, 30.0, 20.0]
    distortion = [90.0, 70.0, 85.0, 69.0, 75.0]  # (15, 85) and (20, 75) are on; (20, 75) is beaten by (20, 70)
    np.testing.assert_array_equal(plots.pareto_frontier(rate, distortion), [0, 2, 1, 3])
    np.testing.assert_array_equal(plots.pareto_frontier([5.0, 5.0], [60.0, 60.0]), [0, 1])  # ties beat nothing


def test_the_rate_distortion_plane_draws_points_frontiers_and_equal_elbo_lines(tmp_path):
    groups = {"standard prior": {"rate": [20.0, 25.0, 30.0], "distortion": [75.0, 66.0, 61.0],
                                 "labels": ["β=4", "β=1", "β=0.25"]},
              "VampPrior": {"rate": [21.0, 26.0], "distortion": [72.0, 64.0], "labels": ["β=4", "β=1"]}}
    fig = plots.rate_distortion_figure(groups, "plane")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert {"β=4", "β=1", "β=0.25"} <= set(texts)
    assert any(t.startswith("-ELBO ") for t in texts)
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert dashed and all(np.allclose(np.sum(line.get_xydata(), axis=1), np.sum(line.get_xydata()[0]))
                          for line in dashed)  # D + R constant along each
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["standard prior (frontier)", "VampPrior (frontier)"]
    assert "rate" in ax.get_xlabel() and "distortion" in ax.get_ylabel()
    assert os.path.getsize(plots.rate_distortion_plane(groups, str(tmp_path / "p.png"))) > 1000
