"""Decorated ``async def``: the awaited result is cached, concurrent callers share one
computation, failures and cancellations are not cached. Real event loops (asyncio.run)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

import pytest

import fastcache

DECORATORS: list[tuple[str, Callable[[ModuleType], Any]]] = [
    ("lru_cache", lambda d: d.lru_cache(maxsize=16)),
    ("cache", lambda d: d.cache),
    ("lfu_cache", lambda d: d.lfu_cache(16)),
    ("fifo_cache", lambda d: d.fifo_cache(16)),
    ("ttl_cache", lambda d: d.ttl_cache(16, ttl=60)),
    ("rr_cache", lambda d: d.rr_cache(16)),
    ("sieve_cache", lambda d: d.sieve_cache(16)),
    ("s3fifo_cache", lambda d: d.s3fifo_cache(16)),
    ("wtinylfu_cache", lambda d: d.wtinylfu_cache(16)),
    ("cached", lambda d: d.cached(fastcache.LRUCache(16), info=True)),
]


@pytest.fixture(params=[name for name, _ in DECORATORS])
def adeco(request: pytest.FixtureRequest, dec: ModuleType) -> Any:
    return dict(DECORATORS)[request.param](dec)


def test_caches_the_awaited_result_not_the_coroutine(adeco: Any) -> None:
    calls = 0

    @adeco
    async def f(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return x * 2

    assert inspect.iscoroutinefunction(f)

    async def main() -> None:
        assert await f(2) == 4
        assert await f(2) == 4  # a coroutine could not be awaited twice
        assert await f(3) == 6

    asyncio.run(main())
    assert calls == 2
    assert tuple(f.cache_info())[:2] == (1, 2)
    asyncio.run(main())  # another event loop: results are still there
    assert calls == 2


def test_concurrent_callers_share_one_computation(adeco: Any) -> None:
    calls = 0

    @adeco
    async def f(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return x

    async def main() -> list[int]:
        return await asyncio.gather(*(f(1) for _ in range(10)))

    assert asyncio.run(main()) == [1] * 10
    assert calls == 1
    hits, misses = tuple(f.cache_info())[:2]
    assert hits + misses == 10 and misses == 1


def test_exception_reaches_every_waiter_and_is_not_cached(adeco: Any) -> None:
    calls = 0

    @adeco
    async def f(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        if calls == 1:
            raise ValueError("boom")
        return x

    async def main() -> list[Any]:
        first = await asyncio.gather(*(f(1) for _ in range(5)), return_exceptions=True)
        return [*first, await f(1)]

    out = asyncio.run(main())
    assert all(isinstance(e, ValueError) for e in out[:5])
    assert out[5] == 1
    assert calls == 2


def test_cancelling_one_caller_does_not_cancel_the_others(adeco: Any) -> None:
    calls = 0

    @adeco
    async def f(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return x

    async def main() -> tuple[Any, Any, int]:
        a = asyncio.ensure_future(f(1))
        b = asyncio.ensure_future(f(1))
        await asyncio.sleep(0.01)
        a.cancel()
        res_a = await asyncio.gather(a, return_exceptions=True)
        res_b = await b
        return res_a[0], res_b, await f(1)

    res_a, res_b, again = asyncio.run(main())
    assert isinstance(res_a, asyncio.CancelledError)
    assert res_b == 1 and again == 1
    assert calls == 1


def test_cancellation_of_the_computation_reaches_every_waiter(adeco: Any) -> None:
    calls = 0

    @adeco
    async def f(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise asyncio.CancelledError  # the computation itself is cancelled
        return x

    async def main() -> list[Any]:
        out: list[Any] = list(await asyncio.gather(*(f(1) for _ in range(3)),
                                                   return_exceptions=True))
        out.append(await f(1))
        return out

    out = asyncio.run(main())
    assert all(isinstance(e, asyncio.CancelledError) for e in out[:3])
    assert out[3] == 1
    assert calls == 2


def test_cache_clear_and_methods(dec: ModuleType) -> None:
    class Service:
        def __init__(self) -> None:
            self.calls = 0

        @dec.lru_cache(maxsize=8)
        async def get(self, key: str) -> str:
            self.calls += 1
            return key.upper()

    s = Service()

    async def main() -> None:
        assert await s.get("a") == "A"
        assert await s.get("a") == "A"
        Service.get.cache_clear()
        assert await s.get("a") == "A"

    asyncio.run(main())
    assert s.calls == 2


def test_async_cachedmethod(dec: ModuleType) -> None:
    class Service:
        def __init__(self) -> None:
            self.cache: dict[Any, Any] = {}
            self.calls = 0

        @dec.cachedmethod(lambda self: self.cache)
        async def get(self, key: str) -> str:
            self.calls += 1
            await asyncio.sleep(0.01)
            return key * 2

    s = Service()

    async def main() -> list[str]:
        return await asyncio.gather(*(s.get("ab") for _ in range(4)))

    assert asyncio.run(main()) == ["abab"] * 4
    assert s.calls == 1 and s.cache == {("ab",): "abab"}


def test_async_ttl_expiry(dec: ModuleType) -> None:
    now = [0.0]
    calls = 0

    @dec.ttl_cache(maxsize=4, ttl=10, timer=lambda: now[0])
    async def f(x: int) -> int:
        nonlocal calls
        calls += 1
        return x

    async def call(x: int) -> Awaitable[int]:
        return await f(x)  # type: ignore[no-any-return]

    asyncio.run(call(1))
    asyncio.run(call(1))
    now[0] = 10
    asyncio.run(call(1))
    assert calls == 2
