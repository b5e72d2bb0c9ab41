"""The ``python -m fastcache`` command line (also installed as ``fastcache``).

``python -m fastcache bench [--quick | --full]``: the side-by-side benchmark against ``dict``
and the peer libraries on this machine (progress on stderr, the tables on stdout).
``python -m fastcache info``: version, implementation in use, compiled module path.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from typing import TextIO

__all__ = ["main"]


def _core_path() -> str:
    """Where the compiled core is, or why it is not there."""
    try:
        from . import _core
    except ImportError as exc:
        return f"not importable ({exc})"
    return str(_core.__file__)


def describe() -> list[str]:
    """Lines naming the version, the implementation in use and the interpreter."""
    import fastcache

    from . import _impl

    return [
        f"fastcache {fastcache.__version__}",
        f"implementation: {_impl.IMPLEMENTATION} ({_impl.REASON})",
        f"compiled module: {_core_path()}",
        f"python: {platform.python_implementation()} {platform.python_version()}"
        f" ({sys.executable})",
        f"platform: {platform.platform()}, {os.cpu_count()} CPUs",
    ]


class _Progress:
    """Progress lines on ``stream``: rewritten in place on a terminal, one per line else."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        line = f"{time.perf_counter() - self.t0:5.1f}s {message}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line[:120])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(f"done in {time.perf_counter() - self.t0:.1f}s\n")
        self.stream.flush()


def _bench(args: argparse.Namespace) -> int:
    from . import _bench

    mode = "quick" if args.quick else "full" if args.full else "default"
    out = sys.stdout
    for line in describe():
        out.write(f"# {line}\n")
    out.write(f"# mode: {mode}\n\n")
    out.flush()
    progress = _Progress(sys.stderr)
    rows = _bench.run(quick=args.quick, progress=progress, full=args.full)
    progress.done()
    out.write(_bench.format_rows(rows))
    out.flush()
    return 0


def _info(args: argparse.Namespace) -> int:
    for line in describe():
        print(line)
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fastcache`` command (``python -m fastcache``)."""
    from . import __version__

    p = argparse.ArgumentParser(
        prog="fastcache",
        description="fastcache: compiled caches for Python (also run as python -m fastcache).",
    )
    p.add_argument("--version", action="version", version=f"fastcache {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser(
        "bench",
        help="compare the cache classes with dict and peer libraries on this machine",
        description="Side-by-side ns/op and ratios against dict (and cachebox, cachetools,"
        " lru-dict when installed), measured in this run. Default: under a minute.",
    )
    mode = b.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    mode.add_argument("--full", action="store_true",
                      help="more repeats and a 10,000,000-entry size (minutes, ~3 GB)")
    b.set_defaults(func=_bench)
    i = sub.add_parser("info", help="version, implementation in use, compiled module path")
    i.set_defaults(func=_info)
    from .simulate import add_parser as add_simulate

    add_simulate(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
    return status
