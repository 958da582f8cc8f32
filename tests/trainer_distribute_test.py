"""tf.distribute: mirrored replicas and multi-worker runs equal single-device training."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MIRRORED_STEP = """
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from vamp_tf import config, trainer


def config_of(optimizer, architecture, data_dir):
    if architecture in ("dense", "dense, last batch"):  # the last: an epoch's last batch of 50, 25 a replica
        last = architecture != "dense"
        return config.Config(config.ModelConfig(latent_dim=6, hidden_units=32, num_components=8),
                             config.TrainConfig(data_dir=data_dir, train_examples=250 if last else 200,
                                                optimizer=optimizer, seed=5, keep_last_batch=last))
    # the PixelHVAE: batch normalisation synchronised across replicas
    return config.Config(config.ModelConfig(input_shape=(28, 20, 1), likelihood="discretized_logistic", model="hvae",
                                            architecture=architecture, latent_dim=4, hidden_units=16, num_components=5),
                         config.TrainConfig(dataset="frey_faces", data_dir=data_dir, train_examples=200, batch_size=20,
                                            optimizer=optimizer, seed=5))


data_dir, cases = sys.argv[1], json.loads(sys.argv[2])
out = {}
for index, (optimizer, architecture) in enumerate(cases):
    cfg = config_of(optimizer, architecture, data_dir)
    # Each MirroredStrategy numbers its collectives from 1 + this base, which TensorFlow keeps for
    # tests: without distinct bases, the PixelHVAE's synchronised batch norm and another strategy's
    # gradient all-reduce met under one key ("Shape mismatch in the collective instance 100").
    tf.distribute.MirroredStrategy._collective_key_base = 100000 * index
    for name in ("default", "mirrored"):
        strategy = trainer.make_strategy(name)
        run = trainer.Trainer(cfg, strategy)
        batch = list(run.epoch_dataset(0))[-1]  # the same global batch and noise for both
        sums = run.train_step(batch, tf.constant(0.5)).numpy()
        out[f"{optimizer} {architecture} {name}"] = {
            "replicas": strategy.num_replicas_in_sync, "sums": sums.tolist(),
            "weights": [v.numpy().tolist() for v in run.model.trainable_variables],
            "statistics": [v.numpy().tolist() for v in run.model.non_trainable_variables if "moving" in v.path]}
print(json.dumps(out))
"""


# (optimizer, architecture): one process (TensorFlow's start-up is paid once). Each optimizer and each
# kind of network once: the dense VAE with the paper's Adam, the PixelHVAE (synchronised batch norm)
# with the gradient-normalised Adam, whose norm must be taken after the replicas' gradients are summed.
# And an epoch's last, smaller batch (--keep_last_batch): its loss the mean over the global batch's images.
MIRRORED_CASES = [("adam", "dense"), ("adam_normgrad", "pixelcnn"), ("adam", "dense, last batch")]


def test_mirrored_step_on_two_cpus_equals_the_default_step(real_data_dir):
    proc = subprocess.run([sys.executable, "-c", MIRRORED_STEP, real_data_dir, json.dumps(MIRRORED_CASES)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for optimizer, architecture in MIRRORED_CASES:
        case = f"{optimizer} {architecture}"
        default, mirrored = out[f"{case} default"], out[f"{case} mirrored"]
        assert (default["replicas"], mirrored["replicas"]) == (1, 2), case
        np.testing.assert_allclose(mirrored["sums"], default["sums"], rtol=1e-5, err_msg=case)
        # Convolution gradients are summed in another order on two replicas, and Adam's first step moves
        # every weight by about its learning rate (5e-4) whatever the gradient's size: a near-zero gradient's
        # sign can flip. So a few weights may differ by up to 2 x 5e-4; on average they agree closely.
        atol = 1e-3 if architecture == "pixelcnn" else 1e-5
        for a, b in zip(mirrored["weights"], default["weights"]):
            np.testing.assert_allclose(a, b, atol=atol, rtol=0, err_msg=case)
            assert np.mean(np.abs(np.subtract(a, b))) < 1e-5, case
        # Batch statistics over the global batch: the moving averages agree too (each replica saw half).
        assert len(default["statistics"]) == (16 if architecture == "pixelcnn" else 0), case
        for a, b in zip(mirrored["statistics"], default["statistics"]):
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5, err_msg=case)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMALL = ["--flagfile=" + os.path.join(REPO, "mnist.flags"), "--train_examples=400", "--test_examples=100",
         "--eval_samples=50", "--latent_dim=8", "--hidden_units=32", "--num_components=10", "--seed=2", "--nofigures"]


def _run_two_workers(workdir, epochs, data_dir, tmp_path):
    ports = [_free_port(), _free_port()]
    procs, logs = [], []
    for index in range(2):
        env = dict(os.environ, VAMP_TF_DATA_DIR=data_dir, TF_CONFIG=json.dumps(
            {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}))
        log = open(tmp_path / f"worker{index}_{epochs}.log", "w+")
        logs.append(log)
        procs.append(subprocess.Popen([sys.executable, "-m", "trainers.main", *SMALL, "--strategy=multi_worker",
                                       f"--epochs={epochs}", f"--workdir={workdir}"],
                                      cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
    try:
        codes = [p.wait(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for log in logs:
        log.seek(0)
    assert codes == [0, 0], "\n".join(log.read()[-2000:] for log in logs)


def test_multi_worker_checkpoints_resume_across_strategies(real_data_dir, tmp_path, monkeypatch, parse_trainer_flags):
    from vamp_tf import train_lib
    monkeypatch.setenv("VAMP_TF_DATA_DIR", real_data_dir)

    def single_process(workdir, epochs):
        """The single-process run of SMALL in this process, its flags parsed as the binary parses
        them: the same run as `python -m trainers.main`, without a second TensorFlow start-up."""
        return train_lib.train_and_evaluate(parse_trainer_flags(*SMALL, f"--epochs={epochs}", f"--workdir={workdir}"),
                                            workdir)

    mixed = str(tmp_path / "mixed")
    single_process(mixed, 1)                           # one process trains epoch 1,
    _run_two_workers(mixed, 2, real_data_dir, tmp_path)  # two workers resume it for epoch 2
    checkpoints = os.listdir(os.path.join(mixed, "checkpoints"))
    assert sorted(checkpoints) == ["best", "latest"]  # the non-chief's copies were removed
    assert json.load(open(os.path.join(mixed, "results.json")))["epochs_run"] == 2
    single_process(mixed, 3)                           # and one process resumes the 2-worker run
    straight = single_process(str(tmp_path / "straight"), 3)
    resumed = json.load(open(os.path.join(mixed, "results.json")))
    assert resumed["epochs_run"] == 3
    history = json.load(open(os.path.join(mixed, "history.json")))
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for key in ("test_log_likelihood", "test_elbo", "best_validation_neg_elbo"):
        np.testing.assert_allclose(resumed["metrics"][key], straight["metrics"][key], rtol=1e-5, err_msg=key)
