"""``python -m fastcache``: the bench main job (quick mode), ``info``, ``--help``, bad usage.

The bench runs in a subprocess, as a user runs it; the assertions are about the shape of
its output and that it ends, never about speed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fastcache import _bench

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("fastcache (c)", "fastcache (py)", "cachetools", "cachebox", "lru-dict")


def fastcache_cli(*args: str, pure: bool = False,
                  timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m fastcache ARGS`` from the checkout, in this environment (``pure``: twin)."""
    env = dict(os.environ)
    if pure:
        env["FASTCACHE_PURE_PYTHON"] = "1"
    return subprocess.run([sys.executable, "-m", "fastcache", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def table(stdout: str, title_start: str) -> list[str]:
    """The lines of the table whose title starts with ``title_start`` (header first)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## " + title_start))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].strip())
    return [line for line in lines[start + 1:end] if not line.startswith("  (")]


@pytest.fixture(scope="module")
def quick() -> subprocess.CompletedProcess[str]:
    return fastcache_cli("bench", "--quick")


def test_bench_quick_ends_with_all_tables(quick: subprocess.CompletedProcess[str]) -> None:
    assert quick.returncode == 0, quick.stderr
    out = quick.stdout
    import fastcache

    assert f"# implementation: {fastcache.IMPLEMENTATION}" in out
    assert f"python: CPython {sys.version.split()[0]}" in out
    titles = [line for line in out.splitlines() if line.startswith("## ")]
    for title in ("Cost per operation", "LRUCache hit cost by number", "Zipf(0.99)",
                  "TTL reclamation", "Decorators", "fastcache's speed targets",
                  "How noisy this run was"):
        assert any(t.startswith(f"## {title}") for t in titles), titles
    # every table says which way is better (the noise line is not a measurement)
    assert all("lower is better" in t for t in titles if "noisy" not in t), titles
    for jargon in ("Goals", "issue", "a quarter", "all /"):
        assert jargon not in out, jargon
    noise = out.split("## How noisy this run was\n")[1].splitlines()[0]
    assert re.fullmatch(r"  \(spread of the rounds: over \d+ timed loops, the median round "
                        r"was \d+% above the best one \(worst loop: \d+%\).*\)", noise), noise
    # progress went to stderr, the tables to stdout
    assert re.search(r"\[1\] LRUCache hit", quick.stderr)
    assert "done in" in quick.stderr
    assert "[1]" not in out


def test_bench_ops_table_shape(quick: subprocess.CompletedProcess[str]) -> None:
    header, *rows = table(quick.stdout, "Cost per operation")
    assert header.split()[0] == "dict"
    for name in PEERS:
        assert name in header
    assert [row.split(",")[0] for row in rows] == [
        "LRUCache hit", "LRUCache insert+evict", "LFUCache hit", "LFUCache insert+evict",
        "TTLCache hit"]
    for row in rows:
        cells = re.split(r"\s{2,}", row.strip())
        assert len(cells) == 1 + 1 + len(PEERS), row
        assert re.fullmatch(r"\d+ ns", cells[1]), row  # the dict baseline, its unit
        # each contender's own time beside its ratio to dict
        ratios = re.findall(r"\d+ ns \((\d+\.\d\d)x\)", row)
        # the twin, cachetools and cachebox have all three policies; lru-dict only LRU
        assert len(ratios) >= 3, row
        assert all(float(x) > 0 for x in ratios)


def test_bench_decorator_rows(quick: subprocess.CompletedProcess[str]) -> None:
    """The decorators' rows are there (fastcache._bench.decorators.rows(), shipped with the
    package), the functools ones at least."""
    lines = quick.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## Decorators"))
    end = lines.index("", start)
    assert not [line for line in lines[start:end] if line.startswith("  (")], lines[start:end]
    header, *rows = lines[start + 1:end]
    assert header.split() == ["fastcache", "baseline", "ratio"]
    assert rows
    for row in rows:
        # fastcache's time, the baseline's own time, their ratio; the row names the baseline
        assert re.search(r", vs .+\s\d+ ns\s+\d+ ns\s+\d+\.\d\dx$", row), row


def test_bench_lru_hit_ratios_agree(quick: subprocess.CompletedProcess[str]) -> None:
    """Exact LRU is deterministic: every LRU implementation gets the same Zipf hit ratio."""
    _, *rows = table(quick.stdout, "Zipf(0.99)")
    ratios = {m.group() for row in rows for m in [re.search(r"\d\.\d{4}(?=\s)", row)] if m}
    assert len(rows) >= 4
    assert len(ratios) == 1, rows
    assert 0.3 < float(ratios.pop()) < 0.7


def test_bench_ttl_rows(quick: subprocess.CompletedProcess[str]) -> None:
    _, *rows = table(quick.stdout, "TTL reclamation")
    twin = [row for row in rows if row.startswith("fastcache (py): ") and "expire" in row]
    assert len(twin) == 3
    # every entry expired in the last row, none left
    assert re.search(r"(\d[\d,]*) of \1 expire .* 0$", twin[-1]), twin[-1]


def test_bench_pure_python_marks_compiled_missing() -> None:
    proc = fastcache_cli("bench", "--quick", pure=True)
    assert proc.returncode == 0, proc.stderr
    assert "# implementation: py (FASTCACHE_PURE_PYTHON is set)" in proc.stdout
    assert "(fastcache (c): compiled core not loaded)" in proc.stdout
    _, *rows = table(proc.stdout, "Cost per operation")
    for row in rows:
        cells = re.split(r"\s{2,}", row.strip())
        assert cells[2] == "-", row


def test_info() -> None:
    proc = fastcache_cli("info")
    assert proc.returncode == 0, proc.stderr
    import fastcache

    assert proc.stdout.splitlines()[0] == f"fastcache {fastcache.__version__}"
    assert f"implementation: {fastcache.IMPLEMENTATION}" in proc.stdout
    if fastcache.IMPLEMENTATION == "c":
        from fastcache import _core

        assert f"compiled module: {_core.__file__}" in proc.stdout


def test_version() -> None:
    import fastcache

    proc = fastcache_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"fastcache {fastcache.__version__}"


def test_help_lists_commands() -> None:
    proc = fastcache_cli("--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: fastcache ")  # the installed command's name
    assert "bench" in proc.stdout and "info" in proc.stdout
    proc = fastcache_cli("bench", "--help")
    assert proc.returncode == 0
    assert "--quick" in proc.stdout and "--full" in proc.stdout


@pytest.mark.parametrize("args", [(), ("bench", "--quick", "--full"), ("nosuch",)])
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    proc = fastcache_cli(*args)
    assert proc.returncode == 2
    assert "usage: fastcache" in proc.stderr


def test_run_refuses_quick_and_full() -> None:
    with pytest.raises(ValueError, match="exclusive"):
        _bench.run(quick=True, full=True)


def test_format_rows_pivots_cells_and_notes() -> None:
    rows = [
        _bench.Row("T", "a", "x", 1.0, "1"),
        _bench.Row("T", "a", "y", 2.0, "22"),
        _bench.Row("T", "bb", "x", None, "-"),
        _bench.Row("T", "bb", _bench.NOTE, None, "why"),
        _bench.Row("U", "c", "z", 3.0, "3"),
    ]
    assert _bench.format_rows(rows).splitlines() == [
        "## T",
        "    x   y",
        "a   1  22",
        "bb  -",
        "  (bb: why)",
        "",
        "## U",
        "   z",
        "c  3",
    ]


def test_workload_helpers() -> None:
    keys = _bench.make_keys(1000)
    assert len(set(keys)) == 1000
    assert sorted(_bench.scattered(keys, 1000)) == sorted(keys)
    reqs = _bench.zipf_requests(1000, 50_000)
    top = max(reqs.count(k) for k in set(reqs)) / len(reqs)
    harmonic = sum(1 / r**0.99 for r in range(1, 1001))
    assert abs(top - 1 / harmonic) < 0.02  # rank 1 has probability 1/H(1000, 0.99)
    assert reqs == _bench.zipf_requests(1000, 50_000)  # seeded: same workload every run


def test_hit_row_measured_once() -> None:
    """The LRU hit on a full cache of the first table's size is one measurement: the sizes
    table shows the very same figures for that size (not a second, different one)."""
    from fastcache._bench import compare

    scale = compare._Scale(hit_n=2_000, hit_ops=2_000, evict_n=100, evict_ops=300,
                           sizes=(500, 2_000), size_ops=2_000, zipf_keys=100,
                           zipf_requests=100, zipf_maxsize=10, ttl_n=100, ttl_n_twin=100,
                           zipf_runs=1, repeat=2, budget_s=0.01, fill_budget_s=1.0)
    r = compare._Runner(scale, None)
    cons = compare.contenders()
    compare._ops_table(r, cons)
    compare._sizes_table(r, cons)
    cells = {(x.table, x.label, x.column): x.value for x in r.rows}
    name = cons[0].name if cons[0].lru is not None else cons[1].name
    hit = compare.HIT_LABEL.format("LRUCache", 2_000)
    assert cells[(compare.T_SIZES, "2,000 entries", "dict")] == cells[(compare.T_OPS, hit,
                                                                       "dict")]
    assert cells[(compare.T_SIZES, "2,000 entries", name)] == cells[(compare.T_OPS, hit, name)]
    assert (compare.T_SIZES, "500 entries", "dict") in cells  # the other sizes: measured
    assert r.spreads and all(s >= 0 for s in r.spreads)
