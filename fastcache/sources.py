"""Data sources: the system of record behind a cache pattern.

A data source is what a pattern (``fastcache.patterns``) reads on a miss and writes on a
write. The protocol is deliberately small:

- ``get(key) -> object``: the value, or ``fastcache.backends.MISSING`` when there is none
  (a stored ``None`` is a value);
- ``set(key, value) -> None`` (insert or replace) and ``delete(key) -> None`` (no error if
  absent);
- optionally ``get_many(keys) -> dict`` (found keys only), ``set_many(mapping) -> None`` and
  ``delete_many(keys) -> None``; the helpers :func:`source_get_many`,
  :func:`source_set_many` and :func:`source_delete_many` fall back to one call per key.

:class:`AsyncDataSource` is the same with coroutines (written once, in
``_async_sources.py``; ``tools/unasync.py`` writes the sync face). :class:`SQLSource` is a real
implementation over any DB-API 2 connection (``sqlite3`` in the tests and examples), and
:class:`AsyncSourceAdapter` runs any synchronous source in a worker thread for asyncio code.

Threads and ``SQLSource``: one connection is shared by every thread and every call holds a
lock for its whole transaction, so calls are serialised. A ``sqlite3`` connection used this
way must be opened with ``check_same_thread=False``; :meth:`SQLSource.sqlite` does that.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import _validate
from ._async_sources import (
    AsyncDataSource,
    async_source_delete_many,
    async_source_get_many,
    async_source_set_many,
)
from ._sync_sources import DataSource, source_delete_many, source_get_many, source_set_many
from .backends import MISSING

__all__ = [
    "AsyncDataSource",
    "AsyncSourceAdapter",
    "DataSource",
    "SQLSource",
    "async_source_delete_many",
    "async_source_get_many",
    "async_source_set_many",
    "source_delete_many",
    "source_get_many",
    "source_set_many",
]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CHUNK = 500  # keys per ``IN (...)`` list: well under every engine's parameter limit


def _ident(name: str, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    if not _IDENT.match(name):
        raise ValueError(f"{what} must be a plain SQL identifier, got {name!r}")
    return name


def _placeholders(paramstyle: str, count: int, start: int = 0) -> list[str]:
    # Parameters are passed as a sequence ("pyformat" drivers, psycopg and PyMySQL, also take
    # positional %s), except to "named" drivers: a mapping {"p1": ...}, as the DB-API says
    # (sqlite3 deprecates a sequence for named placeholders from 3.12, refuses it in 3.14).
    if paramstyle == "qmark":
        return ["?"] * count
    if paramstyle in ("format", "pyformat"):
        return ["%s"] * count
    if paramstyle == "numeric":
        return [f":{i + 1}" for i in range(start, start + count)]
    if paramstyle == "named":
        return [f":p{i + 1}" for i in range(start, start + count)]
    raise ValueError(f"unknown DB-API paramstyle {paramstyle!r}")


def _driver_paramstyle(connection: object) -> str:
    module = sys.modules.get(type(connection).__module__.split(".")[0])
    style = getattr(module, "paramstyle", "qmark")
    return style if isinstance(style, str) else "qmark"


class SQLSource:
    """A key/value data source over one table of any DB-API 2 connection.

    Two shapes of table are supported:

    - ``value_column`` (default ``"value"``): the value is serialised with ``dumps`` into one
      text column and read back with ``loads`` (JSON by default, never pickle);
    - ``columns=("name", "price", ...)``: the value is a ``dict`` of those columns, each
      stored in its own column (``value_column``, ``dumps`` and ``loads`` are not used).

    Writes are upserts written as ``UPDATE`` then ``INSERT`` so that they work on every
    engine, each call in its own transaction (``commit`` on success, ``rollback`` on error,
    which propagates). Every call holds one lock: the connection is shared by all threads
    (for ``sqlite3`` open it with ``check_same_thread=False``, as :meth:`sqlite` does).
    ``create=True`` creates the table (``CREATE TABLE IF NOT EXISTS``, text key primary key).
    """

    def __init__(
        self,
        connection: Any,
        table: str,
        *,
        key_column: str = "key",
        value_column: str = "value",
        columns: Sequence[str] | None = None,
        dumps: Callable[[Any], Any] = json.dumps,
        loads: Callable[[Any], Any] = json.loads,
        paramstyle: str | None = None,
        create: bool = False,
    ) -> None:
        if not callable(getattr(connection, "cursor", None)):
            raise TypeError("connection must be a DB-API 2 connection (it has no cursor())")
        _validate.callable_(dumps, "dumps"), _validate.callable_(loads, "loads")
        self._conn = connection
        self._table = _ident(table, "table")
        self._key = _ident(key_column, "key_column")
        if columns is not None:
            if isinstance(columns, str) or not columns:
                raise ValueError("columns must be a non-empty sequence of column names")
            self._columns: tuple[str, ...] = tuple(_ident(c, "column") for c in columns)
            if self._key in self._columns:
                raise ValueError("columns must not include key_column")
            self._row_mode = True
        else:
            self._columns = (_ident(value_column, "value_column"),)
            self._row_mode = False
        self._dumps = dumps
        self._loads = loads
        self._owns = False
        self._style = paramstyle if paramstyle is not None else _driver_paramstyle(connection)
        _placeholders(self._style, 1)  # validate now, not at the first query
        self._lock = threading.RLock()
        if create:
            cols = ", ".join(f"{c} TEXT" for c in self._columns)
            self._write(
                lambda cur: cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table} "
                    f"({self._key} TEXT PRIMARY KEY, {cols})"
                )
            )

    @classmethod
    def sqlite(cls, path: str, table: str, *, create: bool = True, **kwargs: Any) -> SQLSource:
        """Open ``path`` with ``sqlite3`` (``check_same_thread=False``, autocommit off) and
        return a source over ``table``; :meth:`close` closes that connection."""
        import sqlite3

        conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0)
        source = cls(conn, table, create=create, **kwargs)
        source._owns = True
        return source

    @property
    def connection(self) -> Any:
        """The DB-API connection in use."""
        return self._conn

    # -- value <-> row -----------------------------------------------------------------

    def _encode(self, value: Any) -> tuple[Any, ...]:
        if not self._row_mode:
            return (self._dumps(value),)
        if not isinstance(value, Mapping):
            raise TypeError(
                f"values of a columns= source must be mappings, not {type(value).__name__}"
            )
        missing = [c for c in self._columns if c not in value]
        if missing:
            raise ValueError(f"value lacks columns {missing}")
        return tuple(value[c] for c in self._columns)

    def _decode(self, row: Sequence[Any]) -> Any:
        if not self._row_mode:
            return self._loads(row[0])
        return dict(zip(self._columns, row, strict=True))

    @staticmethod
    def _check_key(key: object) -> str:
        if not isinstance(key, str):
            raise TypeError(f"keys must be str, not {type(key).__name__}")
        return key

    # -- transactions ------------------------------------------------------------------

    def _read(self, fn: Callable[[Any], Any]) -> Any:
        with self._lock:
            cur = self._conn.cursor()
            try:
                return fn(cur)
            finally:
                cur.close()

    def _write(self, fn: Callable[[Any], Any]) -> Any:
        with self._lock:
            cur = self._conn.cursor()
            try:
                result = fn(cur)
                self._conn.commit()
                return result
            except BaseException:
                self._conn.rollback()
                raise
            finally:
                cur.close()

    def _bind(self, params: Sequence[Any]) -> Any:
        """``params`` as the driver takes them: ``{"p1": ...}`` for "named" (see above)."""
        if self._style == "named":
            return {f"p{i}": value for i, value in enumerate(params, 1)}
        return params

    def _sql_select(self, count: int) -> str:
        cols = ", ".join((self._key, *self._columns))
        marks = ", ".join(_placeholders(self._style, count))
        return f"SELECT {cols} FROM {self._table} WHERE {self._key} IN ({marks})"

    def _upsert(self, cur: Any, rows: list[tuple[str, tuple[Any, ...]]]) -> None:
        n = len(self._columns)
        sets = ", ".join(
            f"{c} = {p}" for c, p in zip(self._columns, _placeholders(self._style, n), strict=True)
        )
        (kp,) = _placeholders(self._style, 1, n)
        update = f"UPDATE {self._table} SET {sets} WHERE {self._key} = {kp}"
        ins_cols = ", ".join((self._key, *self._columns))
        ins_marks = ", ".join(_placeholders(self._style, n + 1))
        insert = f"INSERT INTO {self._table} ({ins_cols}) VALUES ({ins_marks})"
        existing: set[str] = set()
        keys = [k for k, _ in rows]
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            marks = ", ".join(_placeholders(self._style, len(chunk)))
            cur.execute(
                f"SELECT {self._key} FROM {self._table} WHERE {self._key} IN ({marks})",
                self._bind(chunk),
            )
            existing.update(r[0] for r in cur.fetchall())
        updates = [(*enc, k) for k, enc in rows if k in existing]
        inserts = [(k, *enc) for k, enc in rows if k not in existing]
        if updates:
            cur.executemany(update, [self._bind(params) for params in updates])
        if inserts:
            cur.executemany(insert, [self._bind(params) for params in inserts])

    # -- the protocol ------------------------------------------------------------------

    def get(self, key: str) -> object:
        """The value stored under ``key``, or ``MISSING``."""
        self._check_key(key)

        def run(cur: Any) -> object:
            cur.execute(self._sql_select(1), self._bind((key,)))
            row = cur.fetchone()
            return MISSING if row is None else self._decode(row[1:])

        return self._read(run)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The found keys among ``keys`` and their values (one query per 500 keys)."""
        wanted = list(dict.fromkeys(self._check_key(k) for k in keys))

        def run(cur: Any) -> dict[str, Any]:
            found: dict[str, Any] = {}
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                cur.execute(self._sql_select(len(chunk)), self._bind(chunk))
                for row in cur.fetchall():
                    found[row[0]] = self._decode(row[1:])
            return found

        return self._read(run) if wanted else {}

    def set(self, key: str, value: Any) -> None:
        """Insert or replace ``key`` in one transaction."""
        row = (self._check_key(key), self._encode(value))
        self._write(lambda cur: self._upsert(cur, [row]))

    def set_many(self, mapping: Mapping[str, Any]) -> None:
        """Insert or replace every pair of ``mapping`` in one transaction (all or nothing)."""
        rows = [(self._check_key(k), self._encode(v)) for k, v in mapping.items()]
        if rows:
            self._write(lambda cur: self._upsert(cur, rows))

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error when absent)."""
        self.delete_many([self._check_key(key)])

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove every key of ``keys`` in one transaction."""
        wanted = list(dict.fromkeys(self._check_key(k) for k in keys))

        def run(cur: Any) -> None:
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ", ".join(_placeholders(self._style, len(chunk)))
                cur.execute(f"DELETE FROM {self._table} WHERE {self._key} IN ({marks})",
                            self._bind(chunk))

        if wanted:
            self._write(run)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only statement on the shared connection (under the same lock) and
        return every row: what a query-cache loader calls (see ``ReadThrough``)."""
        if not isinstance(sql, str):
            raise TypeError("sql must be a str")

        def run(cur: Any) -> list[tuple[Any, ...]]:
            cur.execute(sql, tuple(params))
            return [tuple(row) for row in cur.fetchall()]

        rows: list[tuple[Any, ...]] = self._read(run)
        return rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one writing statement in its own transaction (under the same lock) and
        return its ``rowcount``; invalidating what it changed is the caller's job."""
        if not isinstance(sql, str):
            raise TypeError("sql must be a str")

        def run(cur: Any) -> int:
            cur.execute(sql, tuple(params))
            return int(cur.rowcount)

        count: int = self._write(run)
        return count

    def count(self) -> int:
        """The number of rows in the table."""

        def run(cur: Any) -> int:
            cur.execute(f"SELECT COUNT(*) FROM {self._table}")
            return int(cur.fetchone()[0])

        return int(self._read(run))

    def close(self) -> None:
        """Close the connection if :meth:`sqlite` opened it (a connection passed in stays
        open: its owner closes it)."""
        if self._owns:
            with self._lock:
                self._conn.close()


