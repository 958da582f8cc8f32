r"""Wall time of the test suite as CI runs it: a fresh clone of one commit, `bash .ci/run` in it.

    python -m bench.suite_time [--commit=HEAD] [--repeats=1] [--write_readme]

Clones this repository into a directory beside it (so that `../shared` is where CI finds it),
checks out --commit, and runs `CI=true bash .ci/run` there --repeats times, each in a new clone:
the virtual environment's creation and install are part of the time, as they are in CI. Reports
the tests that passed, pytest's own seconds and the whole run's wall time, one per repeat, and
the processor. Pause background runs first (SIGSTOP): this times the machine as much as the
suite. A failing run is reported as failed, with the end of its output, and writes nothing.
"""

import os
import re
import shutil
import subprocess
import sys
import time

from absl import app, flags

from bench import options

_COMMIT = flags.DEFINE_string("commit", "HEAD", "The commit whose suite is timed (anything `git rev-parse` takes).")
_REPEATS = flags.DEFINE_integer("repeats", 1, "Fresh clones timed one after the other.", lower_bound=1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r"^(?:=+ )?(?P<counts>\d+ [a-z]+(?:, \d+ [a-z]+)*) in (?P<seconds>[\d.]+)s", re.M)


def summary(output: str) -> dict:
    """{'passed': n, 'seconds': pytest's own time} from pytest's last summary line in `output`;
    ValueError naming the end of the output if there is none, or if any test failed or errored."""
    found = list(SUMMARY.finditer(output))
    if not found:
        raise ValueError("no pytest summary line ('N passed ... in S s') in the run's output; its end:\n"
                         + output[-2000:])
    last = found[-1]
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) ([a-z]+)", last.group("counts"))}
    if counts.get("failed") or counts.get("error") or counts.get("errors") or not counts.get("passed"):
        raise ValueError(f"the suite did not pass: {last.group(0).strip('= ')}")
    return {"passed": counts["passed"], "seconds": float(last.group("seconds"))}


def resolve(commit: str) -> str:
    """The full hash of `commit` in this repository (UsageError if git does not know it)."""
    done = subprocess.run(["git", "-C", ROOT, "rev-parse", "--verify", f"{commit}^{{commit}}"],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise app.UsageError(f"--commit={commit!r}: git does not know it ({done.stderr.strip()})")
    return done.stdout.strip()


def run_once(commit: str) -> dict:
    """One fresh clone of `commit` beside the repository, `CI=true bash .ci/run` in it, timed."""
    clone = os.path.join(os.path.dirname(ROOT), "suite-time-check")
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", ROOT, clone], check=True)
    subprocess.run(["git", "-C", clone, "checkout", "-q", commit], check=True)
    start = time.perf_counter()
    done = subprocess.run(["bash", ".ci/run"], cwd=clone, env={**os.environ, "CI": "true"},
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    output = done.stdout + done.stderr
    if done.returncode:
        raise RuntimeError(f"`bash .ci/run` of {commit[:7]} exited {done.returncode}; its end:\n{output[-2000:]}")
    shutil.rmtree(clone, ignore_errors=True)
    return {**summary(output), "wall": wall}


def minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s"


def main(argv):
    del argv
    from bench import common  # pylint: disable=import-outside-toplevel
    commit = resolve(_COMMIT.value)
    runs = [run_once(commit) for _ in range(_REPEATS.value)]
    day = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%cs", commit],
                         capture_output=True, text=True, check=True).stdout.strip()
    rows = [("commit timed", f"{commit[:7]} (committed {day})"),
            ("tests passed", " / ".join(str(r["passed"]) for r in runs)),
            ("pytest's seconds", " / ".join(f"{r['seconds']:.0f}" for r in runs)),
            ("fresh clone to green, venv included", " / ".join(minutes(r["wall"]) for r in runs)),
            ("fresh clone to green, seconds", " / ".join(f"{r['wall']:.0f}" for r in runs))]
    for k, v in rows:
        print(f"{k:40s} {v}")
    if options.WRITE_README.value:
        common.write_section(f"suite_time ({commit[:7]})", "python -m bench.suite_time " + " ".join(sys.argv[1:]), rows)


if __name__ == "__main__":
    app.run(main)
