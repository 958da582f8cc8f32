"""Figures of a run: samples, reconstructions, pseudo-inputs, log-likelihood histogram,
learning curves. Each function takes arrays and a path and writes one PNG.

Figures are drawn on matplotlib's Agg canvas directly (matplotlib.figure.Figure, no
pyplot), so no display is needed and matplotlib's global backend is never changed.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vamp_tf import files


def image_grid(images: np.ndarray, columns: Optional[int] = None, pad: int = 1) -> np.ndarray:
    """[N, H, W, 1] or [N, H, W] in [0, 1] -> one [rows * (H + pad), columns * (W + pad)] image."""
    images = np.asarray(images, np.float32)
    if images.ndim == 4:
        images = images[..., 0]
    n, h, w = images.shape
    columns = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / columns))
    grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = image
    return grid


def _subplots(ncols: int = 1, figsize=(6, 4)):
    fig = Figure(figsize=figsize, layout="constrained")  # labels and tick labels never overlap
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def own_contrast(images: np.ndarray) -> np.ndarray:
    """Each image [N, H, W, ...] stretched to [0, 1] on its own (min to max; a flat image becomes mid-gray),
    so that pseudo-inputs early in training (all near their initial 0.05) show their structure."""
    images = np.asarray(images, np.float32)
    axes = tuple(range(1, images.ndim))
    low, high = images.min(axis=axes, keepdims=True), images.max(axis=axes, keepdims=True)
    spread = high - low
    return np.where(spread > 1e-6, (images - low) / np.maximum(spread, 1e-6), 0.5).astype(np.float32)


def _save(fig, path: str) -> str:
    """Saves the figure atomically (files.atomic_write: a full disk raises StorageError and
    leaves no half-drawn PNG)."""
    return files.atomic_write(path, lambda f: fig.savefig(f, dpi=100, bbox_inches="tight", format="png"),
                              suffix=".png")


def grid_figure(images, title, columns=None) -> Figure:
    """One figure of images [N, H, W, 1] in [0, 1] on a grid, gray 0 black to 1 white."""
    grid = image_grid(images, columns)
    # About two screen pixels per image pixel: legible, and a few tens of kB per figure.
    fig, ax = _subplots(figsize=(min(8, grid.shape[1] / 45 + 0.5), min(8, grid.shape[0] / 45 + 0.8)))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, wrap=True)
    return fig


def _show_grid(images, path, title, columns=None):
    return _save(grid_figure(images, title, columns), path)


def latent_sphere(points: np.ndarray, path: str, labels: Optional[np.ndarray] = None,
                  title: str = "Posterior mean directions on the sphere") -> str:
    """Points on the unit sphere in R^3 [N, 3] (e.g. the test images' posterior mean directions),
    coloured by their class labels [N] when given, seen from two opposite sides."""
    points = np.asarray(points, np.float64)
    fig = Figure(figsize=(10, 5))
    FigureCanvasAgg(fig)
    u, v = np.mgrid[0:2 * np.pi:40j, 0:np.pi:20j]
    for i, azimuth in enumerate((30, 210)):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.85", linewidth=0.3)
        colours = labels if labels is not None else "tab:blue"
        scatter = ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=colours, cmap="tab10", s=4,
                             vmin=-0.5, vmax=9.5, depthshade=False)
        ax.view_init(elev=20, azim=azimuth)
        ax.set_box_aspect((1, 1, 1))
        ax.set_axis_off()
    if labels is not None:
        fig.colorbar(scatter, ax=fig.axes, ticks=range(10), shrink=0.6, label="class")
    fig.suptitle(title)
    return _save(fig, path)


def samples(images: np.ndarray, path: str, title: str = "Samples") -> str:
    """Generated images [N, H, W, 1] in [0, 1]."""
    return _show_grid(images, path, title)


def pseudo_inputs(images: np.ndarray, path: str, title: str = "Pseudo-inputs") -> str:
    """The VampPrior's pseudo-inputs [K, H, W, 1] in [0, 1], each on its own contrast scale (own_contrast):
    on the fixed 0-1 scale a young run's pseudo-inputs, all near their initial 0.05, are black."""
    return _show_grid(own_contrast(images), path, title + " (each on its own contrast scale)")


def reconstructions(originals: np.ndarray, reconstructed: np.ndarray, path: str,
                    title: str = "Test images (odd columns) and reconstructions (even columns)") -> str:
    """Pairs side by side: originals and reconstructions, each [N, H, W, 1]."""
    n = len(originals)
    pairs = np.stack([originals, reconstructed], axis=1).reshape((2 * n,) + originals.shape[1:])
    columns = 2 * int(math.ceil(math.sqrt(n)))
    return _show_grid(pairs, path, title, columns=columns)


def histogram_figure(per_image: np.ndarray, title: str = "Test log-likelihood") -> Figure:
    """Histogram of per-image log-likelihoods (nats), mean marked; integer counts on the y axis."""
    fig, ax = _subplots(figsize=(6, 4))
    ax.hist(per_image, bins=60, color="tab:blue", alpha=0.8)
    mean = float(np.mean(per_image))
    ax.axvline(mean, color="k", linestyle="--", label=f"mean {mean:.2f}")
    ax.set_xlabel("log p(x) [nats]")
    ax.set_ylabel("test images")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.legend()
    return fig


def log_likelihood_histogram(per_image: np.ndarray, path: str, title: str = "Test log-likelihood") -> str:
    """Histogram of per-image log-likelihoods (nats), mean marked (histogram_figure)."""
    return _save(histogram_figure(per_image, title), path)


def learning_curves(history: Sequence[dict], path: str) -> str:
    """The learning curves (learning_curves_figure) as a PNG."""
    return _save(learning_curves_figure(history), path)


def learning_curves_figure(history: Sequence[dict]) -> Figure:
    """Train/validation -ELBO, reconstruction (-log p(x|z)) and KL per epoch.

    history: one dict per epoch with 'epoch', 'train_neg_elbo', 'train_reconstruction',
    'train_kl' and, on validated epochs, 'validation_neg_elbo', 'validation_reconstruction',
    'validation_kl' (reconstruction stored as log p(x|z), plotted negated).
    """
    fig, axes = _subplots(3, figsize=(15, 4))
    panels = [("neg_elbo", "-ELBO [nats]", 1.0), ("reconstruction", "RE = -log p(x|z) [nats]", -1.0),
              ("kl", "KL [nats]", 1.0)]
    for ax, (key, label, sign) in zip(axes, panels):
        for split, style in (("train", "-"), ("validation", "--")):
            points = [(h["epoch"], sign * h[f"{split}_{key}"]) for h in history if f"{split}_{key}" in h]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, style, label=split)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        if key == "neg_elbo" and len(history) > 5:  # the first epochs dwarf the rest
            values = [sign * h[f"train_{key}"] for h in history[len(history) // 10:]]
            low, high = min(values), max(values)
            ax.set_ylim(low - 0.1 * (high - low + 1), high + 0.5 * (high - low + 1))
    fig.suptitle("Learning curves")
    return fig


def pareto_frontier(rate: Sequence[float], distortion: Sequence[float]) -> np.ndarray:
    """Indices of the points no other point beats on both axes (lower or equal rate and distortion,
    one of them strictly), ordered by rate: the frontier a family of models traces on the plane."""
    rate, distortion = np.asarray(rate, np.float64), np.asarray(distortion, np.float64)
    keep = [i for i in range(len(rate))
            if not np.any((rate <= rate[i]) & (distortion <= distortion[i])
                          & ((rate < rate[i]) | (distortion < distortion[i])))]
    return np.asarray(sorted(keep, key=lambda i: rate[i]), np.int64)


def rate_distortion_figure(groups: dict, title: str = "Rate and distortion") -> Figure:
    """Distortion D against rate R (nats), after Alemi et al. (2018).

    groups: {name (a prior): {"rate": [n], "distortion": [n], "labels": [n] str}}: each point is
    drawn and labelled (with its beta), each group's Pareto frontier joined by a line, and the
    lines of equal -ELBO = D + R (slope -1) through round values across the points' range.
    """
    fig, ax = _subplots(figsize=(7, 5))
    all_r = np.concatenate([np.asarray(g["rate"], np.float64) for g in groups.values()])
    all_d = np.concatenate([np.asarray(g["distortion"], np.float64) for g in groups.values()])
    pad_r, pad_d = 0.08 * (np.ptp(all_r) + 1.0), 0.08 * (np.ptp(all_d) + 1.0)
    r_lim = (max(0.0, all_r.min() - pad_r), all_r.max() + pad_r)
    d_lim = (max(0.0, all_d.min() - pad_d), all_d.max() + pad_d)
    low, high = (all_r + all_d).min(), (all_r + all_d).max()
    step = max(1.0, float(10 ** np.floor(np.log10(max(high - low, 1.0)))) / 2)
    for total in np.arange(np.floor(low / step) * step, high + step, step):
        xs = np.array(r_lim)
        ax.plot(xs, total - xs, color="0.8", lw=0.8, ls="--", zorder=0)
        # labelled at the upper-left end of its visible part (top or left edge), away from the points
        at = (max(r_lim[0], total - d_lim[1]), min(d_lim[1], total - r_lim[0]))
        if at[0] <= r_lim[1] and at[1] >= d_lim[0]:
            ax.annotate(f"-ELBO {total:g}", at, textcoords="offset points", xytext=(2, -2), fontsize=7,
                        color="0.5", ha="left", va="top")
    for name, group in groups.items():
        rate, distortion = np.asarray(group["rate"], np.float64), np.asarray(group["distortion"], np.float64)
        front = pareto_frontier(rate, distortion)
        (line,) = ax.plot(rate[front], distortion[front], "-", lw=1.2, label=f"{name} (frontier)")
        ax.plot(rate, distortion, "o", color=line.get_color())
        for r, d, label in zip(rate, distortion, group["labels"]):
            ax.annotate(label, (r, d), textcoords="offset points", xytext=(4, 4), fontsize=8, color=line.get_color())
    ax.set_xlim(*r_lim)
    ax.set_ylim(*d_lim)
    ax.set_xlabel("rate R = E KL(q(z|x) || p(z)) [nats]")
    ax.set_ylabel("distortion D = -E log p(x|z) [nats]")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    return fig


def rate_distortion_plane(groups: dict, path: str, title: str = "Rate and distortion") -> str:
    """The rate-distortion plane (rate_distortion_figure) as a PNG."""
    return _save(rate_distortion_figure(groups, title), path)
