"""Types of the compiled core (csrc/, built by setup.py): the cache classes and the
decorators' call wrappers. Checked against the built module with
``python -m mypy.stubtest fastcache._core`` (no allowlist).

These classes are not ``MutableMapping``s by themselves: ``fastcache.caches`` adds the mixins.
"""

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any, Final, Generic, Literal, TypeVar, final, overload

from typing_extensions import Self, disjoint_base

from ._types import CacheStats

_KT = TypeVar("_KT")
_VT = TypeVar("_VT")
_T = TypeVar("_T")

_OnEvict = Callable[[_KT, _VT, str], object]
_TimerFn = Callable[[], float]
# A timed cache's times: real numbers, or datetimes (a timedelta ttl; ttu returning them)
_AnyTimerFn = Callable[[], float] | Callable[[], date]

EVICTED: Final = "evicted"
EXPIRED: Final = "expired"
REPLACED: Final = "replaced"
DELETED: Final = "deleted"
DEBUG: Final[int]  # 1 in a FASTCACHE_DEBUG=1 build (consistency checks after each operation)
SIM_POLICIES: Final[tuple[str, ...]]  # the policies sim_run replays (fastcache.simulate)

def sim_run(
    policy: str,
    keys: Any,
    capacity: int,
    sizes: Any = None,
    seed: int = 0,
    params: dict[str, float] | None = None,
) -> tuple[int, int, int, int, int]: ...

