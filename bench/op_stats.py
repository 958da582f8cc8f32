r"""Per-op time of a TensorFlow profile, with xprof (no TensorFlow needed).

    XPROF_PYTHON bench/op_stats.py LOGDIR [--top N]

LOGDIR is where bench/profile_step.py wrote the profile (tf.profiler). Prints JSON: the
host's ops by type and by name, each with its self time (microseconds) and share of the
profiled ops' self time. Runs in an environment that has the `xprof` package (pip install
xprof): its protobuf differs from TensorFlow's, so keep it out of vamp_tf's venv, e.g.
`python3 -m venv .xprof && .xprof/bin/pip install xprof`.
"""

import collections
import glob
import json
import os
import sys


def op_stats(logdir: str, top: int) -> dict:
    from xprof.convert import raw_to_tool_data  # pylint: disable=import-outside-toplevel
    paths = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))
    if not paths:
        raise SystemExit(f"no *.xplane.pb under {logdir}: run bench/profile_step.py first.")
    data, _ = raw_to_tool_data.xspace_to_tool_data(paths[-1:], "framework_op_stats", {"use_saved_result": False})
    table = json.loads(data)[0]
    columns = [c["id"] for c in table["cols"]]
    rows = [dict(zip(columns, (cell.get("v") if cell else None for cell in row["c"]))) for row in table["rows"]]
    rows = [r for r in rows if r["host_or_device"] == "Host" and r["type"] != "IDLE"]
    total = sum(r["total_self_time"] for r in rows) or 1.0
    by_type = collections.Counter()
    for r in rows:
        by_type[r["type"]] += r["total_self_time"]
    by_name = sorted(rows, key=lambda r: -r["total_self_time"])
    return {"total_self_time_us": total,
            "by_type": [{"type": t, "self_time_us": v, "share": v / total} for t, v in by_type.most_common(top)],
            "by_name": [{"name": r["operation"], "type": r["type"], "occurrences": r["occurrences"],
                         "self_time_us": r["total_self_time"], "share": r["total_self_time"] / total}
                        for r in by_name[:top]]}


if __name__ == "__main__":
    args = sys.argv[1:]
    count = int(args[args.index("--top") + 1]) if "--top" in args else 15
    print(json.dumps(op_stats(args[0], count)))
