"""Shared test setup: quiet TensorFlow, the real data directory, a small trained run, fake workdirs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import contextlib
import fcntl
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data"


def data_dir() -> str:
    """VAMP_TF_DATA_DIR, else ../shared/data next to the repository."""
    return os.environ.get("VAMP_TF_DATA_DIR") or str(DEFAULT_DATA_DIR)


@pytest.fixture(scope="session")
def real_data_dir():
    path = data_dir()
    if not os.path.exists(os.path.join(path, "mnist.npz")):
        pytest.fail(f"real data not found in {path}: set VAMP_TF_DATA_DIR to the shared data directory")
    return path


SMALL_RUNS = {  # name: (dataset, model, prior, pseudo_init[, other ModelConfig fields]) -- tiny models, one
    # short epoch on generated data
    "mnist_vamp": ("mnist", "vae", "vamp", "random"),
    "frey_vamp": ("frey_faces", "vae", "vamp", "data"),  # VampPrior data: restored without its examples
    "frey_standard": ("frey_faces", "vae", "standard", "random"),
    "frey_hvae_vamp": ("frey_faces", "hvae", "vamp", "random"),
    "mnist_mog": ("mnist", "vae", "mog", "random"),
    "mnist_vamp_learned": ("mnist", "vae", "vamp", "random", {"component_weights": "learned"}),  # issue 24
    # hyperspherical latents (issue 40): the VampPrior and the uniform prior on the sphere
    "mnist_sphere_vamp": ("mnist", "vae", "vamp", "random", {"posterior": "power_spherical"}),
    "frey_sphere_standard": ("frey_faces", "vae", "standard", "random", {"posterior": "power_spherical"}),
}


def pytest_configure(config):
    """Registers the e2e marker. Under pytest-xdist (make test runs one worker per core), each
    worker's TensorFlow gets its share of the cores: two workers of two threads each on two cores
    ran slower."""
    config.addinivalue_line("markers", "e2e: an end-to-end test on the real data files (../shared/data)")
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import tensorflow as tf
        threads = max(1, (os.cpu_count() or 1) // int(workers))
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(2, threads))


# Modules whose tests or fixtures take 15-40 s each. Collected first, so that under pytest-xdist's
# work stealing one worker starts on them while the other takes the many short tests (and steals
# what is left), instead of both finishing on the slowest ones.
SLOW_FIRST = ("trainer_distribute_test", "pixelcnn_test", "conv_test")


def pytest_collection_modifyitems(config, items):
    # Tests that read the real data files (through the real_data_dir fixture, directly or by a
    # fixture that trains on them) are end-to-end tests: `pytest -m "not e2e"` runs the unit
    # tests alone, on generated data; `make test` runs both.
    for item in items:
        if "real_data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)

    def rank(item):
        name = item.module.__name__.rpartition(".")[2] if item.module else ""
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)
    items.sort(key=rank)  # stable: the order inside each module is kept


@contextlib.contextmanager
def built_once(tmp_path_factory, name):
    """Yields (folder, done): a folder shared by every pytest-xdist worker of this session, held
    under an exclusive lock; `done` is False only for the first worker, which fills the folder.
    Without xdist, a folder of this session."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's folder, above each worker's own
    folder = base / name
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = (folder / "built").exists()
            folder.mkdir(exist_ok=True)
            yield folder, done
            (folder / "built").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _without_figures(cfg):
    """cfg with train.figures=False: the run writes every number and file but its figures. Drawing
    a run's five figures takes 1.5-2.5 s; the smoke run's are under test (and the PixelHVAE's, by a
    test of write_figures), so the other runs of the suite skip them."""
    import dataclasses
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, figures=False))


@pytest.fixture
def without_figures():
    """without_figures(cfg) -> cfg with train.figures=False (see _without_figures)."""
    return _without_figures


