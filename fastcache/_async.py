"""The wrapper of a decorated ``async def``: caches awaited results, shares in-flight calls.

Concurrent callers (in one event loop) asking for the same missing key share one task that
runs the coroutine function; its result is stored when it completes. An exception or a
cancellation of that task is not stored and reaches every caller awaiting it. A caller that
is cancelled stops waiting (through ``asyncio.shield``) without cancelling the task, so the
other callers still get the result. Callers in another event loop (another thread) start
their own task.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["make_async_wrapper"]

_MISSING = object()


def _consume(task: asyncio.Task[Any]) -> None:
    # Nobody may be left awaiting the task: retrieve its outcome so that asyncio does not
    # log "exception was never retrieved".
    if not task.cancelled():
        task.exception()


def make_async_wrapper(
    user_function: Callable[..., Coroutine[Any, Any, Any]],
    make_key: Callable[..., Any],
    get: Callable[[Any, Any], Any],
    put: Callable[[Any, Any], None],
    lock: AbstractContextManager[Any] | None = None,
) -> tuple[Callable[..., Coroutine[Any, Any, Any]], Callable[[], tuple[int, int]],
           Callable[[], None]]:
    """Return ``(wrapper, counts, reset)`` for ``user_function``.

    ``make_key(args, kwargs)`` builds the key; ``get(key, missing)`` reads the store
    (``missing`` when absent), ``put(key, value)`` writes it, both under ``lock`` (a
    reentrant lock of our own by default). ``counts()`` returns ``(hits, misses)``;
    a caller that joins an in-flight computation counts as a hit.
    """
    guard: AbstractContextManager[Any] = lock if lock is not None else threading.RLock()
    inflight: dict[Any, asyncio.Task[Any]] = {}
    hits = misses = 0

    async def run(key: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            result = await user_function(*args, **kwargs)
            with guard:
                put(key, result)
            return result
        finally:
            if inflight.get(key) is asyncio.current_task():
                del inflight[key]

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal hits, misses
        key = make_key(args, kwargs)
        with guard:
            result = get(key, _MISSING)
            if result is not _MISSING:
                hits += 1
                return result
        loop = asyncio.get_running_loop()
        task = inflight.get(key)
        if task is not None and task.get_loop() is loop and not task.done():
            hits += 1
        else:
            misses += 1
            task = loop.create_task(run(key, args, kwargs))
            task.add_done_callback(_consume)
            inflight[key] = task
        return await asyncio.shield(task)

    def counts() -> tuple[int, int]:
        return hits, misses

    def reset() -> None:
        nonlocal hits, misses
        hits = misses = 0

    return wrapper, counts, reset
