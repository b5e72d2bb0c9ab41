"""Stub of the compiled call wrapper (csrc/wrapper.c); the twin is fastcache._py.wrapper."""

from collections.abc import Callable
from typing import Any, final

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
