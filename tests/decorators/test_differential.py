"""The compiled wrapper against its pure-Python twin (the reference): long random call
sequences over every policy, with collisions, keyword calls and cache_clear, must produce
the same results, the same recomputations in the same order, and the same cache_info."""

from __future__ import annotations

import random
import zlib
from typing import Any

import pytest

from .impls import IMPLS

pytestmark = pytest.mark.compiled  # compares the compiled wrapper with the twin


class Collider:
    """Equal by value, every instance hashing alike: forces comparisons in probe runs."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __hash__(self) -> int:
        return self.v % 3

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Collider) and other.v == self.v

    def __repr__(self) -> str:
        return f"C({self.v})"


def _calls(seed: int, n: int) -> list[tuple[str, Any]]:
    rnd = random.Random(seed)
    out: list[tuple[str, Any]] = []
    for _ in range(n):
        r = rnd.random()
        x = min(rnd.randrange(60), rnd.randrange(60))
        if r < 0.35:
            out.append(("one", x))
        elif r < 0.5:
            out.append(("str", str(x)))
        elif r < 0.65:
            out.append(("two", (x, x % 7)))
        elif r < 0.78:
            out.append(("kw", (x % 9, x % 4)))
        elif r < 0.9:
            out.append(("collide", Collider(x)))
        elif r < 0.97:
            out.append(("float", float(x)))
        elif r < 0.985:
            out.append(("tick", rnd.choice([0.5, 1, 3])))
        else:
            out.append(("clear", None))
    return out


def _run(impl: str, policy: str, maxsize: int | None, typed: bool,
         calls: list[tuple[str, Any]]) -> tuple[list[Any], list[Any], Any]:
    dec = IMPLS[impl]
    now = [0.0]
    computed: list[Any] = []

    def f(*args: Any, **kwargs: Any) -> Any:
        computed.append((args, tuple(kwargs.items())))
        return (args, tuple(sorted(kwargs.items())))

    if policy == "ttl":
        wrapped = dec.ttl_cache(maxsize, ttl=4, timer=lambda: now[0], typed=typed,
                                single_flight=False)(f)
    else:
        wrapped = getattr(dec, f"{policy}_cache")(maxsize, typed=typed,
                                                  single_flight=False)(f)
    results: list[Any] = []
    for kind, arg in calls:
        if kind == "tick":
            now[0] += arg
        elif kind == "clear":
            wrapped.cache_clear()
        elif kind == "two":
            results.append(wrapped(*arg))
        elif kind == "kw":
            a, b = arg
            results.append(wrapped(a, b=b) if a % 2 else wrapped(b=b, a=a))
        else:
            results.append(wrapped(arg))
        results.append(tuple(wrapped.cache_info()))
    return results, computed, tuple(wrapped.cache_info())


@pytest.mark.parametrize("policy", ["lru", "fifo", "lfu", "ttl"])
@pytest.mark.parametrize("maxsize", [1, 3, 16, None])
@pytest.mark.parametrize("typed", [False, True])
def test_compiled_matches_twin(policy: str, maxsize: int | None, typed: bool) -> None:
    calls = _calls(seed=zlib.crc32(repr((policy, maxsize, typed)).encode()), n=1500)
    c = _run("c", policy, maxsize, typed, calls)
    py = _run("py", policy, maxsize, typed, calls)
    assert c[1] == py[1]  # the same recomputations, in the same order
    assert c[0] == py[0]  # the same results and statistics after every call
    assert c[2] == py[2]
