"""A number from any record file under experiments/, by its place in the JSON: the `field` value kind.

    <!--=field:parity/path_frey_convhvae_vamp#rows.25.2~1-->2287.6<!--/-->

FILE is a JSON record under experiments/, named without '.json'; after '#', its dict keys and list indices
joined by '.'; a '-' before FILE negates the number (a log-likelihood as -log p(x)). For the numbers a
record holds that no other kind names: a check's measurements, a run of the paper's code's training loss,
a time. FILE@COMMIT reads the record as it was committed at COMMIT, for a record a later run replaced:

    <!--=field:results/frey_vamp_l40@be982fc^#results.metrics.bits_per_dim~3-->4.554<!--/-->

The `rows` kind summarises a table a record keeps as `rows` (lists whose first entry is an epoch):

    <!--=rows:parity/path_frey_convhvae_vamp#mean:2-1@1..50~1-->-20.1<!--/-->

STAT (mean, min, max, max_abs) of column A, or of column A minus column B, over the rows whose epoch is
in E1..E2 (both included).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess

import numpy as np

from vamp_tf import files

EXPERIMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments")


@functools.lru_cache(maxsize=None)
def _git_show(repo: str, revision: str) -> tuple[int, str, str]:
    """(return code, stdout, stderr) of `git show REVISION` in repo; a page quotes one record several times."""
    done = subprocess.run(["git", "-C", repo, "show", revision], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def _committed(path: str, commit: str, error, root: str):
    """experiments/PATH.json as committed at COMMIT (git show), parsed."""
    repo = os.path.dirname(os.path.normpath(root))
    rel = f"{os.path.basename(os.path.normpath(root))}/{path}.json"
    code, text, message = _git_show(repo, f"{commit}:{rel}")
    if code:
        raise error(f"no record {rel} at commit {commit} (git: {message.strip()[:200]})")
    return json.loads(text)


def _read(spec: str, error, root: str):
    place, sep, keys = spec.lstrip("-").partition("#")
    if not sep or not keys:
        raise error(f"{spec!r} needs a place in the record: FILE#KEY.KEY (keys and list indices)")
    path, at, commit = place.partition("@")
    if at:
        return path, keys, _committed(path, commit, error, root)
    root = os.path.normpath(root)
    full = os.path.normpath(os.path.join(root, path + ".json"))
    if not full.startswith(root + os.sep) or not os.path.isfile(full):
        raise error(f"no record {path}.json under experiments/")
    return path, keys, files.read_json(full)


STATS = {"mean": np.mean, "min": np.min, "max": np.max, "max_abs": lambda x: np.max(np.abs(x))}


def rows(spec: str, digits: int, error=ValueError, root: str = EXPERIMENTS) -> str:
    """STAT of a column (or a difference of two) over the record's rows with epochs E1..E2: FILE#STAT:A[-B]@E1..E2."""
    path, what, record = _read(spec, error, root)
    stat, _, rest = what.partition(":")
    columns, _, epochs = rest.partition("@")
    first, _, last = epochs.partition("..")
    if (stat not in STATS or not first.isdigit() or not last.isdigit()
            or not all(c.isdigit() for c in columns.split("-")) or columns.count("-") > 1):
        raise error(f"{spec!r} needs FILE#STAT:A[-B]@E1..E2 with STAT one of {', '.join(STATS)}")
    table = np.asarray(record.get("rows") or [], dtype=np.float64)
    a, _, b = columns.partition("-")
    picked = table[(table[:, 0] >= int(first)) & (table[:, 0] <= int(last))] if table.size else table
    if not len(picked) or max(int(a), int(b or 0)) >= table.shape[1]:
        raise error(f"{path}.json has no rows with epochs {first}..{last} and columns {columns}")
    values = picked[:, int(a)] - (picked[:, int(b)] if b else 0.0)
    return f"{STATS[stat](values):.{digits}f}"


def value(spec: str, digits: int, error=ValueError, root: str = EXPERIMENTS) -> str:
    """The number at FILE#PATH, with `digits` decimals; `error` (a ValueError) names what is missing."""
    sign = -1 if spec.startswith("-") else 1
    path, keys, node = _read(spec, error, root)
    for key in keys.split("."):
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise error(f"{path}.json has no {keys!r} (no {key!r} there)") from None
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise error(f"{path}.json's {keys!r} is a {type(node).__name__}, not a number")
    return f"{sign * node:.{digits}f}"
