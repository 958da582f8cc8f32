"""Every Python snippet of README.md and BUILD.md runs, and does what its comments say."""

import os
import re

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def snippets(name):
    return re.findall(r"```python\n(.*?)```", open(os.path.join(REPO, name)).read(), re.S)


def run(code, name, scope=None):
    scope = {} if scope is None else scope
    exec(compile(code, name, "exec"), scope)  # noqa: S102
    return scope


PRESET, LITERT, SAVED_MODEL, PRIOR, FIT, TFDS_FIT, SAVE_LOAD, SPHERE, EXPERIMENT = range(9)  # README's, in order


def test_readme_has_the_snippets_these_tests_run():
    assert len(snippets("README.md")) == 9


def test_readme_preset_and_on_device_examples_run_as_printed(real_data_dir, tmp_path, monkeypatch):
    import subprocess
    import sys
    monkeypatch.chdir(tmp_path)
    scope = run(snippets("README.md")[PRESET], "README.md")
    assert scope["digits"].shape == scope["means"].shape == (16, 28, 28, 1)
    assert set(np.unique(scope["digits"])) == {0.0, 1.0} and len(np.unique(scope["means"])) > 1000
    assert scope["info"]["record"] in open(os.path.join(REPO, "RESULTS.md")).read()
    readme = open(os.path.join(REPO, "README.md")).read()
    commands = re.findall(r"^    (python -m export\.\S+ .*?)\s*(?:#|$)", readme, re.M)[:2]
    assert [c.split()[2] for c in commands] == ["export.main", "export.sample"]
    for command in commands:
        proc = subprocess.run([sys.executable, *command.split()[1:]], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "PYTHONPATH": REPO})
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert os.path.isfile("faces.png") and os.path.isfile("exported/frey/sampler.tflite")
    # the on-device snippets, in a process that never imports vamp_tf
    for index, names in ((LITERT, "images, means"), (SAVED_MODEL, "images, means")):
        code = "import sys\nsys.modules['vamp_tf'] = None\n" + snippets("README.md")[index] + (
            f"\nimport numpy as np\nnp.save('out.npy', np.stack([np.asarray(images), np.asarray(means)]))")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        images, means = np.load("out.npy")
        assert images.shape == (16, 28, 20, 1) and 0 <= images.min() and images.max() <= 1
        np.testing.assert_allclose(images * 255, np.round(images * 255), atol=1e-3)  # drawn: on the grid k / 255
        assert len(np.unique(means)) > 1000  # means: continuous


def test_readme_prior_example_runs():
    scope = run(snippets("README.md")[PRIOR], "README.md")
    assert scope["z"].shape == (16, 40) and scope["log_p"].shape == (16,)
    assert np.all(np.isfinite(scope["log_p"].numpy()))
    np.testing.assert_allclose(scope["pixels"].bin_probabilities().numpy().sum(-1), 1.0, atol=1e-5)


def test_readme_keras_fit_example_runs(real_data_dir):
    scope = run(snippets("README.md")[FIT], "README.md")
    history = scope["history"].history
    assert set(history) == {"loss", "elbo", "reconstruction", "kl"} and len(history["elbo"]) == 2
    assert history["elbo"][1] > history["elbo"][0]
    assert scope["terms"]["elbo"].shape == (4,) and scope["ll"]["per_image"].shape == (4,)
    drawn, means = scope["drawn"].numpy(), scope["means"].numpy()
    assert drawn.shape == means.shape == (16, 28, 28, 1) and set(np.unique(drawn)) == {0.0, 1.0}
    assert len(np.unique(means)) > 100  # gray means
    assert sorted(scope["q"]) == ["log_variance", "mean"] and scope["q"]["mean"].shape == (4, 8)
    assert scope["again"].shape == (4, 28, 28, 1) and len(np.unique(scope["again"].numpy())) > 100


def test_readme_tfds_style_fit_runs(real_data_dir, monkeypatch):
    monkeypatch.setenv("VAMP_TF_DATA_DIR", real_data_dir)
    scope = run(snippets("README.md")[TFDS_FIT], "README.md")
    history = scope["model"].history.history
    assert len(history["elbo"]) == 2 and history["elbo"][1] > history["elbo"][0]


def test_readme_save_and_load_runs_alone_and_writes_nothing_into_the_working_directory(real_data_dir, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.setenv("VAMP_TF_DATA_DIR", real_data_dir)
    monkeypatch.chdir(tmp_path)
    scope = run(snippets("README.md")[SAVE_LOAD], "README.md")  # alone: a fresh scope, as a reader runs it
    assert os.listdir(tmp_path) == [] and os.path.isfile(scope["path"])
    assert type(scope["loaded"]) is type(scope["model"]) and scope["config"]["config"]["num_components"] == 20
    assert int(scope["loaded"].optimizer.iterations.numpy()) == 4  # 2 epochs of 2 batches, restored


def test_readme_spherical_vampprior_example_runs():
    scope = run(snippets("README.md")[SPHERE], "README.md")
    assert scope["z"].shape == (16, 10) and scope["log_p"].shape == (16,)
    np.testing.assert_allclose(np.linalg.norm(scope["z"].numpy(), axis=-1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(scope["log_p"].numpy()))
    assert scope["uniform"].event_shape == [10]


def test_build_md_snippet_reads_a_finished_run(small_runs, monkeypatch):
    blocks = snippets("BUILD.md")
    assert len(blocks) == 1
    monkeypatch.setenv("VAMP_TF_EXAMPLE_RUN", small_runs["mnist_vamp"])
    scope = run(blocks[0], "BUILD.md")
    assert scope["results"]["complete"] and scope["checkpoint"].endswith("ckpt-1")
    assert scope["config"].model.prior == "vamp" and scope["model"].prior.num_components == 5


def test_the_manual_is_short_its_reports_have_a_home_and_every_link_resolves():
    manual = open(os.path.join(REPO, "BUILD.md")).read()
    assert len(manual.splitlines()) < 500, "BUILD.md is the manual: research reports go to docs/"
    for name in ("README.md", "BUILD.md"):
        text = open(os.path.join(REPO, name)).read()
        assert not re.search(r"\bissues? \d", text, re.I), f"{name} names an issue number"
    assert "docs/paper_code_referee.md" in manual and "docs/README.md" in open(os.path.join(REPO, "README.md")).read()
    pages = ["README.md", "BUILD.md", "RESULTS.md", "experiments/README.md"] + [
        os.path.join("docs", n) for n in os.listdir(os.path.join(REPO, "docs")) if n.endswith(".md")]
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", open(os.path.join(REPO, page)).read()):
            path = os.path.normpath(os.path.join(REPO, os.path.dirname(page), target))
            assert os.path.exists(path), f"{page} links to {target}, which does not exist"


def test_readme_experiment_from_python_prints_its_epochs_and_writes_only_its_workdir(real_data_dir, tmp_path):
    import subprocess
    import sys
    code = snippets("README.md")[EXPERIMENT] + "\nprint(workdir)\n"
    env = {**os.environ, "VAMP_TF_DATA_DIR": real_data_dir, "PYTHONPATH": REPO}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert os.listdir(tmp_path) == []  # the run went to its temporary workdir
    lines = proc.stderr.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch ") and " beta " in line] == ["1/2", "2/2"]
    log_likelihood, workdir = proc.stdout.split()
    assert -700 < float(log_likelihood) < -100  # nats of a binary 28 x 28 image after 2 short epochs
    import json
    results = json.load(open(os.path.join(workdir, "results.json")))
    assert results["metrics"]["test_log_likelihood"] == float(log_likelihood) and results["epochs_run"] == 2
