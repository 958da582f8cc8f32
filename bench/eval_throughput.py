r"""Speed of the importance-sampled log-likelihood (S = 5000) of vamp_tf.evaluation.

    python -m bench.eval_throughput --flagfile=mnist.flags --data_dir=../shared/data \
        --images=200 [--workdir=RUN] [--write_readme]

Uses the weights of --workdir's best checkpoint if given (untrained weights cost the same
arithmetic). Times `evaluation.log_likelihood` on --images test images after a warm-up
call, and prints ms per image, the time for the whole test set, achieved GFLOP/s (matmul
FLOPs from the model's shapes), this machine's matmul GFLOP/s and the peak memory.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from trainers import flags as trainer_flags  # noqa: E402  (the trainer's flags and flagfiles)

_IMAGES = flags.DEFINE_integer("images", 200, "Test images timed.")
_WRITE_README = flags.DEFINE_bool("write_readme", False, "Write the figures into bench/README.md.")


def main(argv):
    del argv
    from bench import common  # pylint: disable=import-outside-toplevel
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
    evaluation.log_likelihood(model, images[:t.eval_batch_size], num_samples=t.eval_samples,
                              batch_size=t.eval_batch_size)  # warm-up
    start = time.perf_counter()
    result = evaluation.log_likelihood(model, images, num_samples=t.eval_samples, batch_size=t.eval_batch_size)
    seconds = time.perf_counter() - start
    per_image = seconds / len(images)
    prior_pairs = model.prior.num_components
    samples = t.eval_samples
    macs = common.model_macs(config.model, {"encoder": 1, "images": 1, "decoder": samples,
                                            "prior_pairs": samples * prior_pairs})
    flops = 2 * macs
    peak = common.matmul_gflops()
    n_test = datasets.info(t.dataset).split_sizes["test"]
    rows = [
        ("model", f"{config.model.model_name}, {config.model.prior} prior, K={config.model.num_components}, "
                  f"latent {config.model.latent_dim}, hidden {config.model.hidden_units}, {t.dataset}"),
        ("weights", checkpoint or "untrained (same arithmetic)"),
        ("importance samples per image", f"{samples}"),
        ("images per step x samples per step", f"{t.eval_batch_size} x 500"),
        ("ms per image", f"{per_image * 1e3:.1f}"),
        (f"whole test set ({n_test} images)", f"{per_image * n_test / 60:.1f} min"),
        ("FLOPs per image", f"{flops / 1e9:.2f} G"),
        ("achieved", f"{flops / per_image / 1e9:.0f} GFLOP/s"),
        ("matmul rate of this machine (2048^3, TF)", f"{peak:.0f} GFLOP/s"),
        ("peak memory (max RSS)", f"{common.peak_memory_mb():.0f} MB"),
        ("mean log-likelihood of the timed images", f"{result['mean']:.2f} nats"),
    ]
    for k, v in rows:
        print(f"{k:50s} {v}")
    if _WRITE_README.value:
        common.write_section(f"eval_throughput ({t.dataset}, {config.model.model_name}, {config.model.prior})",
                             "python -m bench.eval_throughput " + " ".join(os.sys.argv[1:]), rows)


if __name__ == "__main__":
    app.run(main)
