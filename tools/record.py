r"""Records finished runs in experiments/results/, from which RESULTS.md is generated.

    python -m tools.record RUNS_ROOT [NAME ...]
    python -m tools.report

RUNS_ROOT is the --root of tools.run_grid (one workdir per experiment, RUNS_ROOT/NAME).
Every named run (without names: every run under RUNS_ROOT that has a results.json) must be an
experiment in experiments/*.flags, finished, and evaluated after its last epoch; otherwise
nothing at all is written. A run recorded again replaces its older record. Record the two
runs of a pair together (see tools/records.py). (No flags: it is imported beside
tools.report, which defines its own.)
"""

import os

from vamp_tf import startup  # noqa: E402  (TensorFlow without its start-up noise)

startup.import_tensorflow_quietly()

from absl import app

from tools import records
from vamp_tf import workdir as run_workdir



def record_runs(root: str, names: list[str], records_dir: str = records.RECORDS,
                figures_dir: str = records.FIGURES) -> list[str]:
    """Records the named finished runs under root (all of them or none); returns the record paths."""
    if not os.path.isdir(root):
        raise app.UsageError(f"{root!r} is not a directory: give the root of the workdirs (run_grid's --root).")
    names = names or sorted(n for n in os.listdir(root) if os.path.isfile(run_workdir.paths(os.path.join(root, n)).results))
    if not names:
        raise app.UsageError(f"no finished run under {root}: nothing recorded.")
    prepared = []  # every run is checked before any is written
    for name in names:
        workdir = os.path.join(root, name)
        if records.flagfile(name) is None:
            raise app.UsageError(f"{name!r} is not an experiment (no experiments/<group>/{name}.flags): the report "
                                 "would never show it. Add its flagfile first, or check the spelling.")
        if not os.path.isdir(workdir):
            raise app.UsageError(f"no workdir {workdir}: is {root} the run_grid --root, and {name!r} spelled right?")
        try:
            prepared.append((workdir, *records.from_workdir(workdir, name)))
        except records.NotFinished as e:
            raise app.UsageError(str(e)) from e
    paths = []
    for workdir, record, per_image in prepared:
        paths.append(records.write(record, per_image, records_dir))
        figures = records.copy_figures(workdir, record["name"], figures_dir)
        print(f"recorded {record['name']} in {paths[-1]}" + (f" (+{len(figures)} figures)" if figures else ""))
    return paths


def main(argv):
    if len(argv) < 2:
        raise app.UsageError("usage: python -m tools.record RUNS_ROOT [NAME ...]")
    record_runs(argv[1], argv[2:])
    print("now regenerate RESULTS.md: python -m tools.report")


if __name__ == "__main__":
    app.run(main)
