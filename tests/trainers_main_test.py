"""Tests of trainers/main.py: every flagfile parses to a valid config; bad flags fail clearly."""

import glob
import json
import os
import subprocess
import sys

import pytest
from absl import flags


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGFILES = sorted(glob.glob(os.path.join(REPO, "*.flags")) + glob.glob(os.path.join(REPO, "experiments", "*.flags")))


def test_there_are_flagfiles_for_every_table_cell():
    names = {os.path.basename(p)[:-6] for p in FLAGFILES}
    assert {"mnist", "freyfaces", "binarized_mnist"} <= names
    for prior in ("standard", "vamp"):
        for latent in (10, 40, 100):
            assert {f"mnist_{prior}_l{latent}", f"frey_{prior}_l{latent}"} <= names
        assert {f"frey_{prior}_l40_h600", f"binarized_mnist_{prior}", f"mnist_hvae_{prior}"} <= names
    assert {"frey_vamp_l40_k1000", "frey_vamp_l40_k100"} <= names


@pytest.mark.parametrize("path", FLAGFILES, ids=os.path.basename)
def test_each_flagfile_gives_a_valid_config(parse_trainer_flags, path):
    cfg = parse_trainer_flags(f"--flagfile={path}")
    name = os.path.basename(path)
    parity = name.startswith("parity_")  # matched budgets beside the paper's code: a fixed epoch count, its S
    assert cfg.train.batch_size == 100 and cfg.train.learning_rate == 5e-4
    convolutional = "convhvae" in name or "pixelhvae" in name  # their parity runs score at S = 1000 on both sides
    assert cfg.train.eval_samples == (1000 if convolutional and parity else 5000)
    assert cfg.train.warmup_epochs == (0 if "nowarmup" in path else 100)
    assert cfg.train.early_stopping_patience == (100000 if parity else 50)
    if "frey" in name:
        assert cfg.model.likelihood == "discretized_logistic" and cfg.model.input_shape == (28, 20, 1)
    else:
        assert cfg.model.likelihood == "bernoulli" and cfg.model.input_shape == (28, 28, 1)
    assert cfg.model.prior == ("standard" if "standard" in name else "vamp")
    assert cfg.model.model == ("hvae" if "hvae" in name else "vae")


def test_mnist_flags_is_the_papers_model(parse_trainer_flags):
    cfg = parse_trainer_flags(f"--flagfile={os.path.join(REPO, 'mnist.flags')}")
    m = cfg.model
    assert (cfg.train.dataset, m.prior, m.num_components, m.latent_dim, m.hidden_units) == ("mnist", "vamp", 500, 40, 300)


def test_command_line_flags_override_the_flagfile(parse_trainer_flags):
    cfg = parse_trainer_flags(f"--flagfile={os.path.join(REPO, 'mnist.flags')}", "--epochs=3", "--latent_dim=10")
    assert cfg.train.epochs == 3 and cfg.model.latent_dim == 10 and not cfg.train.select_after_warmup
    cfg = parse_trainer_flags(f"--flagfile={os.path.join(REPO, 'mnist.flags')}", "--select_after_warmup")
    assert cfg.train.select_after_warmup


@pytest.mark.parametrize("bad,match", [("--latent_dim=-1", "latent_dim=-1"), ("--epochs=0", "epochs=0"),
                                       ("--num_components=0", "num_components=0"),
                                       ("--batch_size=-5", "batch_size=-5")])
def test_bad_values_raise_value_errors_naming_the_flag(parse_trainer_flags, bad, match):
    with pytest.raises(ValueError, match=match):
        parse_trainer_flags("--workdir=/tmp/x", bad)


def test_unknown_enum_values_are_rejected_with_the_allowed_ones(parse_trainer_flags):
    with pytest.raises(flags.IllegalFlagValueError, match="standard, mog, vamp|one of"):
        parse_trainer_flags("--workdir=/tmp/x", "--prior=flow")


def test_the_binary_prints_no_tensorflow_start_up_noise(tmp_path, real_data_dir):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run([sys.executable, "-m", "trainers.main", f"--flagfile={os.path.join(REPO, 'mnist.flags')}",
                           "--epochs=1", "--train_examples=200", "--test_examples=20", "--eval_samples=10",
                           "--latent_dim=2", "--hidden_units=4", "--num_components=2", f"--data_dir={real_data_dir}",
                           f"--workdir={tmp_path / 'run'}"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for noise in ("oneDNN", "cuda", "cuInit", "absl::InitializeLog"):
        assert noise not in proc.stderr, proc.stderr
    assert "test log-likelihood" in proc.stdout


def test_make_train_with_args_trains_into_its_own_workdir():
    def command(args):
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        out = subprocess.run(["make", "--no-print-directory", "-n", "train", f"ARGS={args}"], cwd=REPO,
                             capture_output=True, text=True, timeout=60, env=env).stdout
        return [line for line in out.splitlines() if "trainers.main" in line][-1]
    plain = command("")
    assert "--workdir" not in plain  # mnist.flags' own runs/mnist_vamp_l40
    short = command("--epochs=2")
    assert "--workdir=runs/mnist-" in short and short == command("--epochs=2")  # the same ARGS resume
    assert short != command("--epochs=3")


def test_a_full_disk_during_a_checkpoint_gives_one_line_and_the_rerun_resumes(small_disk, fill, trainer,
                                                                             real_data_dir, tiny_reference):
    run = small_disk / "run"
    assert trainer(run, real_data_dir, "--epochs=1").returncode == 0
    filler = fill(small_disk, leave_bytes=24 * 1024)  # room for history.json, not for a checkpoint
    full = trainer(run, real_data_dir, "--epochs=2")
    assert full.returncode == 1, full.stderr[-3000:]
    errors = [line for line in full.stderr.splitlines() if line.startswith("E")]
    assert len(errors) == 1 and "Traceback" not in full.stderr, full.stderr[-3000:]
    assert "checkpoints" in errors[0] and "No space left on device" in errors[0] and "Free space" in errors[0]
    assert "rerun the same command" in errors[0]
    for which in ("latest", "best"):  # nothing half-written where the rerun reads
        directory = run / "checkpoints" / which
        assert not [n for n in os.listdir(directory) if "_temp" in n], os.listdir(directory)
    os.remove(filler)
    resumed = trainer(run, real_data_dir, "--epochs=2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    results = json.load(open(run / "results.json"))
    assert results["epochs_run"] == 2
    assert results["metrics"]["test_log_likelihood"] == tiny_reference["metrics"]["test_log_likelihood"]
