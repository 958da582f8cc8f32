"""Tests of trainers/main.py: every flagfile parses to a valid config; bad flags fail clearly."""

import glob
import json
import os
import re
import subprocess
import sys

import pytest
from absl import flags


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGFILES = sorted(glob.glob(os.path.join(REPO, "*.flags")) + glob.glob(os.path.join(REPO, "experiments", "*", "*.flags")))


def test_the_papers_folder_holds_a_flagfile_for_every_table_cell_and_names_are_unique():
    from tools import records  # pylint: disable=import-outside-toplevel
    everything = records.flagfiles()  # raises if two groups share a name
    assert len(everything) == len(FLAGFILES) - len(glob.glob(os.path.join(REPO, "*.flags")))
    names = {os.path.basename(p)[:-6] for p in glob.glob(os.path.join(REPO, "experiments", "paper", "*.flags"))}
    names |= {os.path.basename(p)[:-6] for p in glob.glob(os.path.join(REPO, "*.flags"))}
    assert {"mnist", "freyfaces", "binarized_mnist"} <= names
    for prior in ("standard", "vamp"):
        for latent in (10, 40, 100):
            assert {f"mnist_{prior}_l{latent}", f"frey_{prior}_l{latent}"} <= names
        assert {f"frey_{prior}_l40_h600", f"binarized_mnist_{prior}", f"mnist_hvae_{prior}"} <= names
    assert {"frey_vamp_l40_k1000", "frey_vamp_l40_k100"} <= names
    tables = json.load(open(os.path.join(REPO, "tools", "report_tables.json")))
    cells = {n for _, _, std, vamp in tables["paper"]["cells"] for n in (std, vamp)}
    in_tables = (set(tables["seed_study"]) | cells) - set(tables["aliases"])
    # a cell may read a preset's rerun (experiments/presets/) of a flagfile of experiments/paper/
    reruns = {run: entry["reruns"] for run, entry in tables["presets"].items()}
    in_tables = {reruns.get(n, n) for n in in_tables}
    assert in_tables <= names, sorted(in_tables - names)  # every run of the two tables is in experiments/paper/


def _flag_lines(path):
    """{name: value} of the flags a flagfile sets itself (--name=value, --name, --noname)."""
    out = {}
    for line in open(path):
        line = line.strip()
        if not line.startswith("--") or line.startswith("--flagfile"):
            continue
        name, _, value = line[2:].partition("=")
        if not _:
            name, value = (name[2:], "false") if name.startswith("no") and name[2:] in FIELDS else (name, "true")
        out[name] = value
    return out


FIELDS = None  # flag name -> ("model" | "train", field), filled from the configs' fields


def test_every_flagfile_builds_the_model_its_own_flags_say(parse_trainer_flags):
    """One test for all flagfiles: each flag a file sets reaches the config field of its name, the paper's
    protocol holds (batch 100, learning rate 5e-4), and each distinct model builds with the parts it names."""
    import dataclasses
    global FIELDS  # pylint: disable=global-statement
    from vamp_tf import config, models, networks
    FIELDS = {f.name: (section, f.name) for section, cls in (("model", config.ModelConfig), ("train", config.TrainConfig))
              for f in dataclasses.fields(cls)}
    FIELDS["model"] = ("model", "model")
    built = {}
    for path in FLAGFILES:
        cfg = parse_trainer_flags(f"--flagfile={path}")
        for name, value in _flag_lines(path).items():
            if name == "workdir":
                continue
            section, field = FIELDS[name]
            got = getattr(getattr(cfg, section), field)
            want = type(got)(value in ("true", "True", "1")) if isinstance(got, bool) else type(got)(value)
            assert got == want, f"{os.path.basename(path)}: --{name}={value} gave {section}.{field}={got!r}"
        assert (cfg.train.batch_size, cfg.train.learning_rate) == (100, 5e-4), path
        m = cfg.model
        kind = (m.model, m.architecture, m.posterior, m.prior, m.component_weights, m.likelihood)
        if kind not in built:  # one model of each kind of parts (building all 125 cost 41 s)
            built[kind] = models.build_model(m)
        model = built[kind]
        assert model.family.name == m.posterior and model.likelihood.name == m.likelihood
        if model.config == m:  # the flagfile that built it: its sizes too
            assert model.prior.num_components == (0 if m.prior == "standard" else m.num_components)
            assert model.latent_width == m.latent_dim * (2 if m.model == "hvae" else 1)
        encoder = {"dense": networks.Encoder, "relu_mlp": networks.Encoder}.get(cfg.model.architecture,
                                                                               networks.ConvEncoder)
        assert isinstance(model.encoder, encoder) and model.autoregressive == cfg.model.architecture.startswith("pixel")
    # the flagfiles span every kind of part: each model with the paper's two priors (no run of the tables uses
    # the mixture of Gaussians), each architecture, latent family and likelihood
    kinds = list(built)
    assert {(k[0], k[3]) for k in kinds} == {(m, p) for m in config.MODELS for p in ("standard", "vamp")}
    assert {k[1] for k in kinds} == set(config.ARCHITECTURES)
    assert {k[2] for k in kinds} == set(config.POSTERIORS) and {k[5] for k in kinds} == set(config.LIKELIHOODS)


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
    lines = proc.stderr.splitlines()
    assert any(line.startswith("epoch 1/1 beta ") for line in lines), proc.stderr  # the line as it was logged
    absl_prefix = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+\.py:\d+\]")
    assert not [line for line in lines if absl_prefix.match(line)], proc.stderr


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
    errors = [line for line in full.stderr.splitlines() if line.startswith("error: ")]
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