def generated_images(dataset: str) -> dict:
    """Images in `dataset`'s stored layout (uint8 [N, H, W] by split), generated: each image is one
    of ten smooth random shapes, shifted and with noise, so that a model has something to learn.
    The same arrays in every process (a fixed seed), hence the same in_memory data_dir."""
    from vamp_tf import datasets
    info = datasets.info(dataset)
    height, width, _ = info.image_shape
    rng = np.random.default_rng(20261129)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    templates = []
    for _ in range(10):
        centres, widths = rng.random((3, 2)), 0.05 + 0.15 * rng.random(3)
        bumps = [np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * w * w)) for (cy, cx), w in zip(centres, widths)]
        templates.append(np.clip(sum(bumps), 0, 1))
    templates = np.stack(templates)

    def images(n):
        shapes = templates[rng.integers(0, 10, n)]
        shifted = np.stack([np.roll(t, rng.integers(-2, 3, 2), axis=(0, 1)) for t in shapes])
        return np.clip(255 * shifted + rng.normal(0, 12, shifted.shape), 0, 255).astype(np.uint8)
    if info.split_method == "seeded":
        return {"all": images(sum(info.split_sizes.values()))}
    return {"train": images(600), "validation": images(100), "test": images(100)}


@pytest.fixture(scope="session")
def generated_data():
    """{dataset: data_dir} of generated images (generated_images) for mnist and frey_faces, held in
    memory by this process (vamp_tf.datasets.in_memory): unit tests that need a trained model or
    test images run without the data files."""
    from vamp_tf import datasets
    return {name: datasets.in_memory(name, generated_images(name)) for name in ("mnist", "frey_faces")}


@pytest.fixture(scope="session")
def small_runs(generated_data, tmp_path_factory):
    """{name: workdir} of small trained runs (1 epoch, 500 generated images, no figures), for export and
    evaluation tests; trained once per session, whichever xdist worker asks first (every worker holds
    the same generated images)."""
    with built_once(tmp_path_factory, "small_runs") as (root, done):
        if not done:
            _train_small_runs(root, generated_data)
    return {name: str(root / name) for name in SMALL_RUNS}


def _train_small_runs(root, generated_data):
    """Trains every SMALL_RUNS entry into root/<name>."""
    from vamp_tf import config, datasets, train_lib
    for name, (dataset, kind, prior, pseudo_init, *more) in SMALL_RUNS.items():
        info = datasets.info(dataset)
        cfg = config.Config(
            config.ModelConfig(input_shape=info.image_shape, likelihood=info.likelihood, model=kind, prior=prior,
                               pseudo_init=pseudo_init, latent_dim=4, hidden_units=16, num_components=5,
                               **(more[0] if more else {})),
            config.TrainConfig(dataset=dataset, data_dir=generated_data[dataset], epochs=1,
                               train_examples=500, test_examples=50, eval_samples=100, seed=1, figures=False))
        train_lib.train_and_evaluate(cfg, str(root / name))


def _smoke_config(data_dir, kind="vae", **train):
    """A tiny VampPrior model, 2 epochs of 10 steps on real MNIST."""
    from vamp_tf import config
    kw = dict(dataset="mnist", data_dir=data_dir, epochs=2, train_examples=1000, test_examples=100,
              eval_samples=50, seed=3, learning_rate=3e-3)
    kw.update(train)
    return config.Config(config.ModelConfig(model=kind, latent_dim=8, hidden_units=64, num_components=10),
                         config.TrainConfig(**kw))


@pytest.fixture
def smoke_config():
    """smoke_config(data_dir, kind='vae', **train_overrides) -> Config of the smoke run."""
    return _smoke_config


@pytest.fixture(scope="session")
def smoke_run(real_data_dir, tmp_path_factory):
    """(config, workdir, results) of the smoke run, trained once per session whichever xdist
    worker asks first. Read it; copy it before changing anything."""
    from vamp_tf import train_lib
    cfg = _smoke_config(real_data_dir)
    with built_once(tmp_path_factory, "smoke") as (root, done):
        if not done:
            train_lib.train_and_evaluate(cfg, str(root / "run"))
    with open(root / "run" / "results.json") as f:
        return cfg, str(root / "run"), json.load(f)


@pytest.fixture
def parse_trainer_flags():
    """parse(*args) -> Config: the trainer binary's flags parsed from args as `python -m
    trainers.main *args` parses them; the flags are reset afterwards."""
    from absl import flags
    from trainers import flags as trainer_flags

    def parse(*args):
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["trainer", *args])
        return trainer_flags.config_from_flags()
    yield parse
    flags.FLAGS.unparse_flags()


@pytest.fixture
def fake_workdir():
    """make(root, name, epochs_done, ...): a synthetic workdir as the trainer leaves it."""
    return _fake_workdir