@disjoint_base
class Cache(Generic[_KT, _VT]):
    on_evict: _OnEvict[_KT, _VT] | None
    def __init__(
        self,
        maxsize: float,
        getsizeof: Callable[[_VT], int] | None = None,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...
    def __getitem__(self, key: _KT, /) -> _VT: ...
    def __setitem__(self, key: _KT, value: _VT, /) -> None: ...
    def __delitem__(self, key: _KT, /) -> None: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __iter__(self) -> Iterator[_KT]: ...
    def __len__(self) -> int: ...
    def __missing__(self, key: _KT, /) -> _VT: ...
    # get/pop/setdefault as typeshed's MutableMapping, so fastcache.caches can mix both in.
    @overload
    def get(self, key: _KT, default: None = None, /) -> _VT | None: ...
    @overload
    def get(self, key: _KT, default: _VT, /) -> _VT: ...
    @overload
    def get(self, key: _KT, default: _T, /) -> _VT | _T: ...
    @overload
    def peek(self, key: _KT, default: None = None, /) -> _VT | None: ...
    @overload
    def peek(self, key: _KT, default: _VT, /) -> _VT: ...
    @overload
    def peek(self, key: _KT, default: _T, /) -> _VT | _T: ...
    @overload
    def pop(self, key: _KT, /) -> _VT: ...
    @overload
    def pop(self, key: _KT, default: _VT, /) -> _VT: ...
    @overload
    def pop(self, key: _KT, default: _T, /) -> _VT | _T: ...
    @overload
    def setdefault(self: Cache[_KT, _T | None], key: _KT, default: None = None, /) -> _T | None: ...
    @overload
    def setdefault(self, key: _KT, default: _VT, /) -> _VT: ...
    def popitem(self) -> tuple[_KT, _VT]: ...
    def clear(self) -> None: ...
    @property
    def maxsize(self) -> float: ...
    @property
    def currsize(self) -> int: ...
    @staticmethod
    def getsizeof(value: Any, /) -> int: ...
    def stats(self) -> CacheStats: ...
    def reset_stats(self) -> None: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    def _check(self) -> None: ...

class LRUCache(Cache[_KT, _VT]): ...

class LFUCache(Cache[_KT, _VT]):
    def frequency(self, key: _KT, /) -> int: ...

class FIFOCache(Cache[_KT, _VT]): ...

class SIEVECache(Cache[_KT, _VT]): ...

class S3FIFOCache(Cache[_KT, _VT]):
    def __init__(
        self,
        maxsize: float,
        getsizeof: Callable[[_VT], int] | None = None,
        small_fraction: float = 0.1,
        ghost_fraction: float = 0.9,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...
    @property
    def small_fraction(self) -> float: ...
    @property
    def ghost_fraction(self) -> float: ...

class RRCache(Cache[_KT, _VT]):
    def __init__(
        self,
        maxsize: float,
        choice: Callable[[Sequence[_KT]], _KT] = ...,
        getsizeof: Callable[[_VT], int] | None = None,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...
    @property
    def choice(self) -> Callable[[Sequence[_KT]], _KT]: ...

@final
class _Timer:
    """A timed cache's timer, as cachetools': ``with cache.timer as now:`` freezes the time."""

    def __new__(cls, timer: _AnyTimerFn, /) -> Self: ...
    def __call__(self, *args: object, **kwargs: object) -> Any: ...  # takes none
    def __enter__(self) -> Any: ...
    def __exit__(self, *exc: object) -> None: ...

class TTLCache(Cache[_KT, _VT]):
    @overload
    def __init__(
        self,
        maxsize: float,
        ttl: float,
        timer: _TimerFn = ...,
        getsizeof: Callable[[_VT], int] | None = None,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...
    @overload
    def __init__(
        self,
        maxsize: float,
        ttl: timedelta,
        timer: Callable[[], date],
        getsizeof: Callable[[_VT], int] | None = None,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...
    @property
    def ttl(self) -> float | timedelta: ...
    @property
    def timer(self) -> _Timer: ...
    def set(self, key: _KT, value: _VT, ttl: float | timedelta | None = None) -> None: ...
    def expire(self, time: float | date | None = None) -> list[tuple[_KT, _VT]]: ...
    # a float, or a timedelta when the times are datetimes
    def remaining_ttl(self, key: _KT, /) -> Any: ...

class TLRUCache(Cache[_KT, _VT]):
    @overload
    def __init__(
        self,
        maxsize: float,
        ttu: Callable[[_KT, _VT, float], float],
        timer: _TimerFn = ...,
        getsizeof: Callable[[_VT], int] | None = None,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...
    @overload
    def __init__(
        self,
        maxsize: float,
        ttu: Callable[[_KT, _VT, Any], date],
        timer: Callable[[], date],
        getsizeof: Callable[[_VT], int] | None = None,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...
    @property
    def ttu(self) -> Callable[[_KT, _VT, Any], Any]: ...
    @property
    def timer(self) -> _Timer: ...
    def expire(self, time: float | date | None = None) -> list[tuple[_KT, _VT]]: ...
    # a float, or a timedelta when the times are datetimes
    def remaining_ttl(self, key: _KT, /) -> Any: ...

class WTinyLFUCache(Cache[_KT, _VT]):
    def __init__(
        self,
        maxsize: float,
        getsizeof: Callable[[_VT], int] | None = None,
        window: float = 0.01,
        adaptive: bool | Literal["climb"] = True,
        seed: int | None = None,
        *,
        on_evict: _OnEvict[_KT, _VT] | None = None,
        stats: bool = False,
    ) -> None: ...

def _restore(
    type: type[Cache[Any, Any]], config: dict[str, Any], entries: list[Any] | None = None, /
) -> Any: ...

# The decorators' call wrappers (csrc/wrapper.c); the twin is fastcache._py.wrapper.
@final
class _lru_cache_wrapper:
    """Compiled call wrapper of fastcache's memoizing decorators."""

    __dict__: dict[str, Any]
    __dictoffset__: int
    __weaklistoffset__: int
    __vectorcalloffset__: int
    def __new__(
        cls,
        user_function: Callable[..., Any],
        maxsize: int | None,
        typed: bool,
        cache_info_type: Callable[[int, int, int | None, int], Any],
        *,
        policy: str = "lru",
        ttl: float | None = None,
        timer: Callable[[], float] | None = None,
        single_flight: bool = False,
    ) -> _lru_cache_wrapper: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, obj: object, objtype: type | None = None, /) -> Any: ...
    def cache_info(self) -> Any: ...
    def cache_clear(self) -> None: ...
    def __reduce__(self) -> str: ...
    def __copy__(self) -> _lru_cache_wrapper: ...
    def __deepcopy__(self, memo: Any, /) -> _lru_cache_wrapper: ...

@final
class _cached_wrapper:
    """Compiled call wrapper of ``fastcache.cached``: memoizes in any mapping."""

    __dict__: dict[str, Any]
    __dictoffset__: int
    __weaklistoffset__: int
    __vectorcalloffset__: int
    def __new__(
        cls,
        user_function: Callable[..., Any],
        cache: Any,
        key: Callable[..., Any],
        make_info: Callable[[Any, int, int], Any] | None,
        *,
        lock: Any = None,
        single_flight: bool = False,
        fast_hashkey: bool = False,
        owner: object = None,
        cache_attr: str | None = None,
    ) -> _cached_wrapper: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, obj: object, objtype: type | None = None, /) -> Any: ...
    @property
    def cache_info(self) -> Callable[[], Any]: ...
    @property
    def cache(self) -> Any: ...
    def cache_clear(self) -> None: ...
    def __reduce__(self) -> str: ...
    def __copy__(self) -> _cached_wrapper: ...
    def __deepcopy__(self, memo: Any, /) -> _cached_wrapper: ...
