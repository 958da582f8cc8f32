"""Tests of vamp_tf.datasets on the real files in the shared data directory."""

import os
import shutil
import socket

import numpy as np
import pytest

from vamp_tf import datasets
from vamp_tf.datasets import tfds_source


PINNED_CALTECH_FIRST_TEST_PIXELS = 266  # split_seed 0


def _all(ds):
    return np.concatenate([b.numpy() for b in ds])


@pytest.mark.parametrize("name,sizes,shape", [
    ("mnist", (50000, 10000, 10000), (28, 28, 1)),
    ("binarized_mnist", (50000, 10000, 10000), (28, 28, 1)),
    ("frey_faces", (1565, 200, 200), (28, 20, 1)),
    ("caltech101_silhouettes", (4100, 2264, 2307), (28, 28, 1))])
def test_split_sizes_shapes_dtypes_and_values(real_data_dir, name, sizes, shape):
    for split, size in zip(datasets.SPLITS, sizes):
        x = _all(datasets.load(name, split, batch_size=1000, data_dir=real_data_dir))
        assert x.shape == (size,) + shape and x.dtype == np.float32, split
        if name == "frey_faces":
            np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-3)  # the 256-level grid
            assert 0 <= x.min() and x.max() <= 1 and len(np.unique(x)) > 200
        else:
            assert set(np.unique(x)) == {0.0, 1.0}, split


def test_dynamic_mnist_fixes_test_binarization_and_rebinarizes_train(real_data_dir):
    kw = dict(batch_size=500, data_dir=real_data_dir, num_examples=2000)
    test_a = _all(datasets.load("mnist", "test", **kw))
    test_b = _all(datasets.load("mnist", "test", **kw))
    np.testing.assert_array_equal(test_a, test_b)
    ep0 = _all(datasets.load("mnist", "train", seed=1, epoch=0, shuffle=False, **kw))
    ep1 = _all(datasets.load("mnist", "train", seed=1, epoch=1, shuffle=False, **kw))
    ep0_again = _all(datasets.load("mnist", "train", seed=1, epoch=0, shuffle=False, **kw))
    np.testing.assert_array_equal(ep0, ep0_again)
    assert np.mean(ep0 != ep1) > 0.01  # same images, new binarization
    gray = datasets.split_images("mnist", "train", real_data_dir, num_examples=2000) / 255.0
    np.testing.assert_allclose(ep0.mean(), gray.mean(), atol=2e-3)  # Bernoulli(pixel)


def test_examples_are_binary_in_every_split_of_a_binary_dataset_and_gray_on_request(real_data_dir):
    # A newcomer's examples("mnist", "train") used to be gray while validation and test were binary.
    gray = datasets.split_images("mnist", "train", real_data_dir, num_examples=300) / np.float32(255)
    for split in ("train", "validation", "test"):
        images = datasets.examples("mnist", split, real_data_dir, num_examples=300)
        assert set(np.unique(images)) == {0.0, 1.0}, split
    train = datasets.examples("mnist", "train", real_data_dir, num_examples=300)
    np.testing.assert_array_equal(train, datasets.examples("mnist", "train", real_data_dir, num_examples=300))
    assert np.all(train[gray == 0] == 0) and np.all(train[gray == 1] == 1)  # a draw of Bernoulli(pixel)
    np.testing.assert_allclose(train.mean(), gray.mean(), atol=3e-3)
    np.testing.assert_array_equal(datasets.examples("mnist", "train", real_data_dir, num_examples=300, gray=True), gray)


def test_training_order_depends_on_seed_and_epoch_only(real_data_dir):
    kw = dict(batch_size=100, data_dir=real_data_dir, num_examples=1000)
    a = _all(datasets.load("binarized_mnist", "train", seed=2, epoch=3, **kw))
    b = _all(datasets.load("binarized_mnist", "train", seed=2, epoch=3, **kw))
    c = _all(datasets.load("binarized_mnist", "train", seed=2, epoch=4, **kw))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.sort(a.reshape(1000, -1), axis=0), np.sort(c.reshape(1000, -1), axis=0))