def test_help_lists_the_trainers_own_flags_by_group_with_their_defaults():
    proc = subprocess.run([sys.executable, "-m", "trainers.main", "--help"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]  # absl's --help exits with 1
    text = proc.stdout
    titles = ["Data:", "Model:", "Prior and latents:", "Training protocol:", "Evaluation:", "Output:", "System:",
              "Replication of the paper's code"]
    positions = [text.index("\n" + title) for title in titles]
    assert positions == sorted(positions), "groups out of order"
    from trainers import flags as trainer_flags  # pylint: disable=import-outside-toplevel
    for title, module in trainer_flags.GROUPS:
        section = text[text.index("\n" + title):]
        for name in flags.FLAGS.get_flags_for_module(module.__name__):
            assert f"--{name.name}:" in section or f"--[no]{name.name}:" in section, name.name
    assert "(default: 'mnist')" in text and "(default: '5000')" in text
    for foreign in ("--test_tmpdir", "--log_dir", "--only_check_args", "--pdb"):  # absl's, absltest's own
        assert foreign not in text, foreign
    replication = text[text.index("\nReplication of the paper's code"):]
    for switch in ("--probability_clamp", "--gray_values", "--[no]keep_last_batch", "--initialization"):
        assert switch in replication, switch


@pytest.mark.parametrize("flag", ["--beta=inf", "--learning_rate=inf", "--learning_rate=nan"])
def test_a_non_finite_setting_is_refused_in_one_line_before_anything_is_written(flag, trainer, real_data_dir, tmp_path):
    proc = trainer(str(tmp_path / "run"), real_data_dir, flag)
    assert proc.returncode == 2, proc.stderr[-2000:]
    name, value = flag[2:].split("=")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and f"{name}={float(value)!r} is invalid; it must be a finite number > 0" in errors[0]
    assert not os.path.exists(tmp_path / "run")  # no config.json with beta=inf left behind


def test_a_refused_resume_is_one_line_naming_every_difference(trainer, real_data_dir, tmp_path):
    run = str(tmp_path / "run")
    assert trainer(run, real_data_dir, "--epochs=1", "--figures=false").returncode == 0
    proc = trainer(run, real_data_dir, "--epochs=1", "--figures=false", "--latent_dim=3", "--seed=6")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert ("holds a run with another configuration (model.latent_dim: 2 -> 3; train.seed: 5 -> 6): use another "
            "--workdir") in lines[0]


PROTOCOL_FLAGFILES = sorted(glob.glob(os.path.join(REPO, "*.flags")) + [
    path for group in ("paper", "fashion", "presets")
    for path in glob.glob(os.path.join(REPO, "experiments", group, "*.flags"))])


# The paper's convHVAE and PixelHVAE on Frey Faces run at this machine's epoch budget (their flagfiles say why).
BUDGETS = {"frey_convhvae_standard": 490, "frey_convhvae_vamp": 490, "frey_pixelhvae_standard_codeinit": 360,
           "frey_pixelhvae_vamp_codeinit": 360}


@pytest.mark.parametrize("path", PROTOCOL_FLAGFILES, ids=lambda p: os.path.relpath(p, REPO))
def test_every_protocol_flagfile_carries_its_datasets_protocol(parse_trainer_flags, path):
    """The paper's protocol (Adam 5e-4, batch 100, warm-up 100, patience 50 up to 2000 epochs, S = 5000) and the
    dataset's likelihood and image shape, in the flagfiles of the paper's table, of Fashion-MNIST and of the
    presets: a flagfile that drifts from it reproduces something else."""
    from vamp_tf import datasets
    cfg = parse_trainer_flags(f"--flagfile={path}")
    t, m = cfg.train, cfg.model
    name = os.path.basename(path)[:-len(".flags")]
    assert (t.batch_size, t.learning_rate, t.optimizer) == (100, 5e-4, "adam")
    assert (t.warmup_epochs, t.early_stopping_patience, t.eval_samples) == (100, 50, 5000)
    assert t.epochs == BUDGETS.get(name, 2000)
    assert (t.beta, t.test_examples, t.train_examples) == (1.0, 0, 0)
    assert t.precision == ("auto" if name.startswith("frey_convhvae") else "float32")  # bfloat16 where computed
    info = datasets.info(t.dataset)
    assert (m.likelihood, tuple(m.input_shape)) == (info.likelihood, tuple(info.image_shape))
    assert m.prior == ("standard" if "standard" in name else "vamp"), name
    k = re.search(r"_k(\d+)$", name)
    assert m.num_components == (int(k.group(1)) if k else 500) or m.prior == "standard"
