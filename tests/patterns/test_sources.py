"""SQLSource over real sqlite3, the many-helpers, and the asyncio adapter."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import pytest

from fastcache.backends import MISSING
from fastcache.sources import (
    AsyncDataSource,
    AsyncSourceAdapter,
    DataSource,
    SQLSource,
    source_delete_many,
    source_get_many,
    source_set_many,
)

from .helpers import read_table


def test_kv_roundtrip(source: SQLSource, db_path: str) -> None:
    assert source.get("a") is MISSING
    source.set("a", {"x": [1, 2]})
    source.set("n", None)
    assert source.get("a") == {"x": [1, 2]}
    assert source.get("n") is None  # a stored None is a value
    source.set("a", 3)  # replace
    assert source.get("a") == 3
    assert read_table(db_path) == {"a": "3", "n": "null"}
    source.delete("a")
    source.delete("never-there")
    assert source.get("a") is MISSING
    assert source.count() == 1
    assert isinstance(source, DataSource)


def test_many(source: SQLSource) -> None:
    source.set_many({f"k{i}": i for i in range(1200)})  # more than one IN-chunk
    source.set_many({"k0": "new", "extra": 1})
    got = source.get_many([f"k{i}" for i in range(1200)] + ["absent", "k0"])
    assert len(got) == 1200 and got["k0"] == "new" and got["k1199"] == 1199
    assert "absent" not in got
    source.delete_many([f"k{i}" for i in range(1000)])
    assert source.count() == 201
    assert source.get_many([]) == {}


def test_numeric_paramstyle(db_path: str) -> None:
    # "named" (oracledb's): :p1, :p2 bound from a mapping, which sqlite3 takes as well
    conn = sqlite3.connect(db_path)
    src = SQLSource(conn, "kv", paramstyle="named", create=True)
    src.set_many({"a": 1, "b": 2})
    src.set("a", 3)
    assert src.get_many(["a", "b"]) == {"a": 3, "b": 2}
    src.delete("b")
    assert src.get("b") is MISSING and src.count() == 1
    conn.close()


def test_columns_mode(db_path: str) -> None:
    conn = sqlite3.connect(db_path, check_same_thread=False)
    conn.execute("CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, price REAL)")
    src = SQLSource(conn, "products", key_column="sku", columns=("name", "price"))
    src.set("p1", {"name": "pen", "price": 1.5})
    assert src.get("p1") == {"name": "pen", "price": 1.5}
    assert conn.execute("SELECT name, price FROM products").fetchall() == [("pen", 1.5)]
    with pytest.raises(ValueError, match="lacks columns"):
        src.set("p2", {"name": "x"})
    with pytest.raises(TypeError, match="mappings"):
        src.set("p2", 3)
    src.close()  # a connection passed in stays open
    assert conn.execute("SELECT COUNT(*) FROM products").fetchone() == (1,)
    conn.close()


def test_failed_set_many_rolls_back(source: SQLSource) -> None:
    source.set("keep", 1)

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        source.set_many({"keep": 2, "bad": Unserialisable()})
    assert source.get("keep") == 1 and source.get("bad") is MISSING

    conn = source.connection
    conn.execute("CREATE TABLE strict_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    strict = SQLSource(conn, "strict_kv", dumps=lambda v: v)
    with pytest.raises(sqlite3.IntegrityError):
        strict.set_many({"a": "1", "b": None})  # second row violates NOT NULL
    assert strict.get_many(["a", "b"]) == {}  # all or nothing


def test_bad_arguments(db_path: str) -> None:
    conn = sqlite3.connect(db_path)
    with pytest.raises(ValueError, match="identifier"):
        SQLSource(conn, "kv; DROP TABLE x")
    with pytest.raises(TypeError, match="DB-API"):
        SQLSource(object(), "kv")
    with pytest.raises(ValueError, match="paramstyle"):
        SQLSource(conn, "kv", paramstyle="nonsense")
    with pytest.raises(ValueError, match="key_column"):
        SQLSource(conn, "kv", columns=("key",))
    src = SQLSource(conn, "kv", create=True)
    with pytest.raises(TypeError, match="str"):
        src.get(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str"):
        src.set_many({2: 1})  # type: ignore[dict-item]
    conn.close()


def test_threads_share_one_connection(source: SQLSource, db_path: str) -> None:
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(200):
                source.set(f"t{t}-{i % 20}", i)
                source.get(f"t{(t + 1) % 8}-{i % 20}")
            source.set_many({f"t{t}-bulk-{i}": i for i in range(50)})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    table = read_table(db_path)
    assert len(table) == 8 * 20 + 8 * 50
    assert all(table[f"t{t}-{k}"] == str(180 + k) for t in range(8) for k in range(20))


class DictSource:
    """A minimal DataSource without the optional *_many methods."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.calls = 0

    def get(self, key: str) -> object:
        self.calls += 1
        return self.data.get(key, MISSING)

    def set(self, key: str, value: Any) -> None:
        self.calls += 1
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.calls += 1
        self.data.pop(key, None)


def test_many_helpers_fall_back_per_key() -> None:
    src = DictSource()
    source_set_many(src, {"a": 1, "b": 2})
    assert src.calls == 2
    assert source_get_many(src, ["a", "b", "c"]) == {"a": 1, "b": 2}
    source_delete_many(src, ["a", "c"])
    assert src.data == {"b": 2}


def test_async_adapter(source: SQLSource) -> None:
    adapter = AsyncSourceAdapter(source)
    assert isinstance(adapter, AsyncDataSource)

    async def main() -> None:
        loop_thread = threading.get_ident()
        seen: list[int] = []
        original = source.get

        def spy(key: str) -> object:
            seen.append(threading.get_ident())
            return original(key)

        source.get = spy  # type: ignore[method-assign]
        await adapter.set("a", 1)
        await adapter.set_many({"b": 2, "c": 3})
        assert await adapter.get("a") == 1
        assert await adapter.get_many(["a", "b", "zz"]) == {"a": 1, "b": 2}
        await asyncio.gather(*(adapter.set(f"x{i}", i) for i in range(20)))
        await adapter.delete("a")
        await adapter.delete_many(["b", "x0"])
        assert await adapter.get("a") is MISSING
        assert seen and loop_thread not in seen  # the database ran off the loop's thread

    asyncio.run(main())
    assert source.count() == 20
    with pytest.raises(TypeError):
        AsyncSourceAdapter(object())  # type: ignore[arg-type]