def test_frey_split_is_seeded(real_data_dir):
    a = datasets.examples("frey_faces", "test", real_data_dir, split_seed=0)
    b = datasets.examples("frey_faces", "test", real_data_dir, split_seed=0)
    c = datasets.examples("frey_faces", "test", real_data_dir, split_seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    splits = [datasets.split_images("frey_faces", s, real_data_dir).reshape(-1, 560) for s in datasets.SPLITS]
    assert len(np.unique(np.concatenate(splits), axis=0)) == len(np.unique(
        datasets.load_arrays("frey_faces", real_data_dir)["all"].reshape(-1, 560), axis=0))


def test_gray_values_put_each_pixel_on_the_grid_or_at_its_bins_centre_in_the_same_bin(real_data_dir):
    grid = datasets.examples("frey_faces", "validation", real_data_dir)
    centres = datasets.examples("frey_faces", "validation", real_data_dir, gray_values="bin_centres")
    pixels = datasets.split_images("frey_faces", "validation", real_data_dir).astype(np.float64)
    np.testing.assert_array_equal(grid, (pixels / 255).astype(np.float32))
    np.testing.assert_array_equal(centres, ((pixels + 0.5) / 256).astype(np.float32))
    np.testing.assert_array_equal(np.floor(grid * 256), pixels)  # bin p of the discretized logistic, both
    np.testing.assert_array_equal(np.floor(centres * 256), pixels)
    batch = next(iter(datasets.load("frey_faces", "validation", 200, data_dir=real_data_dir,
                                    gray_values="bin_centres")))
    np.testing.assert_array_equal(batch.numpy(), centres)
    with pytest.raises(ValueError, match="gray_values='bin_centres'.*mnist is binary.*drop --gray_values"):
        datasets.load("mnist", "train", 10, data_dir=real_data_dir, gray_values="bin_centres")
    with pytest.raises(ValueError, match="gray_values='p/255'.*allowed: grid, bin_centres"):
        datasets.examples("frey_faces", "test", real_data_dir, gray_values="p/255")


def test_test_subsets_stride_through_class_sorted_files(real_data_dir):
    x = datasets.split_images("binarized_mnist", "test", real_data_dir, num_examples=100)
    full = datasets.split_images("binarized_mnist", "test", real_data_dir)
    np.testing.assert_array_equal(x, full[np.arange(100) * 100])


@pytest.fixture
def copy_of(real_data_dir, tmp_path):
    def make(*names):
        for n in names:
            shutil.copy(os.path.join(real_data_dir, n), tmp_path / n)
        return str(tmp_path)
    return make


def test_truncated_file_gives_a_clear_error(copy_of, tmp_path):
    d = copy_of("frey_rawface.mat")
    path = os.path.join(d, "frey_rawface.mat")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.raises(datasets.DataError, match="could not read .*frey_rawface.mat.*\n.*truncated"):
        datasets.load_arrays("frey_faces", d)


def test_checksum_mismatch_gives_a_clear_error(copy_of, tmp_path):
    d = copy_of("binarized_mnist_train.npz", "binarized_mnist_valid.npz", "binarized_mnist_test.npz")
    with np.load(os.path.join(d, "binarized_mnist_test.npz")) as f:
        x = f["x"].copy()
    x[0, 0] = 1 - x[0, 0]
    np.savez_compressed(os.path.join(d, "binarized_mnist_test.npz"), x=x)
    with pytest.raises(datasets.DataError, match="binarized_mnist_test.npz: content checksum mismatch"):
        datasets.load_arrays("binarized_mnist", d)


def test_idx_files_are_an_alternative_to_the_npz(real_data_dir):
    idx_dir = os.path.join(real_data_dir, "mnist_idx")
    a = datasets.load_arrays("mnist", idx_dir)
    b = datasets.load_arrays("mnist", real_data_dir)
    for split in datasets.SPLITS:
        np.testing.assert_array_equal(a[split], b[split])


def test_missing_files_without_network_name_what_where_and_how(tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    tfds_dir = tmp_path / "tfds"
    tfds_dir.mkdir()
    with pytest.raises(datasets.DataError) as err:
        datasets.load_arrays("frey_faces", str(tmp_path / "empty"), tfds_data_dir=str(tfds_dir))
    message = str(err.value)
    assert "looked for: {frey_rawface.mat}" in message
    assert f"in: {tmp_path / 'empty'}" in message
    assert "cannot resolve cs.nyu.edu" in message
    assert "to get them: download https://cs.nyu.edu/~roweis/data/frey_rawface.mat" in message
    assert list(tfds_dir.iterdir()) == []  # nothing half-written


def test_a_missing_data_directory_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: (_ for _ in ()).throw(socket.gaierror(-2, "no DNS")))
    with pytest.raises(datasets.DataError, match="in: .*nowhere \\(which does not exist\\)"):
        datasets.load_arrays("mnist", str(tmp_path / "nowhere"), tfds_data_dir=str(tmp_path / "tfds"))


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds
    monkeypatch.setattr(tfds_source, "network_problem", lambda hosts: None)

    def failing_prepare(self, *args, **kwargs):
        os.makedirs(os.path.join(self.data_dir_root, "downloads", "partial.tmp.123"))
        raise ConnectionError("connection reset")
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", failing_prepare)
    tfds_dir = tmp_path / "tfds"
    tfds_dir.mkdir()
    (tfds_dir / "keep.txt").write_text("existing")
    with pytest.raises(datasets.DataError, match="connection reset"):
        datasets.load_arrays("binarized_mnist", str(tmp_path / "empty"), tfds_data_dir=str(tfds_dir))
    assert sorted(p.name for p in tfds_dir.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("name", ["frey_faces", "caltech101_silhouettes"])
def test_own_tfds_builders_from_manual_dir_give_the_local_arrays(real_data_dir, tmp_path, name):
    import tensorflow_datasets as tfds
    from vamp_tf.datasets import builders  # noqa: F401  (registers them)
    builder = tfds.builder(name, data_dir=str(tmp_path))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=real_data_dir))
    # TFDS stores the images in a hashed order; vamp_tf's TFDS source restores the file's.
    from_tfds = tfds_source.read(datasets.info(name), str(tmp_path), download=False)["all"]
    np.testing.assert_array_equal(from_tfds, datasets.load_arrays(name, real_data_dir)["all"])
    stored = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1))["image"][..., 0]
    assert not np.array_equal(stored, from_tfds)


