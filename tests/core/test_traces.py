"""Replay the real traces of ``tests/data/traces`` through LRU and LFU and check the miss
ratios published in that folder's README.md, to every one of the four digits.

Both implementations replay the two small traces kept in the repository; the larger ones
(cloudphysics: 5.3 million requests) are checked by ``bench/traces.py --check --traces DIR``
where they are present (CI).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

TRACES = Path(__file__).resolve().parents[1] / "data" / "traces"
SMALL = ("lirs_glimpse", "cache2k_web12")
POLICY_ROWS = {"LRUCache": "LRU", "LFUCache": "LFU"}


def reference() -> dict[str, dict[str, dict[int, str]]]:
    """``{trace: {"LRU"/"LFU": {capacity: "0.1234"}}}`` parsed from the README's tables."""
    readme = TRACES / "README.md"
    if not readme.is_file():
        pytest.fail(f"trace folder missing: {readme} not found")
    out: dict[str, dict[str, dict[int, str]]] = {}
    for section in readme.read_text().split("\n### ")[1:]:
        name = re.search(r"`(\w+)\.npy`", section)
        header = re.search(r"^\| policy \|(.*)\|$", section, re.M)
        assert name and header, "unexpected README layout"
        caps = [int(m.replace(",", "")) for m in re.findall(r"C = ([\d,]+)", header.group(1))]
        rows: dict[str, dict[int, str]] = {}
        for row in ("LRU", "LFU"):
            cells = re.search(rf"^\| {row} \|(.*)\|$", section, re.M)
            assert cells, f"no {row} row for {name.group(1)}"
            values = [c.strip().strip("*") for c in cells.group(1).split("|")]
            rows[row] = dict(zip(caps, values, strict=True))
        out[name.group(1)] = rows
    return out


def miss_ratio(cache: object, keys: list[int]) -> str:
    get = cache.get  # type: ignore[attr-defined]
    misses = 0
    for key in keys:
        if get(key) is None:
            misses += 1
            cache[key] = True  # type: ignore[index]
    return f"{misses / len(keys):.4f}"


def check_trace(impl: ModuleType, trace: str, policy: str) -> None:
    expected = reference()[trace][POLICY_ROWS[policy]]
    path = TRACES / f"{trace}.npy"
    if not path.is_file():
        pytest.fail(f"trace missing: {path}")
    keys = np.load(path).tolist()
    got = {cap: miss_ratio(getattr(impl, policy)(cap), keys) for cap in expected}
    assert got == expected


@pytest.mark.parametrize("policy", sorted(POLICY_ROWS))
@pytest.mark.parametrize("trace", SMALL)
def test_small_traces(impl: ModuleType, trace: str, policy: str) -> None:
    check_trace(impl, trace, policy)

