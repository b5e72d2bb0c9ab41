"""The compiled core keeps its prefetches in its machine code.

GCC takes a function whose one effect is a prefetch for a pure one and deletes its calls,
silently: the policies' prefetch helpers (FC_PREFETCH_HELPER, csrc/table.h) are inlined so
that it cannot. Five prefetches at least: the sketch block at a lookup, probation's victim
and the ghost slot at a write (csrc/cache.c), the two ghost slots of a push (csrc/s3fifo.c).
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess

import pytest

import fastcache


def test_prefetches_are_in_the_machine_code() -> None:
    if fastcache.IMPLEMENTATION != "c":
        pytest.skip("the compiled core is not in use")
    objdump = shutil.which("objdump")
    if objdump is None or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("needs objdump and x86-64 machine code")
    from fastcache import _core

    assert _core.__file__ is not None
    code = subprocess.run([objdump, "-d", "--no-show-raw-insn", _core.__file__],
                          capture_output=True, text=True, check=True, timeout=300).stdout
    owners: dict[str, int] = {}
    function = ""
    for line in code.splitlines():
        header = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if header:
            function = header.group(1)
        elif re.search(r"\sprefetch(t0|w|nta|t1|t2)?\s", line):
            owners[function] = owners.get(function, 0) + 1
    assert sum(owners.values()) >= 5, owners
    assert any("ghost_push" in f for f in owners), owners