def test_caltech_is_upright_binary_objects_in_a_stable_seeded_split(real_data_dir):
    import scipy.io
    raw = scipy.io.loadmat(os.path.join(real_data_dir, "caltech101_silhouettes_28.mat"))["X"]
    pool = datasets.load_arrays("caltech101_silhouettes", real_data_dir)["all"]
    assert pool.shape == (8671, 28, 28) and pool.dtype == np.uint8 and set(np.unique(pool)) == {0, 1}
    np.testing.assert_array_equal(pool[5], 1 - raw[5].reshape(28, 28, order="F"))  # 1 = object, upright
    splits = [datasets.split_images("caltech101_silhouettes", s, real_data_dir) for s in datasets.SPLITS]
    assert [len(x) for x in splits] == [4100, 2264, 2307]
    flat = np.concatenate(splits).reshape(8671, -1)
    assert len({row.tobytes() for row in flat}) == len({row.tobytes() for row in pool.reshape(8671, -1)})
    again = datasets.split_images("caltech101_silhouettes", "test", real_data_dir, split_seed=0)
    other = datasets.split_images("caltech101_silhouettes", "test", real_data_dir, split_seed=1)
    np.testing.assert_array_equal(again, splits[2])
    assert not np.array_equal(other, splits[2])
    # Pinned: the first test image's pixel count (a changed split would change every number).
    assert int(splits[2][0].sum()) == PINNED_CALTECH_FIRST_TEST_PIXELS


