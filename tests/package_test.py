"""Tests of the vamp_tf package itself: importing it changes no global state, and the
README's spelling `vamp_tf.<module>.<function>` works after a plain `import vamp_tf`."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = """
import json, sys
import matplotlib
before = matplotlib.rcParams._get_backend_or_none()
import vamp_tf
import tensorflow_datasets as tfds
out = {"backend_before": before, "backend_after": matplotlib.rcParams._get_backend_or_none(),
       "frey_registered": "frey_faces" in tfds.list_builders(with_community_datasets=False),
       "caltech_registered": "caltech101_silhouettes" in tfds.list_builders(with_community_datasets=False),
       "attributes": [callable(vamp_tf.evaluation.log_likelihood), callable(vamp_tf.train_lib.train_and_evaluate),
                      callable(vamp_tf.checkpoints.restore_model), callable(vamp_tf.priors.VampPrior)]}
print(json.dumps(out))
"""


def test_import_changes_no_global_state_and_exposes_every_module():
    env = dict(os.environ, MPLBACKEND="svg")
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["backend_after"] == out["backend_before"] == "svg"  # plots.py never calls matplotlib.use
    assert not out["frey_registered"] and not out["caltech_registered"]  # registered when TFDS is used
    assert all(out["attributes"])


QUIET = """
import os, vamp_tf
model = vamp_tf.models.build_model(vamp_tf.config.ModelConfig(latent_dim=2, hidden_units=4, num_components=2))
model.sample(1)
print("TF_CPP_MIN_LOG_LEVEL" in os.environ)
"""


def test_library_use_prints_no_tensorflow_start_up_lines_and_leaves_its_log_level_alone():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "VAMP_TF_VERBOSE")}
    proc = subprocess.run([sys.executable, "-c", QUIET], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "False"
    assert "cuda" not in proc.stderr.lower() and "E0000" not in proc.stderr, proc.stderr
    verbose = subprocess.run([sys.executable, "-c", QUIET], cwd=REPO, env=dict(env, VAMP_TF_VERBOSE="1"),
                             capture_output=True, text=True, timeout=120)
    assert "cuda" in verbose.stderr.lower()  # what is hidden, on this CPU-only machine


def test_what_the_readme_commands_write_into_the_checkout_is_ignored_by_git():
    for path in ("exported/saved_model/x.pb", "samples.png", "runs/mnist-1234abcd/results.json"):
        proc = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO)
        assert proc.returncode == 0, f"{path} is not ignored by git"


def test_no_library_or_tool_file_is_over_300_lines():
    import glob
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [p for folder in ("vamp_tf", "tools") for p in glob.glob(os.path.join(root, folder, "**", "*.py"), recursive=True)]
    long = {os.path.relpath(path, root): n for path in paths if (n := sum(1 for _ in open(path))) > 300}
    assert not long, f"split these files (one job each, under 300 lines): {long}"


def test_the_wheel_ships_every_preset_and_its_manifest(tmp_path):
    """`pip install .` installs what `vamp_tf.presets` reads: a wheel built from the checkout holds them."""
    import glob
    import subprocess
    import sys
    import zipfile
    from vamp_tf import presets
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", repo, "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set(zipfile.ZipFile(glob.glob(str(tmp_path / "*.whl"))[0]).namelist())
    assert "vamp_tf/presets/manifest.json" in names
    for name in presets.names():
        assert f"vamp_tf/presets/{presets.info(name)['file']}" in names
