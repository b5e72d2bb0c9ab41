"""The runnable examples run to completion and print what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run(name: str, *args: str) -> str:
    out = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_query_cache() -> None:
    out = run("query_cache.py")
    assert "20 concurrent requests for revenue:c42 ran 1 query" in out
    assert "c3 after the move: {'name': 'Customer 3', 'city': 'Quito'}" in out
    assert "revenue of c7 after a new order: 1375.0" in out


def test_product_catalogue(redis_server: Any) -> None:
    out = run("product_catalogue.py", "--redis-url", redis_server.url)
    assert "sku-0042 = {'name': 'Product 42', 'price': 51.99, 'stock': 10}" in out
    assert "web-2 served the new price" in out
    assert "unknown sku-9999 -> not in catalogue" in out
    assert "discontinued sku-0001 on web-2 -> gone" in out