def test_caltech_checksum_failure_names_the_file_and_the_fix(real_data_dir, tmp_path):
    import scipy.io
    m = scipy.io.loadmat(os.path.join(real_data_dir, "caltech101_silhouettes_28.mat"))
    x = m["X"].copy()
    x[0, 0] = 1 - x[0, 0]
    scipy.io.savemat(str(tmp_path / "caltech101_silhouettes_28.mat"), {"X": x, "Y": m["Y"]})
    with pytest.raises(datasets.DataError, match="(?s)caltech101_silhouettes_28.mat: content checksum mismatch.*"
                                                 "people.cs.umass.edu/~marlin"):
        datasets.load_arrays("caltech101_silhouettes", str(tmp_path))


def test_evaluation_binarization_does_not_depend_on_image_order(real_data_dir, monkeypatch):
    from vamp_tf.datasets import pipeline
    a = datasets.examples("mnist", "test", real_data_dir, num_examples=300)
    original = pipeline.split_images
    monkeypatch.setattr(pipeline, "split_images", lambda *args: original(*args)[::-1])
    pipeline._fixed_binarization.cache_clear()
    try:
        b = datasets.examples("mnist", "test", real_data_dir, num_examples=300)
    finally:
        pipeline._fixed_binarization.cache_clear()
    np.testing.assert_array_equal(a, b[::-1])


def test_bad_names_raise_value_errors(real_data_dir):
    with pytest.raises(ValueError, match="dataset='cifar'.*allowed: mnist, binarized_mnist, frey_faces, caltech101"):
        datasets.load("cifar", "train", 10)
    with pytest.raises(ValueError, match="split='valid'"):
        datasets.load("mnist", "valid", 10, data_dir=real_data_dir)
    with pytest.raises(ValueError, match="batch_size=0"):
        datasets.load("mnist", "test", 0, data_dir=real_data_dir)


def test_the_data_beside_a_checkout_is_found_without_flags_or_environment(real_data_dir, tmp_path, monkeypatch):
    from vamp_tf.datasets import pipeline
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (tmp_path / "shared").mkdir()
    os.symlink(real_data_dir, tmp_path / "shared" / "data")
    monkeypatch.delenv(pipeline.ENV_DATA_DIR, raising=False)
    monkeypatch.chdir(checkout)
    assert pipeline.resolve_data_dir(None) == str(tmp_path / "shared" / "data")
    assert pipeline.resolve_data_dir("/explicit") == "/explicit"
    monkeypatch.chdir(tmp_path)  # no ../shared/data here: TFDS is next
    assert pipeline.resolve_data_dir(None) is None


