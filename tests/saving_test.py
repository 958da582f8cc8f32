"""Tests of vamp_tf.models.saving: a damaged .keras file is refused in one sentence naming it."""

import numpy as np
import pytest

from vamp_tf import config, models


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    model = models.build_model(config.ModelConfig(latent_dim=2, hidden_units=8, num_components=3), seed=0)
    model.build_weights()
    path = str(tmp_path_factory.mktemp("saved") / "model.keras")
    model.save(path)
    return model, path


def test_a_whole_file_loads_as_the_model(saved):
    model, path = saved
    loaded = models.load_model(path)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _damaged(saved, tmp_path, how):
    data = bytearray(open(saved[1], "rb").read())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "zeroed":
        middle = len(data) // 2
        data[middle:middle + 4096] = bytes(4096)
    path = tmp_path / f"{how}.keras"
    path.write_bytes(bytes(data) if how != "not a zip" else b"just some text, not a zip at all")
    return str(path)


@pytest.mark.parametrize("how,message", [
    ("truncated", "truncated.keras is not a whole Keras model file \\(.*\\): it is truncated or damaged; save the "
                  "model again"),
    ("zeroed", "zeroed.keras is damaged: its member model.weights.h5 fails its CRC-32 check; save the model again"),
    ("not a zip", "not a zip.keras is not a whole Keras model file \\(File is not a zip file\\)"),
])
def test_a_damaged_file_is_refused_in_one_sentence_naming_it(saved, tmp_path, how, message):
    with pytest.raises(models.DamagedModelFile, match=message) as error:
        models.load_model(_damaged(saved, tmp_path, how))
    assert "\n" not in str(error.value) and str(error.value).count(". ") == 0


def test_a_missing_file_and_a_zip_of_something_else_are_named(tmp_path):
    with pytest.raises(models.DamagedModelFile, match="nope.keras does not exist or is not a file"):
        models.load_model(str(tmp_path / "nope.keras"))
    import zipfile
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(models.DamagedModelFile, match="other.keras is a zip without config.json, model.weights.h5"):
        models.load_model(str(tmp_path / "other.keras"))
