"""Real Redis / Redis Cluster / memcached servers on free loopback ports, for tests and benches.

Each server is a child process started from the binaries on ``PATH`` (``redis-server``,
``redis-cli``, ``memcached``), bound to 127.0.0.1 on a port picked at run time, so several
test runs can share one machine.  ``start()`` returns once the server answers; ``kill()``
(SIGKILL) and ``restart()`` (same port, same cluster config) are there for failure tests.

    with RedisServer() as r:            # r.host, r.port, r.url
        ...
    with RedisCluster(3) as c:          # c.nodes (list of RedisServer), c.startup_nodes
        ...
    with MemcachedServers(3) as m:      # m.servers, m.addresses -> [("127.0.0.1", port), ...]
        m.servers[0].kill(); ...; m.servers[0].restart()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from types import TracebackType
from typing import TypeVar

__all__ = [
    "MemcachedServer",
    "MemcachedServers",
    "RedisCluster",
    "RedisServer",
    "ServerError",
    "free_port",
    "require_binary",
]

_P = TypeVar("_P", bound="_Process")
_START_TIMEOUT = 10.0
_LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    """A test server could not be started or did not answer in time."""


def require_binary(name: str) -> str:
    """Return the path of ``name`` on PATH or raise ServerError with a clear message."""
    path = shutil.which(name)
    if path is None:
        raise ServerError(
            f"{name!r} is not on PATH: install it (Debian: apt-get install "
            f"{'redis-server' if name.startswith('redis') else 'memcached'}) to run these tests"
        )
    return path


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            s.bind((_LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port(*, with_bus: bool = False) -> int:
    """A currently free loopback TCP port (and port + 10000 free too if ``with_bus``)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((_LOOPBACK, 0))
            port: int = s.getsockname()[1]
        if not with_bus:
            return port
        if port + 10000 < 65536 and _port_is_free(port + 10000):
            return port
    raise ServerError("no free port found")


def _ask(port: int, request: bytes, timeout: float = 0.5) -> bytes:
    with socket.create_connection((_LOOPBACK, port), timeout=timeout) as s:
        s.sendall(request)
        return s.recv(65536)


