"""Tests of vamp_tf.config."""

import pytest

from vamp_tf import config


def test_defaults_are_the_papers_protocol():
    t = config.TrainConfig()
    assert (t.batch_size, t.learning_rate, t.warmup_epochs, t.early_stopping_patience, t.eval_samples) == (
        100, 5e-4, 100, 50, 5000)
    m = config.ModelConfig()
    assert (m.latent_dim, m.hidden_units, m.num_components, m.prior) == (40, 300, 500, "vamp")


def test_pseudo_input_defaults_depend_on_the_likelihood():
    assert (config.ModelConfig().pseudo_mean, config.ModelConfig().pseudo_std) == (0.05, 0.01)
    gray = config.ModelConfig(likelihood="discretized_logistic", input_shape=(28, 20, 1))
    assert (gray.pseudo_mean, gray.pseudo_std) == (0.5, 0.02)


def test_round_trip_and_differences():
    c = config.Config(config.ModelConfig(latent_dim=10), config.TrainConfig(seed=3))
    assert config.Config.from_dict(c.to_dict()) == c
    other = config.Config(config.ModelConfig(latent_dim=20), config.TrainConfig(seed=3, epochs=5))
    assert other.differences(c) == ["model.latent_dim: 10 -> 20"]  # epochs may change on resume


@pytest.mark.parametrize("field,value", [
    ("epochs", 0), ("batch_size", -1), ("learning_rate", 0.0), ("optimizer", "sgd"), ("eval_samples", 0),
    ("strategy", "tpu"), ("early_stopping_patience", 0), ("warmup_epochs", -1), ("train_examples", -5)])
def test_bad_train_config_raises_value_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        config.TrainConfig(**{field: value})


def test_probability_clamp_is_checked_and_old_configs_read_as_exact():
    assert config.ModelConfig().probability_clamp == 0.0
    assert config.ModelConfig(probability_clamp=1e-5).probability_clamp == 1e-5
    floored = config.ModelConfig(likelihood="discretized_logistic", input_shape=(28, 20, 1), probability_clamp=1e-7)
    assert floored.probability_clamp == 1e-7  # the discretized logistic's P + c
    with pytest.raises(ValueError, match="probability_clamp"):
        config.ModelConfig(likelihood="discretized_logistic", input_shape=(28, 20, 1), probability_clamp=0.5)
    with pytest.raises(ValueError, match="probability_clamp"):
        config.ModelConfig(probability_clamp=0.7)
    stored = config.Config(config.ModelConfig(), config.TrainConfig()).to_dict()
    del stored["model"]["probability_clamp"]  # a run recorded before the field existed
    assert config.Config.from_dict(stored).model.probability_clamp == 0.0


def test_select_after_warmup_is_off_by_default_old_configs_read_as_off_and_needs_a_full_kl_epoch():
    assert config.TrainConfig().select_after_warmup is False  # the paper's code: the best of any epoch
    stored = config.Config(config.ModelConfig(), config.TrainConfig()).to_dict()
    del stored["train"]["select_after_warmup"]  # a run recorded before the field existed
    assert config.Config.from_dict(stored).train.select_after_warmup is False
    assert config.TrainConfig(epochs=100, warmup_epochs=100, select_after_warmup=True).select_after_warmup
    with pytest.raises(ValueError, match="select_after_warmup=True with epochs=50 < warmup_epochs=100"):
        config.TrainConfig(epochs=50, select_after_warmup=True)


def test_batch_norm_defaults_are_the_papers_codes_and_old_configs_read_back_as_trained():
    m = config.ModelConfig()
    assert (m.batch_norm_momentum, m.batch_norm_epsilon) == (0.9, 1e-5)  # PyTorch's momentum 0.1, eps 1e-5
    pixel = config.ModelConfig(model="hvae", architecture="pixelcnn")
    for current in (m, pixel):
        stored = config.Config(current, config.TrainConfig()).to_dict()
        for key in ("batch_norm_momentum", "batch_norm_epsilon"):
            del stored["model"][key]  # a run configured before the fields existed
        old = config.Config.from_dict(stored)
        if current is pixel:  # trained with Keras' defaults: resuming it needs them again
            assert (old.model.batch_norm_momentum, old.model.batch_norm_epsilon) == (0.99, 1e-3)
            assert config.Config(pixel, config.TrainConfig()).differences(old)
        else:  # no batch normalisation: an old dense run resumes with today's flags
            assert old.model == m and not config.Config(m, config.TrainConfig()).differences(old)
    assert config.Config.from_dict(config.Config(m, config.TrainConfig()).to_dict()).model == m
    with pytest.raises(ValueError, match="batch_norm_momentum"):
        config.ModelConfig(batch_norm_momentum=1.0)


def test_keep_last_batch_and_gray_values_default_to_ours_read_old_configs_so_and_are_checked():
    t = config.TrainConfig()
    assert (t.keep_last_batch, t.gray_values) == (False, "grid")
    stored = config.Config(config.ModelConfig(), t).to_dict()
    for key in ("keep_last_batch", "gray_values"):
        del stored["train"][key]  # a run configured before the fields existed
    assert config.Config.from_dict(stored).train == t
    gray = config.ModelConfig(likelihood="discretized_logistic", input_shape=(28, 20, 1))
    code = config.Config(gray, config.TrainConfig(dataset="frey_faces", gray_values="bin_centres", keep_last_batch=True))
    assert code.differences(config.Config(gray, config.TrainConfig(dataset="frey_faces"))) == [
        "train.gray_values: 'grid' -> 'bin_centres'", "train.keep_last_batch: False -> True"]  # not resumable
    with pytest.raises(ValueError, match="gray_values='centres'.*allowed: grid, bin_centres"):
        config.TrainConfig(gray_values="centres")
    with pytest.raises(ValueError, match="gray_values='bin_centres'.*likelihood='bernoulli'.*drop --gray_values"):
        config.Config(config.ModelConfig(), config.TrainConfig(gray_values="bin_centres"))


_TRAIN_NUMBERS = ["learning_rate", "beta", "divergence_factor"]
_MODEL_NUMBERS = ["batch_norm_epsilon", "pseudo_std", "pseudo_mean", "batch_norm_momentum", "probability_clamp"]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize("section,field", [("train", f) for f in _TRAIN_NUMBERS] + [("model", f) for f in _MODEL_NUMBERS])
def test_non_finite_settings_are_refused_naming_the_field(section, field, value):
    make = config.TrainConfig if section == "train" else config.ModelConfig
    with pytest.raises(ValueError, match=f"{field}={value!r} is invalid"):
        make(**{field: value})


def test_a_non_finite_setting_says_it_must_be_finite_and_a_bool_is_not_a_number():
    with pytest.raises(ValueError, match="beta=inf is invalid; it must be a finite number > 0"):
        config.TrainConfig(beta=float("inf"))
    with pytest.raises(ValueError, match="epochs=True is invalid"):
        config.TrainConfig(epochs=True)
