"""A run's TensorBoard logs (workdir/tensorboard/): what `tensorboard --logdir=runs/NAME/tensorboard` shows.

- `train/` and `validation/`: the epoch's -ELBO, reconstruction and KL under the same tags
  (neg_elbo, reconstruction, kl), so TensorBoard overlays the two runs on one chart; the KL weight
  beta, the training loss and the epoch's seconds go with train/.
- images every `image_every` epochs, on train/: samples (E[x | z] at a fixed set of z ~ p(z)) and
  reconstructions of a fixed batch of validation images beside the images themselves (cheap: 16
  and 8 images; the PixelHVAE draws 4 pixel by pixel).
- the hyperparameters (HParams plugin: the ModelConfig and the protocol), once, in the run's own
  directory (the session whose sub-runs train/, validation/, test/ hold its metrics) and, at the end,
  on test/: the test log-likelihood, bits/dim, the test ELBO terms and the per-image log-likelihood
  histogram, at the best epoch, so the HParams table lists every run with its score.
Writes flush at once; a full disk or a vanished folder is a files.StorageError naming it.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from vamp_tf import files

IMAGE_EVERY = 10  # epochs between image summaries (and the first epoch)
FIRST = ("train.dataset", "model.model", "model.prior", "model.latent_dim", "model.num_components")  # shown first


def _hparams(config) -> dict:
    """The run's settings as HParams (strings, numbers, booleans), the ones that tell runs apart first
    (TensorBoard's HParams table shows its first few columns)."""
    out = {}
    for section, values in config.to_dict().items():
        for key, value in values.items():
            if key in ("data_dir",):
                continue
            value = list(value) if isinstance(value, tuple) else value
            out[f"{section}.{key}"] = value if isinstance(value, (bool, int, float, str)) else str(value)
    return {key: out[key] for key in sorted(out, key=lambda k: (FIRST.index(k) if k in FIRST else len(FIRST), k))}


class RunSummaries:
    """The TensorBoard writers of one run (chief only; others get no-op writers).

    directory: workdir/tensorboard. images: a fixed batch of validation images [n, H, W, C]
    (reconstructed every image_every epochs); seed: the seed of the samples' z.
    """

    def __init__(self, directory: str, config, images: np.ndarray, seed: int, active: bool = True,
                 image_every: int = IMAGE_EVERY):
        self.directory, self.image_every, self.seed = directory, image_every, seed
        self.images = np.asarray(images, np.float32)
        self.config = config
        try:
            make = tf.summary.create_file_writer if active else (lambda _: tf.summary.create_noop_writer())
            self.writers = {name: make(os.path.join(directory, name)) for name in ("train", "validation", "test")}
            self.writers["run"] = make(directory)  # the HParams session: its sub-runs hold the metrics
        except (tf.errors.OpError, OSError) as e:
            raise files.storage_error(directory, e) from e
        self._write_hparams_once(active)

    def _guard(self, write):
        try:
            write()
            for writer in self.writers.values():
                writer.flush()
        except (tf.errors.OpError, OSError) as e:
            raise files.storage_error(self.directory, e) from e

    def _write_hparams_once(self, active: bool):
        from tensorboard.plugins.hparams import api as hp  # pylint: disable=import-outside-toplevel
        marker = os.path.join(self.directory, ".hparams_written")
        if not active or os.path.exists(marker):  # a resumed run wrote them already
            return

        def write():
            run_name = os.path.basename(os.path.dirname(os.path.abspath(self.directory)))
            values = _hparams(self.config)
            metrics = [hp.Metric("test_log_likelihood", group="test", display_name="test log p(x) [nats]"),
                       hp.Metric("bits_per_dim", group="test", display_name="bits/dim"),
                       hp.Metric("neg_elbo", group="validation", display_name="validation -ELBO")]
            with self.writers["run"].as_default():
                hp.hparams_config(hparams=[hp.HParam(name) for name in values], metrics=metrics)
                hp.hparams(values, trial_id=run_name)
            self.writers["run"].flush()
            files.write_bytes(marker, b"")
        self._guard(write)

    def epoch(self, item: dict, model=None) -> None:
        """An epoch's history entry (vamp_tf.history) as scalars; images too on every image_every-th epoch and
        the first, when `model` is given: a callable returning the model with the current weights in float32
        (Trainer.eval_model), called only on those epochs."""
        def write():
            with self.writers["train"].as_default(step=item["epoch"]):
                for key, value in item.items():
                    if key == "epoch" or key.startswith("validation_") or not isinstance(value, (int, float)):
                        continue
                    tf.summary.scalar(key[len("train_"):] if key.startswith("train_") else key, value)
                if model is not None and (item["epoch"] == 1 or item["epoch"] % self.image_every == 0):
                    self._images(model())
            with self.writers["validation"].as_default(step=item["epoch"]):
                for key, value in item.items():
                    if key.startswith("validation_"):
                        tf.summary.scalar(key[len("validation_"):], value)
        self._guard(write)

    def _images(self, model):
        n = 4 if model.autoregressive else 16
        tf.summary.image("samples", model.mean_images(n, seed=self.seed), max_outputs=n,
                         description="E[x | z] at fixed z ~ p(z), the same every time")
        shown = self.images[:4 if model.autoregressive else 8]
        pairs = np.concatenate([shown, model.reconstruct(shown, seed=self.seed).numpy()], axis=2)  # side by side
        tf.summary.image("reconstructions", pairs, max_outputs=len(pairs),
                         description="validation images (left) and their reconstructions (right)")

    def test(self, metrics: dict, per_image_log_likelihood: np.ndarray, step: int) -> None:
        """The final test scores at `step` (the best epoch) and the per-image log-likelihood histogram."""
        def write():
            with self.writers["test"].as_default(step=step):
                for key in ("test_log_likelihood", "bits_per_dim", "test_elbo", "test_reconstruction", "test_kl"):
                    if key in metrics:
                        tf.summary.scalar(key, metrics[key])
                if len(per_image_log_likelihood):
                    tf.summary.histogram("log_likelihood_per_image", per_image_log_likelihood)
        self._guard(write)