def test_mnist_labels_follow_the_images_and_other_data_has_none(real_data_dir, generated_data):
    test = datasets.labels("mnist", "test", real_data_dir)
    assert test.shape == (10000,) and set(np.unique(test)) == set(range(10))
    assert datasets.labels("mnist", "validation", real_data_dir).shape == (10000,)
    np.testing.assert_array_equal(datasets.labels("mnist", "test", real_data_dir, num_examples=100),
                                  test[(np.arange(100) * 10000) // 100])  # the stride subset of examples()
    assert test[0] == 7  # MNIST's first test image is a seven
    assert datasets.labels("frey_faces", "test", real_data_dir) is None
    assert datasets.labels("mnist", "test", generated_data["mnist"]) is None


def test_fit_on_fit_data_trains_exactly_what_the_trainer_trains(real_data_dir):
    import tensorflow as tf
    from vamp_tf import config, models, objectives, optimizers
    from vamp_tf.trainer import Trainer
    cfg = config.Config(config.ModelConfig(latent_dim=3, hidden_units=8, num_components=4),
                        config.TrainConfig(data_dir=real_data_dir, train_examples=300, seed=2, epochs=2,
                                           warmup_epochs=3))
    trainer = Trainer(cfg)
    for epoch in (1, 2):  # the loop of train_lib: 0-based datasets, 1-based warm-up
        beta = tf.constant(objectives.warmup_beta(epoch, 3), tf.float32)
        for batch in trainer.epoch_dataset(epoch - 1):
            trainer.train_step(batch, beta)
    model = models.build_model(cfg.model, seed=2)
    model.compile(optimizers.make_optimizer("adam", cfg.train.learning_rate), jit_compile=False)
    dataset, steps = datasets.fit_data(cfg.train, model.noise_dim)
    assert steps == 3
    model.fit(dataset, epochs=2, steps_per_epoch=steps, verbose=0, callbacks=[models.KLWarmup(3)])
    for a, b in zip(trainer.model.trainable_variables, model.trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def test_dynamic_binarization_draws_anew_every_epoch_from_its_seed():
    import tensorflow as tf
    gray = np.random.default_rng(0).integers(0, 256, (64, 6, 5, 1)).astype(np.uint8)
    tfds_style = tf.data.Dataset.from_tensor_slices({"image": gray, "label": np.arange(64)}).batch(16)
    ds = datasets.dynamic_binarization(tfds_style, seed=3)
    epoch_1 = [e for e in ds]
    epoch_2 = [e for e in ds]
    again = [e for e in datasets.dynamic_binarization(tfds_style, seed=3)]
    first, second = (np.concatenate([e["image"].numpy() for e in epoch]) for epoch in (epoch_1, epoch_2))
    assert set(np.unique(first)) == {0.0, 1.0} and first.dtype == np.float32
    np.testing.assert_array_equal(np.concatenate([e["label"].numpy() for e in epoch_1]), np.arange(64))
    assert np.mean(first != second) > 0.2  # a new draw in the second epoch
    np.testing.assert_array_equal(first, np.concatenate([e["image"].numpy() for e in again]))
    np.testing.assert_allclose(first.mean(), gray.mean() / 255, atol=0.03)
    pairs = datasets.dynamic_binarization(tf.data.Dataset.from_tensor_slices((gray / 255, np.arange(64))), seed=3)
    image, label = next(iter(pairs))
    assert image.shape == (6, 5, 1) and int(label) == 0 and set(np.unique(image.numpy())) <= {0.0, 1.0}


def test_fashion_mnist_holds_out_a_seeded_random_validation_split_and_is_never_mnist(real_data_dir):
    train = datasets.split_images("fashion_mnist", "train", real_data_dir)
    validation = datasets.split_images("fashion_mnist", "validation", real_data_dir)
    test = datasets.split_images("fashion_mnist", "test", real_data_dir)
    assert (len(train), len(validation), len(test)) == (50000, 10000, 10000) and train.dtype == np.uint8
    np.testing.assert_allclose(np.concatenate([train, validation]).mean() / 255, 0.2860, atol=1e-4)  # the published mean
    as_rows = lambda x: {row.tobytes() for row in x.reshape(len(x), -1)}  # noqa: E731
    assert not as_rows(train[:5000]) & as_rows(validation)                    # disjoint
    digits = datasets.split_images("mnist", "train", real_data_dir, num_examples=5000)
    assert train.mean() / 255 - digits.mean() / 255 > 0.1                      # clothes (0.286), not digits (0.131)
    other = datasets.split_images("fashion_mnist", "validation", real_data_dir, split_seed=1)
    assert not np.array_equal(other, validation)                               # the held-out images follow the seed
    fixed = datasets.examples("fashion_mnist", "test", real_data_dir, num_examples=200)
    assert set(np.unique(fixed)) == {0.0, 1.0}
    np.testing.assert_array_equal(fixed, datasets.examples("fashion_mnist", "test", real_data_dir, num_examples=200))
    batch = next(iter(datasets.load("fashion_mnist", "train", 100, data_dir=real_data_dir, num_examples=1000)))
    assert batch.shape == (100, 28, 28, 1) and set(np.unique(batch.numpy())) == {0.0, 1.0}


def test_fashion_mnist_files_are_looked_for_in_their_own_folder_only(real_data_dir, tmp_path):
    os.symlink(os.path.join(real_data_dir, "mnist_idx"), tmp_path / "mnist_idx")  # MNIST's files, same names
    with pytest.raises(datasets.DataError, match="fashion_mnist"):
        datasets.load_arrays("fashion_mnist", str(tmp_path), tfds_data_dir=str(tmp_path / "tfds"), download=False)
