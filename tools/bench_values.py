"""Numbers from the benchmark sections of bench/README.md (written by the bench scripts themselves,
`--write_readme`), for the `bench` and `bench_date` value kinds of tools/report_values.py:

    <!--=bench:train_throughput (mnist, VAE, vamp)#examples/s (whole epoch, input pipeline included)@1-->5,650<!--/-->

SECTION (the heading the script wrote) '#' MEASURE (a row's label) '@' I: the I-th number of that row's
value cell (from 0; `float32 / mixed_bfloat16` cells hold one per precision), as the script printed it,
or with D decimals after '~D'. `bench_date:SECTION` gives the day the section was measured,
`bench_machine:SECTION` the processor it names ('AMD EPYC (x86_64, bf16 hardware: avx512_bf16)').
"""

from __future__ import annotations

import functools
import os
import re

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "README.md")
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
VERBATIM = -1  # the default decimals: the number as the benchmark printed it


@functools.lru_cache(maxsize=None)
def sections(path: str = README) -> dict:
    """{section name: {"date": 'YYYY-MM-DD', "machine": processor, "rows": {measure: value cell}}} of a bench
    README."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = {}
    for match in re.finditer(r"<!-- (?P<name>.+?):begin -->(?P<body>.*?)<!-- (?P=name):end -->", text, re.S):
        body = match.group("body")
        date = re.search(r"^commit \S+, (\d{4}-\d\d-\d\d)", body, re.M)
        machine = re.search(r"^commit \S+, [^,]+, (.+?), \d+ cores", body, re.M)
        rows = dict(re.findall(r"^\| (.+?) \| (.+?) \|$", body, re.M))
        found[match.group("name")] = {"date": date.group(1) if date else None, "rows": rows,
                                      "machine": machine.group(1) if machine else None}
    return found


def _section(name: str, error, path: str) -> dict:
    known = sections(path)
    if name not in known:
        raise error(f"bench/README.md has no section {name!r}; it has: {', '.join(known)}")
    return known[name]


def value(spec: str, digits: int, error=ValueError, path: str = README) -> str:
    """The number at SECTION#MEASURE@I of the bench README."""
    name, sep, rest = spec.partition("#")
    measure, at, index = rest.rpartition("@")
    if not sep or not at or not index.isdigit():
        raise error(f"{spec!r} needs SECTION#MEASURE@I (I: which number of the row, from 0)")
    row = _section(name, error, path)["rows"].get(measure)
    if row is None:
        raise error(f"bench/README.md's section {name!r} has no row {measure!r}")
    numbers = NUMBER.findall(row)
    if int(index) >= len(numbers):
        raise error(f"row {measure!r} of {name!r} holds {len(numbers)} numbers ({row!r}); no number {index}")
    text = numbers[int(index)]
    return text if digits == VERBATIM else f"{float(text.replace(',', '')):,.{digits}f}"


def _header(name: str, key: str, what: str, error, path: str) -> str:
    """The section's header field `key` ('date' or 'machine'); `error` names it missing as `what`."""
    found = _section(name, error, path)[key]
    if found is None:
        raise error(f"bench/README.md's section {name!r} names no {what}")
    return found


def date(name: str, error=ValueError, path: str = README) -> str:
    """The day section `name` was measured."""
    return _header(name, "date", "date", error, path)


def machine(name: str, error=ValueError, path: str = README) -> str:
    """The processor (with its bfloat16 hardware) section `name` was measured on."""
    return _header(name, "machine", "processor", error, path)