def _fake_workdir(root, name, epochs_done, finished=True, ll=-90.0, bits=None, stopped_early=False, max_epochs=500,
                 images=200, evaluated_at=None):
    """A synthetic workdir as the trainer leaves it (results.json, history.json, per-image array, a figure)."""
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "figures"))
    history = [{"epoch": e, "commit": "abc123" if e < 3 else "def456"} for e in range(1, epochs_done + 1)]
    json.dump(history, open(os.path.join(d, "history.json"), "w"))
    json.dump({"train": {"epochs": max_epochs}}, open(os.path.join(d, "config.json"), "w"))
    open(os.path.join(d, "figures", "samples.png"), "wb").write(b"png")
    if finished:
        metrics = {"test_log_likelihood": ll, "test_elbo": ll - 2, "test_reconstruction": ll + 20, "test_kl": 22.0,
                   "active_units": {"z": 30}, "best_epoch": epochs_done,
                   "prior_usage": {"components_used": 19, "num_components": 500, "effective_components": 16.84}}
        if bits is not None:
            metrics["bits_per_dim"] = bits
        json.dump({"complete": True, "epochs_run": evaluated_at or epochs_done,
                   "config": {"model": {"input_shape": [28, 20, 1]}, "train": {"epochs": max_epochs}},
                   "stopped_early": stopped_early, "metrics": metrics, "train_seconds": 3600.0,
                   "evaluation_seconds": 60.0, "figures": {"samples": "figures/samples.png"}, "commit": "def456"},
                  open(os.path.join(d, "results.json"), "w"))
        per_image = ll + np.linspace(-1, 1, images) * (1 if bits is None else 0) + (np.arange(images) % 3 if bits else 0)
        np.save(os.path.join(d, "test_log_likelihoods.npy"), per_image)
    return d


@pytest.fixture(scope="session")
def train_frey_hvae(real_data_dir, tmp_path_factory):
    """train(architecture, **train_overrides) -> (config, workdir, results): a small HVAE with the
    given networks and a VampPrior, trained for two epochs on real Frey Faces, without figures
    (without_figures; the PixelHVAE's are drawn in pixelcnn_test on small images)."""
    def train(architecture, **overrides):
        from vamp_tf import config, train_lib
        cfg = config.Config(
            config.ModelConfig(input_shape=(28, 20, 1), likelihood="discretized_logistic", model="hvae", prior="vamp",
                               architecture=architecture, latent_dim=4, hidden_units=32, num_components=5),
            config.TrainConfig(**{"dataset": "frey_faces", "data_dir": real_data_dir, "epochs": 2, "seed": 1,
                                  "learning_rate": 2e-3, "figures": False, **overrides}))
        run = str(tmp_path_factory.mktemp(architecture) / f"frey_{architecture}")
        return cfg, run, train_lib.train_and_evaluate(cfg, run)
    return train


def _assert_two_epochs_learned(run, results, key="validation_neg_elbo"):
    """The second epoch's `key` (history.json; the validation -ELBO by default) beats the first's;
    the test log-likelihood is at least the test ELBO (up to 1 nat of estimator noise); both layers
    report active units."""
    history = json.load(open(os.path.join(run, "history.json")))
    assert history[1][key] < history[0][key], (history[0][key], history[1][key])
    m = results["metrics"]
    assert m["test_log_likelihood"] >= m["test_elbo"] - 1.0 and set(m["active_units"]) == {"z1", "z2"}


@pytest.fixture
def assert_two_epochs_learned():
    return _assert_two_epochs_learned


def _assert_log_likelihood_bounds_elbo(net, x, num_samples, batch_size):
    """The importance-sampled log p(x) with S = num_samples is finite and at least the mean
    S-sample ELBO on the same images."""
    import tensorflow as tf
    from vamp_tf import evaluation
    noise = tf.random.stateless_normal([len(x), num_samples, net.noise_dim], seed=[7, 8])
    terms = net.log_densities(x, noise, net.prior.distribution())
    elbo = float(tf.reduce_mean(terms["reconstruction"] + terms["log_prior"] - terms["log_posterior"]))
    ll = evaluation.log_likelihood(net, x, num_samples=num_samples, batch_size=batch_size)
    assert np.all(np.isfinite(ll["per_image"])) and ll["mean"] >= elbo, (ll["mean"], elbo)


@pytest.fixture
def assert_log_likelihood_bounds_elbo():
    return _assert_log_likelihood_bounds_elbo