class _Process:
    """A server child process with start/stop/kill/restart on a fixed port."""

    binary = ""

    def __init__(self, port: int | None = None, *, with_bus: bool = False) -> None:
        self.host = _LOOPBACK
        self._auto_port = port is None
        self._with_bus = with_bus  # a cluster node also needs port + 10000 free
        self.port = port if port is not None else free_port(with_bus=with_bus)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _answers(self) -> bool:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self: _P) -> _P:
        """Start the server and wait until it answers (ServerError after 10 s).

        A port picked automatically that another process grabbed meanwhile is replaced by a
        fresh one (up to three times).
        """
        for attempt in range(3):
            try:
                return self._start_once()
            except ServerError:
                if not self._auto_port or attempt == 2:
                    raise
                self.port = free_port(with_bus=self._with_bus)
        raise AssertionError("unreachable")

    def _start_once(self: _P) -> _P:
        if self.running:
            return self
        argv = self._argv()
        require_binary(argv[0])
        self._proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            with contextlib.suppress(OSError):
                if self._answers():
                    return self
            time.sleep(0.02)
        self.stop()
        self._log.seek(0)
        raise ServerError(f"{argv[0]} on port {self.port} did not start:\n"
                          + self._log.read()[-2000:].decode(errors="replace"))

    def kill(self) -> None:
        """SIGKILL the server (as a crash would) and wait for it to exit (frozen or not)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(5)
        self._proc = None

    def stop(self) -> None:
        """Terminate the server politely, then kill it if it lingers."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def freeze(self) -> None:
        """SIGSTOP the server: it keeps its sockets and data but answers nothing (a hung host)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen server: it answers again, with whatever it held before."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        """Start the server again on the same port (after ``kill()`` or ``stop()``)."""
        self.kill()
        deadline = time.monotonic() + _START_TIMEOUT
        while not _port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        auto, self._auto_port = self._auto_port, False   # same port: clients reconnect to it
        try:
            self.start()
        finally:
            self._auto_port = auto

    def close(self) -> None:
        """Stop the server and release its log file."""
        self.stop()
        self._log.close()

    def __enter__(self: _P) -> _P:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class RedisServer(_Process):
    """One ``redis-server`` without persistence (or a cluster node when ``cluster_dir``)."""

    binary = "redis-server"

    def __init__(self, port: int | None = None, *, cluster_dir: str | None = None) -> None:
        super().__init__(port, with_bus=cluster_dir is not None)
        self.cluster_dir = cluster_dir
        self._dir = cluster_dir or tempfile.mkdtemp(prefix="fc-redis-")

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{self.host}:{self.port}/0"

    def _argv(self) -> list[str]:
        argv = [self.binary, "--save", "", "--appendonly", "no", "--port", str(self.port),
                "--bind", self.host, "--dir", self._dir, "--daemonize", "no",
                "--protected-mode", "no"]
        if self.cluster_dir is not None:
            argv += ["--cluster-enabled", "yes",
                     "--cluster-config-file", os.path.join(self._dir, f"nodes-{self.port}.conf"),
                     "--cluster-node-timeout", "2000"]
        return argv

    def _answers(self) -> bool:
        # our own child answering, not another run's server that holds the port
        info = _ask(self.port, b"INFO server\r\n")
        return self._proc is not None and f"process_id:{self._proc.pid}\r".encode() in info

    def command(self, *args: str) -> str:
        """Run one command with ``redis-cli`` against this server and return its output."""
        out = subprocess.run([require_binary("redis-cli"), "-h", self.host, "-p", str(self.port),
                              *args], capture_output=True, check=True, timeout=10)
        return out.stdout.decode()

    def close(self) -> None:
        super().close()
        if self.cluster_dir is None:
            shutil.rmtree(self._dir, ignore_errors=True)


class RedisCluster:
    """``n`` cluster-enabled redis-servers (masters only) joined with ``redis-cli --cluster``."""

    def __init__(self, n: int = 3) -> None:
        self._dir = tempfile.mkdtemp(prefix="fc-cluster-")
        # ports picked automatically, so a node whose port was taken meanwhile by another
        # process gets a fresh one when it starts (see _Process.start)
        self.nodes = [RedisServer(cluster_dir=self._dir) for _ in range(n)]
        self.host = _LOOPBACK

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        """``[(host, port), ...]`` of every node."""
        return [(n.host, n.port) for n in self.nodes]

    @property
    def url(self) -> str:
        """``redis://host:port`` of the first node (enough for redis-py's RedisCluster)."""
        return self.nodes[0].url

    def start(self) -> RedisCluster:
        """Start the nodes, create the cluster and wait until ``cluster_state:ok``."""
        try:
            for node in self.nodes:
                node.start()
            subprocess.run(
                [require_binary("redis-cli"), "--cluster", "create",
                 *(f"{n.host}:{n.port}" for n in self.nodes),
                 "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True, check=True, timeout=30)
            self.wait_ok()
        except BaseException:
            self.close()
            raise
        return self

    def wait_ok(self, timeout: float = 20.0) -> None:
        """Wait until every running node reports ``cluster_state:ok`` (ServerError if not)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if all(b"cluster_state:ok" in _ask(n.port, b"CLUSTER INFO\r\n")
                       for n in self.nodes if n.running):
                    return
            time.sleep(0.05)
        raise ServerError("redis cluster did not reach cluster_state:ok")

    def close(self) -> None:
        """Stop every node and remove the cluster's config files."""
        for node in self.nodes:
            node.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisCluster:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class MemcachedServer(_Process):
    """One ``memcached -l 127.0.0.1 -p P -U 0`` (items up to 2 MB, so 1 MB values fit)."""

    binary = "memcached"

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` as pymemcache expects it."""
        return (self.host, self.port)

    @property
    def url(self) -> str:
        """``memcached://127.0.0.1:<port>``."""
        return f"memcached://{self.host}:{self.port}"

    def _argv(self) -> list[str]:
        argv = [self.binary, "-l", self.host, "-p", str(self.port), "-U", "0", "-I", "2m",
                "-m", "64"]
        if os.geteuid() == 0:
            argv += ["-u", "root"]
        return argv

    def _answers(self) -> bool:
        # our own child answering, not another run's server that holds the port
        stats = _ask(self.port, b"stats\r\n")
        return self._proc is not None and f"STAT pid {self._proc.pid}\r".encode() in stats

    def stop(self) -> None:
        """Kill the server: memcached keeps nothing on disk and SIGTERM takes ~0.7 s."""
        self.kill()


class MemcachedServers:
    """``n`` independent memcached servers (a HashClient spreads keys over them)."""

    def __init__(self, n: int = 3) -> None:
        self.servers = [MemcachedServer() for _ in range(n)]

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """``[(host, port), ...]`` of every server."""
        return [s.address for s in self.servers]

    def start(self) -> MemcachedServers:
        """Start every server and wait until each answers."""
        try:
            for s in self.servers:
                s.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every server."""
        for s in self.servers:
            s.close()

    def __enter__(self) -> MemcachedServers:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
