"""``fastcache simulate`` end to end in a subprocess, and the trace recorder."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastcache import LRUCache
from fastcache.simulate import TraceRecorder, load_trace, parse_sizes, simulate, stable_key

TRACES = Path(__file__).parent.parent / "data" / "traces"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fastcache", "simulate", *args],
                          capture_output=True, text=True, timeout=300)


def test_table_csv_json(tmp_path: Path) -> None:
    out_csv, out_json = tmp_path / "r.csv", tmp_path / "r.json"
    p = run(str(TRACES / "cache2k_web12.npy"), "--synthetic", "loop:n=2000,keys=100",
            "--policy", "lru,lfu,s3fifo,auto", "--csv", str(out_csv), "--json", str(out_json),
            "--jobs", "2")
    assert p.returncode == 0, p.stderr
    assert "cache2k_web12.npy: 95,607 requests" in p.stdout
    lru_row = next(line for line in p.stdout.splitlines() if line.startswith("lru "))
    assert lru_row.split()[1:] == ["0.6021", "0.3998", "0.3151"]
    assert "[##############################] 12/12" in p.stderr  # the last trace's bar
    with out_csv.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 3 * 4
    data = json.loads(out_json.read_text())
    lfu = [r for r in data if r["policy"] == "lfu" and r["trace"] == "cache2k_web12.npy"]
    assert [round(r["miss_ratio"], 4) for r in lfu] == [0.7824, 0.5221, 0.3984]


def test_plot_or_clear_import_error(tmp_path: Path) -> None:
    png = tmp_path / "mrc.png"
    p = run("--synthetic", "zipf:n=5000,keys=500", "--sizes", "10,50", "--policy", "lru,sieve",
            "--plot", str(png))
    if importlib.util.find_spec("matplotlib") is None:
        assert p.returncode == 2
        assert 'pip install "fastcache[plot]"' in p.stderr
    else:
        assert p.returncode == 0, p.stderr
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_and_oracle_general_traces(tmp_path: Path) -> None:
    text = tmp_path / "t.csv"
    text.write_text("ts,key,size\n" + "".join(f"{i},k{i % 7},{i % 3 + 1}\n" for i in range(50)))
    keys, sizes = load_trace(str(text), column="key", size_column="size")
    assert len(keys) == 50 and keys[0] == stable_key("k0") and sizes is not None
    rs = simulate(keys, ["lru"], [7], sizes)
    assert rs[0].misses == 7 and rs[0].byte_miss_ratio is not None
    rec = np.zeros(4, dtype=[("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")])
    rec["id"] = [5, 6, 5, 5]
    rec["size"] = [10, 20, 10, 10]
    og = tmp_path / "t.oracleGeneral"
    rec.tofile(og)
    keys, sizes = load_trace(str(og))
    assert keys.tolist() == [5, 6, 5, 5] and sizes.tolist() == [10, 20, 10, 10]
    rs = simulate(keys, ["lru"], [1], sizes)
    assert rs[0].misses == 3 and rs[0].byte_miss_ratio == pytest.approx(40 / 50)
    p = run(str(tmp_path / "missing.npy"))
    assert p.returncode == 2 and "missing.npy" in p.stderr
    p = run("--synthetic", "zipf:bogus=1")
    assert p.returncode != 0 and "bogus" in p.stderr
    with pytest.raises(ValueError):
        parse_sizes("1%,x", 100)


def _trace_files(tmp_path: Path) -> dict[str, tuple[bytes, list[int], list[int] | None]]:
    """Name -> (the file's bytes, its keys, its sizes) for each format the loader reads."""
    import io

    keys = [(i * 7919) % 61 for i in range(300)]
    buf = io.BytesIO()
    np.save(buf, np.array(keys, dtype=np.uint64))
    rec = np.zeros(len(keys), dtype=[("time", "<u4"), ("id", "<u8"), ("size", "<u4"),
                                     ("next", "<i8")])
    rec["id"] = keys
    rec["size"] = [k % 5 + 1 for k in keys]
    text = "".join(f"{k},{k % 5 + 1}\n" for k in keys).encode()
    return {"t.npy": (buf.getvalue(), keys, None),
            "t.oracleGeneral": (rec.tobytes(), keys, [k % 5 + 1 for k in keys]),
            "t.csv": (text, keys, [k % 5 + 1 for k in keys])}


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zst"])
def test_compressed_traces(tmp_path: Path, suffix: str) -> None:
    """Each format compressed reads as the same keys and sizes (libCacheSim publishes its
    traces as .oracleGeneral.zst); .zst without zstandard names the extra; a damaged
    stream is a ValueError, and the CLI's exit status 2."""
    import bz2
    import gzip
    import lzma

    have_zstd = importlib.util.find_spec("zstandard") is not None
    for name, (data, keys, sizes) in _trace_files(tmp_path).items():
        path = tmp_path / (name + suffix)
        if suffix == ".zst":
            if not have_zstd:
                path.write_bytes(b"(not read)")
                with pytest.raises(ModuleNotFoundError, match=r'fastcache\[zstd\]'):
                    load_trace(str(path), size_column="1" if name == "t.csv" else None)
                continue
            import zstandard

            path.write_bytes(zstandard.ZstdCompressor().compress(data))
        else:
            mod = {".gz": gzip, ".bz2": bz2, ".xz": lzma}[suffix]
            path.write_bytes(mod.compress(data))
        got, got_sizes = load_trace(str(path), size_column="1" if name == "t.csv" else None)
        assert got.dtype == np.uint64 and got.tolist() == keys
        assert (None if got_sizes is None else got_sizes.tolist()) == sizes
    p = run(str(tmp_path / ("t.oracleGeneral" + suffix)), "--policy", "lru", "--sizes", "10")
    if suffix == ".zst" and not have_zstd:
        assert p.returncode == 2 and 'pip install "fastcache[zstd]"' in p.stderr
    else:
        assert p.returncode == 0, p.stderr
        assert "300 requests" in p.stdout
    damaged = tmp_path / ("bad.npy" + suffix)
    damaged.write_bytes(b"\x00" * 64)
    if suffix != ".zst" or have_zstd:
        with pytest.raises(ValueError, match="cannot decompress"):
            load_trace(str(damaged))
        p = run(str(damaged))
        assert p.returncode == 2 and "cannot decompress" in p.stderr


def test_recorder_round_trip(tmp_path: Path) -> None:
    cache = TraceRecorder(LRUCache(maxsize=2))
    requests = ["a", ("b", 1), 3, "a", 3, None]
    for k in requests:
        try:
            cache[k]
        except KeyError:
            cache[k] = 1
    assert cache.get("zz") is None
    path = tmp_path / "rec.npy"
    cache.save(str(path))
    keys, _ = load_trace(str(path))
    assert keys.tolist() == [stable_key(k) for k in [*requests, "zz"]]
    # stable across processes (not Python's randomised hash)
    code = "from fastcache.simulate import stable_key; print(stable_key(('b', 1)))"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True)
    assert int(other.stdout) == keys[1]
    rs = simulate(keys, ["lru"], [2])
    assert (rs[0].hits, rs[0].misses) == (1, 6)  # only the second 3 hits
