"""Tests of tools/bench_values.py: numbers read from the benchmark sections the bench scripts write."""

import pytest

from tools import bench_values, report_values

SECTION = """# Benchmarks

prose with 12 numbers

<!-- train_throughput (mnist, VAE, vamp):begin -->
### train_throughput (mnist, VAE, vamp)

`python -m bench.train_throughput --flagfile=mnist.flags`

commit 180b68b, 2026-11-30 00:00 UTC, AMD EPYC (x86_64, bf16 hardware: avx512_bf16), 2 cores

| measure | value |
| --- | --- |
| examples/s (whole epoch, input pipeline included) | 4,574 / 5,650 |
| the step's matmuls and convolutions alone (bench.floor) | 14.87 ms (29 ops) / 8.24 ms (29 ops) |
| matmul rate of this machine (2048^3, TF), in that precision | 208 GFLOP/s / 376 GFLOP/s |
<!-- train_throughput (mnist, VAE, vamp):end -->
"""


@pytest.fixture
def readme(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(SECTION)
    yield str(path)
    bench_values.sections.cache_clear()


def test_a_row_gives_its_numbers_as_printed_or_rounded(readme):
    name = "train_throughput (mnist, VAE, vamp)"
    assert bench_values.value(f"{name}#examples/s (whole epoch, input pipeline included)@1", -1, path=readme) == "5,650"
    # the label's own digits (2048^3) are not the cell's
    assert bench_values.value(f"{name}#matmul rate of this machine (2048^3, TF), in that precision@0", -1,
                              path=readme) == "208"
    floor = f"{name}#the step's matmuls and convolutions alone (bench.floor)"
    assert [bench_values.value(f"{floor}@{i}", -1, path=readme) for i in range(4)] == ["14.87", "29", "8.24", "29"]
    assert bench_values.value(f"{floor}@2", 1, path=readme) == "8.2"
    assert bench_values.value(f"{name}#examples/s (whole epoch, input pipeline included)@0", 1, path=readme) == "4,574.0"
    assert bench_values.date(name, path=readme) == "2026-11-30"
    assert bench_values.machine(name, path=readme) == "AMD EPYC (x86_64, bf16 hardware: avx512_bf16)"


def test_a_section_without_a_header_names_no_day_and_no_processor(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("<!-- s:begin -->\n### s\n\n| a | 1 |\n<!-- s:end -->\n")
    with pytest.raises(ValueError, match="section 's' names no date"):
        bench_values.date("s", path=str(path))
    with pytest.raises(ValueError, match="section 's' names no processor"):
        bench_values.machine("s", path=str(path))
    bench_values.sections.cache_clear()


@pytest.mark.parametrize("spec,match", [
    ("train_throughput (mnist, VAE, vamp)#examples/s (whole epoch, input pipeline included)", "needs SECTION#MEASURE@I"),
    ("eval_throughput (mnist)#x@0", "no section 'eval_throughput \\(mnist\\)'; it has: train_throughput"),
    ("train_throughput (mnist, VAE, vamp)#epoch@0", "has no row 'epoch'"),
    ("train_throughput (mnist, VAE, vamp)#examples/s (whole epoch, input pipeline included)@2", "holds 2 numbers"),
])
def test_what_a_section_cannot_give_is_named(readme, spec, match):
    with pytest.raises(ValueError, match=match):
        bench_values.value(spec, -1, path=readme)


def test_the_bench_kind_renders_the_committed_benchmark_output():
    page = "<!--=bench:train_throughput (mnist, VAE, vamp)#ms per train step@0-->?<!--/-->"
    out = report_values.render(page, report_values.run_lookup({}), "p.md")
    row = bench_values.sections()["train_throughput (mnist, VAE, vamp)"]["rows"]["ms per train step"]
    assert out == page.replace("?", row.split(" / ")[0])
