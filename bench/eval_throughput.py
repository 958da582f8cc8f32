r"""Speed of the importance-sampled log-likelihood (S = 5000) of vamp_tf.evaluation.

    python -m bench.eval_throughput --flagfile=mnist.flags --data_dir=../shared/data \
        --images=200 [--workdir=RUN] [--write_readme]

Uses the weights of --workdir's best checkpoint if given (untrained weights cost the same
arithmetic). Times `evaluation.log_likelihood` on --images test images and on one batch of
them, and prints ms per image (the difference over the difference in images: each call
traces its tf.function once, a fixed cost that a 10,000-image test set does not notice, given
apart), the time for the whole test set, achieved GFLOP/s (matmul FLOPs from the model's
shapes), this machine's matmul GFLOP/s, the peak memory, and the floor: the matmuls of one
evaluation step (one batch of images x 500 samples, `model.log_densities`) timed alone with
the same shapes (bench.floor).
"""

import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from bench import options  # noqa: E402  (--write_readme)
from trainers import flags as trainer_flags  # noqa: E402  (the trainer's flags and flagfiles)

_IMAGES = flags.DEFINE_integer("images", 200, "Test images timed.")


def eval_floor(model, batch: int, image_shape):
    """(heavy ops, seconds) of one evaluation step's matmuls timed alone: `model.log_densities` on
    `batch` images x evaluation.SAMPLES_PER_STEP samples, traced with those concrete shapes."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from bench import floor  # pylint: disable=import-outside-toplevel
    from vamp_tf import evaluation  # pylint: disable=import-outside-toplevel

    prior = model.prior.distribution()
    fn = tf.function(lambda x, noise: model.log_densities(x, noise, prior), autograph=False)
    graph = fn.get_concrete_function(
        tf.TensorSpec([batch, *image_shape], tf.float32),
        tf.TensorSpec([batch, evaluation.SAMPLES_PER_STEP, model.noise_dim], tf.float32)).graph
    heavy = floor.heavy_ops(graph)
    return heavy, floor.floor_seconds(heavy)


def element_wise_seconds(model, batch: int, image_shape) -> dict:
    """Seconds of the largest element-wise costs of one evaluation step, each alone on tensors
    of the step's shapes: the noise (evaluation.noise_blocks, as evaluation.log_likelihood draws
    it) and, for the Bernoulli likelihood, the softplus of its
    log-density over batch x SAMPLES_PER_STEP images of logits."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from bench import floor  # pylint: disable=import-outside-toplevel
    from vamp_tf import evaluation  # pylint: disable=import-outside-toplevel

    logits = tf.random.stateless_normal([batch, evaluation.SAMPLES_PER_STEP, *image_shape], seed=[0, 1])
    indices = tf.range(batch, dtype=tf.int64)
    blocks = tf.range(evaluation.SAMPLES_PER_STEP // evaluation.NOISE_BLOCK, dtype=tf.int64)
    noise = tf.function(lambda: evaluation.noise_blocks(0, indices, blocks, model.noise_dim))
    seconds = {"noise": floor.best_seconds(noise)}
    if model.config.likelihood == "bernoulli":
        seconds["softplus"] = floor.best_seconds(tf.function(lambda: tf.nn.softplus(logits)))
    return seconds


def main(argv):
    del argv
    from bench import common, floor  # pylint: disable=import-outside-toplevel
    from vamp_tf import checkpoints, datasets, evaluation, workdir  # pylint: disable=import-outside-toplevel
    from vamp_tf.models import build_model  # pylint: disable=import-outside-toplevel

    config = trainer_flags.config_from_flags()
    t = config.train
    checkpoint = None
    if trainer_flags.WORKDIR.value and workdir.read_config(trainer_flags.WORKDIR.value) is not None:
        model, config, checkpoint = checkpoints.restore_model(trainer_flags.WORKDIR.value)
    else:
        model = build_model(config.model, seed=t.seed)
    images = datasets.examples(t.dataset, "test", t.data_dir, t.split_seed, _IMAGES.value)
    batch = t.eval_batch_size
    if _IMAGES.value <= batch:
        raise app.UsageError(f"--images={_IMAGES.value} must exceed --eval_batch_size={batch} (the per-image time "
                             "is the difference between the two).")

    def timed(x):
        start = time.perf_counter()
        out = evaluation.log_likelihood(model, x, num_samples=t.eval_samples, batch_size=batch)
        return out, time.perf_counter() - start

    timed(images[:batch])  # warm-up
    _, one_batch = timed(images[:batch])
    result, seconds = timed(images)
    per_image = (seconds - one_batch) / (len(images) - batch)
    fixed = one_batch - batch * per_image
    heavy, floor_step = eval_floor(model, batch, images.shape[1:])
    steps_per_image = math.ceil(t.eval_samples / evaluation.SAMPLES_PER_STEP) / batch
    element_wise = element_wise_seconds(model, batch, images.shape[1:])
    samples = t.eval_samples
    flops = common.eval_flops(config.model, model.prior, samples)
    peak = common.matmul_gflops()
    n_test = datasets.info(t.dataset).split_sizes["test"]
    rows = [
        ("model", f"{config.model.model_name}, {config.model.prior} prior, K={config.model.num_components}, "
                  f"latent {config.model.latent_dim}, hidden {config.model.hidden_units}, {t.dataset}"),
        ("weights", checkpoint or "untrained (same arithmetic)"),
        ("importance samples per image", f"{samples}"),
        ("images per step x samples per step", f"{batch} x {evaluation.SAMPLES_PER_STEP}"),
        ("ms per image", f"{per_image * 1e3:.1f}"),
        ("fixed cost of a call (tracing)", f"{fixed:.2f} s"),
        (f"whole test set ({n_test} images)", f"{per_image * n_test / 60:.1f} min"),
        ("FLOPs per image", f"{flops / 1e9:.2f} G"),
        ("achieved", f"{flops / per_image / 1e9:.0f} GFLOP/s"),
        ("matmul rate of this machine (2048^3, TF)", f"{peak:.0f} GFLOP/s"),
        ("achieved / matmul rate", f"{100 * flops / per_image / 1e9 / peak:.0f} %"),
        ("a step's matmuls alone (bench.floor), per image",
         f"{floor_step * steps_per_image * 1e3:.1f} ms ({len(heavy)} ops, "
         f"{2 * floor.macs(heavy) / floor_step / 1e9:.0f} GFLOP/s)"),
        ("share of the evaluation they account for", f"{100 * floor_step * steps_per_image / per_image:.0f} %"),
    ] + [
        (f"a step's {what} alone, per image", f"{seconds * steps_per_image * 1e3:.1f} ms")
        for what, seconds in element_wise.items()
    ] + [
        ("peak memory (max RSS)", f"{common.peak_memory_mb():.0f} MB"),
        ("mean log-likelihood of the timed images", f"{result['mean']:.2f} nats"),
    ]
    for k, v in rows:
        print(f"{k:50s} {v}")
    if options.WRITE_README.value:
        common.write_section(f"eval_throughput ({t.dataset}, {config.model.model_name}, {config.model.prior})",
                             "python -m bench.eval_throughput " + " ".join(os.sys.argv[1:]), rows)


if __name__ == "__main__":
    app.run(main)
