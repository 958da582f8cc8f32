"""The README's API example runs and does what its comments say."""

import os
import re

import numpy as np

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def test_readme_api_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", open(README).read(), re.S)
    assert len(blocks) == 1 and len(blocks[0].strip().splitlines()) <= 10
    scope = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)  # noqa: S102
    assert scope["z"].shape == (16, 40) and scope["log_p"].shape == (16,)
    assert np.all(np.isfinite(scope["log_p"].numpy()))
    np.testing.assert_allclose(scope["pixels"].bin_probabilities().numpy().sum(-1), 1.0, atol=1e-5)