def _frey_vamp_hvae_that_trains(architecture):
    """A Frey Faces-shaped VampPrior HVAE of `architecture` (3 components) whose one training step's
    gradient reaches every variable, and kernel(part, *names): the shape of the one kernel of
    net.`part` whose path has every /name/."""
    import tensorflow as tf
    from vamp_tf import config, models
    cfg = config.ModelConfig(input_shape=(28, 20, 1), likelihood="discretized_logistic", model="hvae",
                             prior="vamp", architecture=architecture, num_components=3)
    net = models.build_model(cfg, seed=0)
    x = tf.round(tf.random.uniform((2, 28, 20, 1), seed=5) * 255) / 255
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(net(x, seed=[5, 6], training=True)["elbo"])
    grads = tape.gradient(loss, net.trainable_variables)
    assert all(g is not None and np.any(g.numpy() != 0) for g in grads)

    def kernel(part, *names):
        (shape,) = [tuple(v.shape) for v in getattr(net, part).trainable_variables
                    if v.path.endswith("kernel") and all(f"/{name}/" in v.path for name in names)]
        return shape

    return net, kernel


@pytest.fixture
def frey_vamp_hvae_that_trains():
    return _frey_vamp_hvae_that_trains


def trainer_command(workdir, data_dir, *extra):
    """`python -m trainers.main` on a tiny MNIST VampPrior (200 images: 4 steps an epoch, 20 test images)."""
    return [sys.executable, "-m", "trainers.main", "--dataset=mnist", "--prior=vamp", "--latent_dim=2",
            "--hidden_units=8", "--num_components=3", "--train_examples=200", "--test_examples=20",
            "--eval_samples=10", "--batch_size=50", "--figure_samples=4", "--seed=5", "--intra_op_threads=1",
            f"--data_dir={data_dir}", f"--workdir={workdir}", *extra]


def run_trainer(workdir, data_dir, *extra, timeout=300):
    """Runs trainer_command to its end: the CompletedProcess (text stdout and stderr)."""
    return subprocess.run(trainer_command(workdir, data_dir, *extra), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="session")
def tiny_reference(real_data_dir, tmp_path_factory):
    """results.json of trainer_command's run trained for 2 epochs without interruption."""
    with built_once(tmp_path_factory, "tiny_reference") as (root, done):
        if not done:
            proc = run_trainer(root / "run", real_data_dir, "--epochs=2")
            assert proc.returncode == 0, proc.stderr[-2000:]
    with open(root / "run" / "results.json") as f:
        return json.load(f)


@pytest.fixture
def trainer():
    """run(workdir, data_dir, *flags) -> CompletedProcess: run_trainer."""
    return run_trainer


@pytest.fixture
def trainer_argv():
    """argv(workdir, data_dir, *flags) -> trainer_command's list (to run it some other way)."""
    return trainer_command


@pytest.fixture
def start_trainer():
    """start(workdir, data_dir, *flags) -> subprocess.Popen of trainer_command (output discarded)."""
    def start(workdir, data_dir, *extra):
        return subprocess.Popen(trainer_command(workdir, data_dir, *extra), cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    return start


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB tmpfs mounted for the test (needs root and mount rights; the test skips otherwise)."""
    path = tmp_path / "disk"
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root and mount rights); the full-disk case is untested")
    yield path
    subprocess.run(["umount", "-l", str(path)], check=True)


def fill_disk(directory, leave_bytes):
    """Writes directory/filler until about leave_bytes are free; returns its path."""
    filler = os.path.join(directory, "filler")
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler


@pytest.fixture
def fill():
    """fill(directory, leave_bytes) -> the filler file's path: fill_disk."""
    return fill_disk


class _TinyVAE:
    """A tiny dense VAE on 6 x 5 binary images (model(**ModelConfig changes)) and such images (images(n, seed)):
    for the estimators' unit tests (surgery, optimal_prior)."""

    @staticmethod
    def model(**changes):
        from vamp_tf import config, models
        cfg = config.ModelConfig(**{**dict(input_shape=(6, 5, 1), latent_dim=3, hidden_units=8, num_components=4),
                                    **changes})
        return models.build_model(cfg, seed=2)

    @staticmethod
    def images(n, seed=0):
        return (np.random.default_rng(seed).random((n, 6, 5, 1)) < 0.4).astype(np.float32)


@pytest.fixture
def tiny_vae():
    """_TinyVAE: tiny_vae.model(**changes), tiny_vae.images(n, seed)."""
    return _TinyVAE
