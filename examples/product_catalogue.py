"""An e-commerce product catalogue on sqlite3 with an L1 (in-process) / L2 (Redis) cache.

    python examples/product_catalogue.py                         # starts its own redis-server
    python examples/product_catalogue.py --redis-url redis://host:6379/0

Two application instances ("web-1", "web-2", as two processes or hosts would be) each have
a ``MultiLevelCache``: their own in-process L1 (``MemoryBackend``, 30 s TTL) over a shared
Redis L2 (10 min TTL) over the ``products`` table. A product page read fills both levels;
a price change made by one instance is written to the database, removed from every level,
and published on Redis pub/sub so that the other instance's L1 drops its copy within about
a millisecond (the time is printed). Unknown SKUs are remembered as "not found" for 30 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # a checkout

from fastcache.backends import MemoryBackend, RedisBackend
from fastcache.patterns import Level, MultiLevelCache, RedisInvalidator
from fastcache.sources import SQLSource


@contextlib.contextmanager
def local_redis() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not on PATH: install it or pass --redis-url")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.025)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(5)


def open_catalogue(path: str) -> SQLSource:
    import sqlite3

    conn = sqlite3.connect(path, check_same_thread=False)  # one connection, SQLSource's lock
    conn.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL,"
                 " price REAL NOT NULL, stock INTEGER NOT NULL)")
    products = SQLSource(conn, "products", key_column="sku", columns=("name", "price", "stock"))
    products.set_many({f"sku-{i:04d}": {"name": f"Product {i}", "price": 9.99 + i, "stock": 10}
                       for i in range(1000)})
    products.connection.set_trace_callback(lambda _sql: time.sleep(0.002))  # 2 ms per query
    return products


def instance(url: str, products: SQLSource) -> MultiLevelCache:
    return MultiLevelCache(
        [Level(MemoryBackend(maxsize=5_000), ttl=30),
         Level(RedisBackend(url, prefix="catalogue"), ttl=600)],
        products,
        negative_ttl=30,
        invalidator=RedisInvalidator(url, channel="catalogue:invalidate"),
    )


def timed(fn: object, *args: object) -> tuple[object, float]:
    t0 = time.perf_counter()
    value = fn(*args)  # type: ignore[operator]
    return value, (time.perf_counter() - t0) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description="product catalogue with an L1/L2 cache")
    ap.add_argument("--redis-url", help="use this Redis instead of starting one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, (
        contextlib.nullcontext(args.redis_url) if args.redis_url else local_redis()
    ) as url:
        products = open_catalogue(os.path.join(tmp, "shop.sqlite3"))
        web1, web2 = instance(url, products), instance(url, products)
        for web in (web1, web2):
            web.invalidator.subscribed.wait(5)  # type: ignore[union-attr]
        web1.levels[1].backend.clear()
        web1.get("sku-0000"), web2.get("sku-0000")  # open the Redis connections

        page, db_us = timed(web1.get, "sku-0042")
        _, l2_us = timed(web2.get, "sku-0042")  # web-2's L1 is empty: served by Redis
        _, l1_us = timed(web2.get, "sku-0042")  # now from web-2's own L1
        print(f"sku-0042 = {page}")
        print(f"  database {db_us:8.0f} us | Redis L2 {l2_us:6.0f} us | L1 {l1_us:5.1f} us")

        web1.set("sku-0042", {"name": "Product 42", "price": 4.99, "stock": 10})  # a sale
        t0 = time.perf_counter()
        while web2.get("sku-0042")["price"] != 4.99:
            assert time.perf_counter() - t0 < 5, "web-2 kept the old price"
            time.sleep(0.0001)
        print(f"web-1 cut the price; web-2 served the new price "
              f"{(time.perf_counter() - t0) * 1e3:.2f} ms after the write returned "
              "(its reload from the database included)")

        for _ in range(3):
            web2.get("sku-9999")  # no such product: one query, then "not found" from cache
        print("unknown sku-9999 ->", web2.get("sku-9999", "not in catalogue"))

        web1.delete("sku-0001")  # discontinued
        time.sleep(0.05)
        print("discontinued sku-0001 on web-2 ->", web2.get("sku-0001", "gone"))

        for web in (web1, web2):
            web.close()
            web.levels[1].backend.close()
        products.connection.close()


if __name__ == "__main__":
    main()
