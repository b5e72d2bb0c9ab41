"""The write-behind journal: an append-only local file that makes acknowledged writes durable.

``WriteBehind(..., journal="wb.journal")`` appends every write here before ``set()`` returns
and replays what the source never confirmed when the next instance opens the same file.

File format: an 8-byte header ``b"FCWBJ01\\n"``, then records::

    crc32 (u32) | length (u32) | version (i64) | op (u8) | key length (u32) | key | value

little-endian; ``length`` counts the bytes after itself, ``crc32`` covers them; ``op`` is 1
for a set (``value`` is the codec's bytes), 2 for a delete (no value) and 3 for a
confirmation (no value: the source has the key's write of this version or a later one; it
is written when the source confirms a batch, unsynced, so that the next start does not
replay what the source already has; lost in a power cut, it only costs a repeated write).
Reading stops at
the first record that is short or whose checksum fails (a write torn by a crash or a power
cut): that record and anything after it are dropped with a logged warning and the file is
truncated there. The last record of a key wins.

Durability (``fsync``): ``"always"`` - ``set()`` returns after an ``fdatasync`` covering its
record; concurrent writers share one (group commit: the first waiter syncs for everyone
whose record was written before it started, the others wait for it); ``"never"`` - the
record is written to the OS at once (it survives SIGTERM and SIGKILL, not a power cut or a
kernel crash); a number of seconds - a background thread syncs that often (a power cut
loses at most that window). The file is compacted as the source confirms writes: emptied
when nothing is unconfirmed, rewritten (to a temporary file, synced, renamed) when less
than a quarter of it is still live.

A lock (``flock`` on ``<path>.lock``) keeps a second journal - in another process or this
one - off the same file: :class:`JournalLockedError`. The files are created ``0600`` and
must belong to this user: values are decoded with the writer's codec (pickle by default),
which is safe only because nobody else can write the file.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
import struct
import sys
import threading
import zlib
from collections.abc import Iterator

from ..exceptions import JournalError, JournalLockedError

__all__ = ["Journal", "JournalError", "JournalLockedError"]

log = logging.getLogger("fastcache.patterns")

MAGIC = b"FCWBJ01\n"
_HEAD = struct.Struct("<II")  # crc32, length of the rest
_BODY = struct.Struct("<qBI")  # version, op, key length
OP_SET = 1
OP_DELETE = 2
OP_CONFIRM = 3
_COMPACT_MIN = 1 << 20  # never rewrite a file smaller than this
_EMPTY_MIN = 64 << 10  # truncate an all-confirmed file once it is this big


def _fsync_policy(fsync: object) -> float | None:
    """"always" -> 0.0, "never" -> None, seconds -> that interval."""
    if fsync == "always":
        return 0.0
    if fsync == "never":
        return None
    if isinstance(fsync, bool) or not isinstance(fsync, (int, float)):
        raise TypeError(f"fsync must be 'always', 'never' or seconds, not {fsync!r}")
    if not 0 < fsync < float("inf"):
        raise ValueError(f"fsync interval must be > 0 seconds, got {fsync!r}")
    return float(fsync)


def _datasync(fd: int) -> None:
    """Make what was written to ``fd`` durable: ``fdatasync`` (Linux); on macOS, where
    ``fsync`` only reaches the drive's cache, ``F_FULLFSYNC``; else ``fsync``."""
    if sys.platform == "darwin":
        fcntl.fcntl(fd, getattr(fcntl, "F_FULLFSYNC", 51))
    elif hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:
        os.fsync(fd)


def encode_record(key: str, data: bytes | None, version: int, op: int = 0) -> bytes:
    """One record (``data`` None: a delete, unless ``op`` says otherwise)."""
    kb = key.encode("utf-8", "surrogatepass")
    op = op or (OP_DELETE if data is None else OP_SET)
    rest = _BODY.pack(version, op, len(kb)) + kb
    if data is not None:
        rest += data
    return _HEAD.pack(zlib.crc32(rest), len(rest)) + rest