class AsyncSourceAdapter:
    """An :class:`AsyncDataSource` over a synchronous :class:`DataSource`: each call runs in
    a worker thread (``asyncio.to_thread``), so the event loop never blocks on the database.
    The wrapped source must be safe from several threads (:class:`SQLSource` is)."""

    def __init__(self, source: DataSource) -> None:
        if not callable(getattr(source, "get", None)) or not callable(
            getattr(source, "set", None)
        ):
            raise TypeError("source must implement the DataSource protocol")
        self.source = source

    async def get(self, key: str) -> object:
        """The value stored under ``key``, or ``MISSING``."""
        return await asyncio.to_thread(self.source.get, key)

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The found keys among ``keys``."""
        return await asyncio.to_thread(source_get_many, self.source, list(keys))

    async def set(self, key: str, value: Any) -> None:
        """Insert or replace ``key``."""
        await asyncio.to_thread(self.source.set, key, value)

    async def set_many(self, mapping: Mapping[str, Any]) -> None:
        """Insert or replace every pair of ``mapping``."""
        await asyncio.to_thread(source_set_many, self.source, dict(mapping))

    async def delete(self, key: str) -> None:
        """Remove ``key``."""
        await asyncio.to_thread(self.source.delete, key)

    async def delete_many(self, keys: Iterable[str]) -> None:
        """Remove every key of ``keys``."""
        await asyncio.to_thread(source_delete_many, self.source, list(keys))
