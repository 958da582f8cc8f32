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


def test_readme_prior_example_runs():
    scope = run(snippets("README.md")[0], "README.md")
    assert scope["z"].shape == (16, 40) and scope["log_p"].shape == (16,)
    assert np.all(np.isfinite(scope["log_p"].numpy()))
    np.testing.assert_allclose(scope["pixels"].bin_probabilities().numpy().sum(-1), 1.0, atol=1e-5)


def test_readme_keras_fit_example_runs(real_data_dir):
    scope = run(snippets("README.md")[1], "README.md")
    history = scope["history"].history
    assert set(history) == {"loss", "elbo", "reconstruction", "kl"} and len(history["elbo"]) == 2
    assert history["elbo"][1] > history["elbo"][0]
    assert scope["terms"]["elbo"].shape == (4,) and scope["ll"]["per_image"].shape == (4,)
    drawn, means = scope["drawn"].numpy(), scope["means"].numpy()
    assert drawn.shape == means.shape == (16, 28, 28, 1) and set(np.unique(drawn)) == {0.0, 1.0}
    assert len(np.unique(means)) > 100  # gray means


def test_readme_tfds_style_fit_and_keras_save_and_load_run(real_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("VAMP_TF_DATA_DIR", real_data_dir)
    monkeypatch.chdir(tmp_path)  # the snippet writes vamp.keras into the working directory
    scope = run(snippets("README.md")[2], "README.md")
    history = scope["model"].history.history
    assert len(history["elbo"]) == 2 and history["elbo"][1] > history["elbo"][0]
    scope = run(snippets("README.md")[3], "README.md", scope)  # the next snippet goes on with the same model
    assert (tmp_path / "vamp.keras").exists() and type(scope["loaded"]) is type(scope["model"])
    assert scope["config"]["config"]["num_components"] == 20
    assert int(scope["loaded"].optimizer.iterations.numpy()) == 20  # 2 epochs of 10 batches


def test_readme_spherical_vampprior_example_runs():
    scope = run(snippets("README.md")[4], "README.md")
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
