"""Tests of bench/common.py: the FLOP count behind "achieved GFLOP/s", and README sections."""

from bench import common
from vamp_tf import config


def test_flops_of_the_papers_model_match_a_hand_count():
    m = config.ModelConfig()  # MNIST, K = 500, latent 40, hidden 300
    encoder = 784 * 600 + 300 * 600 + 300 * 80      # gated layers are [in, 2h] matmuls; head [h, 2L]
    decoder = 40 * 600 + 300 * 600 + 300 * 784
    step = common.dense_macs(m, {"encoder": 100 + 500, "decoder": 100, "prior_pairs": 100 * 500})
    assert step == 600 * encoder + 100 * decoder + 100 * 500 * 80
    assert round(3 * 2 * step / 100 / 1e6, 1) == 27.2  # MFLOP per training example (fwd + bwd)


def test_write_section_replaces_its_own_section_only(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\nintro\n")
    monkeypatch.setattr(common, "README", str(readme))
    common.write_section("a", "cmd a", [("x", "1")])
    common.write_section("b", "cmd b", [("y", "2")])
    common.write_section("a", "cmd a", [("x", "3")])
    common.write_section("c (mnist, hvae/conv, vamp)", "cmd c", [("z", "4")])  # a name with regex characters
    common.write_section("c (mnist, hvae/conv, vamp)", "cmd c", [("z", "5")])
    text = readme.read_text()
    assert text.count("<!-- a:begin -->") == 1 and "| x | 3 |" in text and "| x | 1 |" not in text
    assert "| y | 2 |" in text and text.startswith("# Benchmarks\n\nintro")
    assert text.count("<!-- c (mnist, hvae/conv, vamp):begin -->") == 1 and "| z | 5 |" in text


def test_write_section_keeps_one_copy_of_a_section_an_older_readme_repeats(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    old = "<!-- a:begin -->\nold a\n<!-- a:end -->"
    readme.write_text(f"# Benchmarks\n\n{old}\n\n<!-- b:begin -->\nb\n<!-- b:end -->\n\n{old}\n\ntail\n")
    monkeypatch.setattr(common, "README", str(readme))
    common.write_section("a", "cmd a", [("x", "9")])
    text = readme.read_text()
    assert text.count("<!-- a:begin -->") == 1 and "old a" not in text and "| x | 9 |" in text
    assert text.index("| x | 9 |") < text.index("<!-- b:begin -->") and text.endswith("<!-- b:end -->\n\ntail\n")


def test_flop_counts_of_every_architecture_match_tensorflows_own_count():
    """The hand counts equal TensorFlow's profiler count of the MatMul and Conv2D ops of a
    traced log_densities (2 images, 3 importance samples each)."""
    import pytest
    import tensorflow as tf
    from vamp_tf import models
    cases = [("hvae", "dense", "gaussian"), ("hvae", "conv", "gaussian"), ("hvae", "conv_reference", "gaussian"),
             ("hvae", "conv_reference", "power_spherical"), ("hvae", "pixelcnn", "gaussian"),
             ("hvae", "pixelcnn_reference", "gaussian"), ("hvae", "pixelcnn_reference_full", "gaussian"),
             ("hvae", "dense", "power_spherical"), ("vae", "dense", "power_spherical"),
             ("vae", "relu_mlp", "gaussian"), ("vae", "relu_mlp", "power_spherical")]
    for model, architecture, posterior in cases:
        cfg = config.ModelConfig(input_shape=(28, 20, 1), likelihood="discretized_logistic", model=model,
                                 prior="standard", architecture=architecture, posterior=posterior, latent_dim=6,
                                 hidden_units=10)
        net = models.build_model(cfg)
        prior = net.prior.distribution()
        fn = tf.function(lambda x, noise: net.log_densities(x, noise, prior), autograph=False)
        graph = fn.get_concrete_function(tf.TensorSpec([2, 28, 20, 1]), tf.TensorSpec([2, 3, net.noise_dim])).graph
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options.update(account_type_regexes=["Conv2D", "MatMul", "BatchMatMulV2"], output="none")
        counted = tf.compat.v1.profiler.profile(graph, options=options).total_float_ops
        expected = 2 * common.model_macs(cfg, {"encoder": 2, "images": 2, "decoder": 6})
        assert counted == expected, (model, architecture, posterior)
    with pytest.raises(ValueError, match="use conv_macs"):
        common.dense_macs(config.ModelConfig(model="hvae", architecture="conv"), {"encoder": 1, "decoder": 1})


def test_train_and_test_flops_count_the_pseudo_inputs_and_the_samples():
    from vamp_tf import models
    m = config.ModelConfig(hidden_units=8, latent_dim=3, num_components=5)  # a VampPrior
    prior = models.build_model(m).prior
    step = common.dense_macs(m, {"encoder": 4 + 5, "decoder": 4, "prior_pairs": 4 * 5})
    assert common.train_step_flops(m, prior, 4) == 3 * 2 * step
    assert common.eval_flops(m, prior, 7) == 2 * common.dense_macs(m, {"encoder": 1, "decoder": 7,
                                                                         "prior_pairs": 7 * 5})
    standard = config.ModelConfig(hidden_units=8, latent_dim=3, prior="standard")
    std_prior = models.build_model(standard).prior
    assert common.train_step_flops(standard, std_prior, 4) == 3 * 2 * common.dense_macs(
        standard, {"encoder": 4, "decoder": 4})
