"""A database query cache on sqlite3: expensive queries answered from a cache.

    python examples/query_cache.py

- ``ReadThrough`` caches the results of an aggregate query (revenue per customer) under a
  stable key; the loader runs the SQL. Concurrent misses of one key run the query once.
- ``CacheAside`` over ``SQLSource`` caches single rows (customer profiles); a write goes to
  the database and invalidates the cached row. ``negative_ttl`` remembers "no such
  customer", so lookups of missing ids do not hit the database every time.
- After a write that changes a query's result, the application invalidates that query key.

Every query here sleeps 5 ms inside sqlite3 (a trace callback) to stand for a real
database's latency; the timings printed show the cache's effect.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # a checkout

from fastcache.backends import MISSING, MemoryBackend
from fastcache.patterns import CacheAside, ReadThrough
from fastcache.sources import SQLSource


def build_database(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)  # shared by threads, see SQLSource
    conn.executescript("""
        CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, city TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL);
    """)
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?)",
                     [(f"c{i}", f"Customer {i}", ["Oslo", "Lima", "Pune"][i % 3])
                      for i in range(100)])
    conn.executemany("INSERT INTO orders (customer, total) VALUES (?, ?)",
                     [(f"c{i % 100}", float(i % 50) + 0.5) for i in range(5000)])
    conn.commit()
    conn.set_trace_callback(lambda _sql: time.sleep(0.005))  # 5 ms per statement
    return conn


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = build_database(os.path.join(tmp, "shop.sqlite3"))
        # One connection shared by threads: every use goes through SQLSource's lock.
        customers_db = SQLSource(conn, "customers", key_column="id", columns=("name", "city"))
        queries = 0

        def revenue(key: str) -> object:
            """Loader for keys "revenue:<customer>": SUM(total), or MISSING."""
            nonlocal queries
            queries += 1
            ((total,),) = customers_db.query(
                "SELECT SUM(total) FROM orders WHERE customer = ?", (key.partition(":")[2],))
            return MISSING if total is None else round(total, 2)

        cache = MemoryBackend(maxsize=10_000)
        reports = ReadThrough(cache, revenue, ttl=60, negative_ttl=10)

        t0 = time.perf_counter()
        first = reports.get("revenue:c7")
        t1 = time.perf_counter()
        again = reports.get("revenue:c7")
        t2 = time.perf_counter()
        print(f"revenue of c7: {first} (query {1e3 * (t1 - t0):.1f} ms, "
              f"cached {1e6 * (t2 - t1):.1f} us)")
        assert first == again

        # 20 threads ask for the same report at once: one query.
        before = queries
        threads = [threading.Thread(target=reports.get, args=("revenue:c42",))
                   for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"20 concurrent requests for revenue:c42 ran {queries - before} query")

        # Rows: cache-aside over the customers table (columns mode: a row is a dict).
        customers = CacheAside(MemoryBackend(maxsize=10_000), customers_db,
                               ttl=300, negative_ttl=5)
        print("c3 is", customers.get("c3"))
        t0 = time.perf_counter()
        for _ in range(100):
            assert customers.get("c999") is None  # no such row: asked once, then remembered
        print(f"100 lookups of a missing customer: {1e3 * (time.perf_counter() - t0):.2f} ms")

        customers.set("c3", {"name": "Customer 3", "city": "Quito"})  # db, then invalidate
        print("c3 after the move:", customers.get("c3"))

        # A new order changes a report: write it, then drop the cached report.
        customers_db.execute("INSERT INTO orders (customer, total) VALUES (?, ?)", ("c7", 1e3))
        reports.invalidate("revenue:c7")
        print(f"revenue of c7 after a new order: {reports.get('revenue:c7')}")
        conn.close()


if __name__ == "__main__":
    main()