def decode_records(buf: bytes) -> tuple[list[tuple[str, int, int, bytes | None, bytes]], int]:
    """The valid records (key, version, op, data, raw bytes) of a journal's contents after
    the header, and how many bytes they span (the offset of the first torn or corrupt
    record, or ``len(buf)``)."""
    out: list[tuple[str, int, int, bytes | None, bytes]] = []
    pos, end = 0, len(buf)
    while pos + _HEAD.size <= end:
        crc, length = _HEAD.unpack_from(buf, pos)
        start = pos + _HEAD.size
        if length < _BODY.size or start + length > end:
            break
        rest = buf[start : start + length]
        if zlib.crc32(rest) != crc:
            break
        version, op, klen = _BODY.unpack_from(rest)
        if op not in (OP_SET, OP_DELETE, OP_CONFIRM) or _BODY.size + klen > length:
            break
        key = rest[_BODY.size : _BODY.size + klen].decode("utf-8", "surrogatepass")
        data = rest[_BODY.size + klen :] if op == OP_SET else None
        out.append((key, version, op, data, buf[pos : start + length]))
        pos = start + length
    return out, pos


class Journal:
    """An append-only, checksummed, locked journal of write-behind records (see the module
    docstring). Thread-safe. ``records()`` are the unconfirmed writes found at opening."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: object = "always") -> None:
        self.path = os.fspath(path)
        if not isinstance(self.path, str):
            raise TypeError("journal path must be a str or os.PathLike[str]")
        self.interval = _fsync_policy(fsync)
        self._lock_fd = self._lock(self.path + ".lock")
        try:
            self._fd = self._open(self.path)
            self._live: dict[str, tuple[int, bytes]] = {}
            self._live_bytes = 0
            self._size = 0
            self._load()
        except BaseException:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            raise
        self._cv = threading.Condition(threading.Lock())
        self._appended = 0  # tickets handed out (one per record)
        self._synced = 0  # every ticket <= this one is on disk (at the chosen level)
        self._syncing = False  # a leader is in fdatasync, or a compaction runs
        self._compact_wanted = False
        self._closed = False
        self.fsyncs = 0
        self.records_synced = 0
        self._thread = threading.Thread(target=self._background, name="fastcache-journal",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def _check_owned(fd: int, path: str) -> None:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise JournalError(f"journal {path!r} is not a regular file")
        if st.st_uid != os.geteuid():
            raise JournalError(
                f"journal {path!r} belongs to uid {st.st_uid}, not to this process "
                f"(uid {os.geteuid()}): refusing to decode values another user could write"
            )
        if st.st_mode & 0o077:
            os.fchmod(fd, 0o600)

    def _lock(self, lock_path: str) -> int:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            self._check_owned(fd, lock_path)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise JournalLockedError(
                    f"journal {self.path!r} is in use by another WriteBehind (this process "
                    f"or another one holds {lock_path!r}); one journal per instance"
                ) from None
            raise
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _open(self, path: str) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            self._check_owned(fd, path)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _load(self) -> None:
        st = os.fstat(self._fd)
        with open(self._fd, "rb", closefd=False) as f:
            buf = f.read()
        if not buf:
            os.write(self._fd, MAGIC)
            os.fsync(self._fd)
            self._fsync_dir()
            self._size = len(MAGIC)
            return
        if not buf.startswith(MAGIC):
            if len(buf) < len(MAGIC) and MAGIC.startswith(buf):  # torn while being created
                buf = MAGIC
                os.ftruncate(self._fd, 0)
                os.write(self._fd, MAGIC)
            else:
                raise JournalError(f"{self.path!r} is not a fastcache write-behind journal")
        records, used = decode_records(buf[len(MAGIC) :])
        good = len(MAGIC) + used
        if good < len(buf):
            log.warning(
                "write-behind journal %r: dropped %d bytes of a torn or corrupt record at "
                "offset %d (a write cut short by a crash; it was never acknowledged)",
                self.path, len(buf) - good, good,
            )  # fmt: skip
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        for key, version, op, _data, raw in records:
            if op == OP_CONFIRM:
                self._drop_live(key, version)
            else:
                self._set_live(key, version, raw)
        self._size = good if good < len(buf) else st.st_size

    def records(self) -> Iterator[tuple[str, int, bytes | None]]:
        """The unconfirmed writes (key, version, data; data None for a delete), oldest
        first: what a new owner replays."""
        with self._cv:
            live = list(self._live.items())
        for key, (version, raw) in live:
            data = decode_records(raw)[0][0][3]
            yield key, version, data

    def _drop_live(self, key: str, version: int) -> bool:
        live = self._live.get(key)
        if live is None or live[0] > version:
            return False
        del self._live[key]
        self._live_bytes -= len(live[1])
        return True

    def _set_live(self, key: str, version: int, raw: bytes) -> None:
        old = self._live.pop(key, None)  # re-inserted: the dict stays in write order
        if old is not None:
            self._live_bytes -= len(old[1])
        self._live[key] = (version, raw)
        self._live_bytes += len(raw)

    # -- writing ---------------------------------------------------------------------------

    def append(self, key: str, data: bytes | None, version: int) -> int:
        """Write one record to the OS (not yet synced) and return its ticket for
        :meth:`wait`."""
        raw = encode_record(key, data, version)
        with self._cv:
            if self._closed:
                raise RuntimeError("journal is closed")
            os.write(self._fd, raw)  # O_APPEND, one call: records never interleave
            self._size += len(raw)
            self._set_live(key, version, raw)
            self._appended += 1
            if self._compaction_due():  # rewrites of a few keys while the source is away
                self._compact_wanted = True
                self._cv.notify_all()
            return self._appended

    def wait(self, ticket: int) -> None:
        """Return once the record of ``ticket`` is synced (``fsync="always"``; a no-op for
        the other policies). Group commit: one leader syncs for every record written before
        it started; the others wait for it and return together."""
        if self.interval != 0.0:
            return
        with self._cv:
            while self._synced < ticket:
                if self._syncing:
                    self._cv.wait()
                    continue
                self._sync_locked()

    def _sync_locked(self) -> None:
        """Sync as the leader; called with the condition held, releases it meanwhile."""
        target = self._appended
        self._syncing = True
        self._cv.release()
        try:
            _datasync(self._fd)
        finally:
            self._cv.acquire()
            self._syncing = False
            self._cv.notify_all()
        self.fsyncs += 1
        self.records_synced += target - self._synced
        self._synced = max(self._synced, target)

    def confirm(self, versions: dict[str, int]) -> None:
        """These writes reached the source (or were given up and reported): forget each
        key whose journaled version is not newer, and compact the file when worth it."""
        with self._cv:
            if self._closed:
                return
            done = [(k, v) for k, v in versions.items() if self._drop_live(k, v)]
            if done:  # so that the next start does not replay them (no sync needed)
                raw = b"".join(encode_record(k, None, v, OP_CONFIRM) for k, v in done)
                os.write(self._fd, raw)
                self._size += len(raw)
            if self._compaction_due():
                self._compact_wanted = True
                self._cv.notify_all()

    def _compaction_due(self) -> bool:
        if not self._live:
            return self._size >= _EMPTY_MIN
        return self._size >= _COMPACT_MIN and self._live_bytes * 4 < self._size

    # -- the background thread: interval syncs and compaction ------------------------------

    def _background(self) -> None:
        with self._cv:
            while not self._closed:
                if self._compact_wanted and not self._syncing:
                    self._compact_wanted = False
                    if self._compaction_due():
                        self._compact_locked()
                    continue
                if self.interval and self._synced < self._appended and not self._syncing:
                    self._sync_locked()
                self._cv.wait(self.interval or None)

    def _compact_locked(self) -> None:
        """Rewrite the file with the live records only (condition held, writers wait)."""
        try:
            if not self._live:
                os.ftruncate(self._fd, len(MAGIC))
                os.fsync(self._fd)
                self._size = len(MAGIC)
            else:
                tmp = self.path + ".tmp"
                fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
                             | os.O_CLOEXEC, 0o600)  # fmt: skip
                try:
                    data = MAGIC + b"".join(raw for _, raw in self._live.values())
                    os.write(fd, data)
                    os.fsync(fd)
                    os.replace(tmp, self.path)
                    self._fsync_dir()
                except BaseException:
                    os.close(fd)
                    raise
                os.close(self._fd)
                self._fd = fd
                self._size = len(data)
            self._synced = self._appended
            self._cv.notify_all()
        except OSError:
            log.exception("write-behind journal %r: compaction failed (kept as is)", self.path)

    def _fsync_dir(self) -> None:
        fd = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- closing ---------------------------------------------------------------------------

    @property
    def unconfirmed(self) -> int:
        """How many keys have a write in the journal the source has not confirmed."""
        return len(self._live)

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return self._size

    def close(self) -> None:
        """Sync (unless ``fsync="never"``), close the file and release the lock."""
        with self._cv:
            if self._closed:
                return
            while self._syncing:
                self._cv.wait()
            if not self._live and self._size > len(MAGIC):
                self._compact_locked()
            self._closed = True
            self._cv.notify_all()
        self._thread.join()
        try:
            if self.interval is not None:
                _datasync(self._fd)
        finally:
            os.close(self._fd)
            os.close(self._lock_fd)
