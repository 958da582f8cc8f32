"""A number from any record file under experiments/, by its place in the JSON: the `field` value kind.

    <!--=field:parity/path_frey_convhvae_vamp#rows.25.2~1-->2287.6<!--/-->

FILE is a JSON record under experiments/, named without '.json'; after '#', its dict keys and list indices
joined by '.'; a '-' before FILE negates the number (a log-likelihood as -log p(x)). For the numbers a
record holds that no other kind names: a check's measurements, a run of the paper's code's training loss,
a time.
"""

from __future__ import annotations

import os

from vamp_tf import files

EXPERIMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments")


def value(spec: str, digits: int, error=ValueError, root: str = EXPERIMENTS) -> str:
    """The number at FILE#PATH, with `digits` decimals; `error` (a ValueError) names what is missing."""
    sign = -1 if spec.startswith("-") else 1
    path, sep, keys = spec.lstrip("-").partition("#")
    if not sep or not keys:
        raise error(f"{spec!r} needs a place in the record: FILE#KEY.KEY (keys and list indices)")
    root = os.path.normpath(root)
    full = os.path.normpath(os.path.join(root, path + ".json"))
    if not full.startswith(root + os.sep) or not os.path.isfile(full):
        raise error(f"no record {path}.json under experiments/")
    node = files.read_json(full)
    for key in keys.split("."):
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise error(f"{path}.json has no {keys!r} (no {key!r} there)") from None
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise error(f"{path}.json's {keys!r} is a {type(node).__name__}, not a number")
    return f"{sign * node:.{digits}f}"
