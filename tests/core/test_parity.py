"""The compiled core and the twin expose the same API: public names and signatures of every
class, the public layer's and the raw implementation classes' alike."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import fastcache._py
import fastcache._py.public

from .conftest import load_impl

pytestmark = pytest.mark.compiled

CLASSES = ["Cache", "LRUCache", "LFUCache", "FIFOCache", "RRCache", "TTLCache", "TLRUCache",
           "SIEVECache", "S3FIFOCache", "WTinyLFUCache"]


def public_names(cls: Any) -> list[str]:
    return sorted(n for n in dir(cls) if not n.startswith("_"))


def shape(sig: inspect.Signature, annotations: bool = True) -> list[tuple[Any, ...]]:
    """The parameters as comparable tuples (defaults compared with ==)."""
    return [(p.name, p.kind, p.default) + ((p.annotation,) if annotations else ())
            for p in sig.parameters.values()]


@pytest.mark.parametrize("name", CLASSES)
def test_public_names(name: str) -> None:
    c = getattr(load_impl("c"), name)
    py = getattr(fastcache._py.public, name)
    assert public_names(c) == public_names(py)
    # and the raw classes under the public layer
    core = __import__("fastcache._core", fromlist=[name])
    assert public_names(getattr(core, name)) == public_names(getattr(fastcache._py, name))


@pytest.mark.parametrize("name", CLASSES)
def test_public_class_signature(name: str) -> None:
    c = inspect.signature(getattr(load_impl("c"), name))
    py = inspect.signature(getattr(fastcache._py.public, name))
    assert shape(c) == shape(py)
    assert c.return_annotation == py.return_annotation


@pytest.mark.parametrize("name", CLASSES)
def test_compiled_text_signature(name: str) -> None:
    """The C class's own ``__text_signature__`` (what ``help()`` on ``fastcache._core`` shows)
    has the twin's parameters: names, kinds and defaults."""
    from fastcache.caches import _text_signature

    core = __import__("fastcache._core", fromlist=[name])
    own = _text_signature(getattr(core, name))
    twin = inspect.signature(getattr(fastcache._py, name))
    assert shape(own, annotations=False) == shape(twin, annotations=False)


@pytest.mark.parametrize("name", CLASSES)
def test_method_signatures(name: str) -> None:
    """Every public method takes the same parameters (by name; the C ones are
    positional-only where the twin's may also be given by keyword, as dict's and
    cachetools')."""
    core = __import__("fastcache._core", fromlist=[name])
    c_cls, py_cls = getattr(core, name), getattr(fastcache._py, name)
    checked = 0
    for attr in public_names(py_cls):
        py_m = getattr(py_cls, attr)
        if not callable(py_m) or isinstance(inspect.getattr_static(py_cls, attr), property):
            continue
        c_params = [p for p in inspect.signature(getattr(c_cls, attr)).parameters
                    if p != "self"]
        py_params = [p for p in inspect.signature(py_m).parameters if p != "self"]
        assert c_params == py_params, attr
        checked += 1
    assert checked >= 8


def test_subclass_signature_is_its_own() -> None:
    """The public classes' annotated signature is not inherited by a subclass."""
    c = load_impl("c")

    class Mine(c.LRUCache):  # type: ignore[misc, name-defined]
        def __init__(self, size: int) -> None:
            super().__init__(size)

    assert list(inspect.signature(Mine).parameters) == ["size"]


BAD_CALLS = [
    ("TTLCache", (10,), {}), ("TLRUCache", (10,), {}), ("RRCache", (), {}), ("TTLCache", (), {}),
    ("LRUCache", (1, 2, 3), {}), ("TTLCache", (1, 2, 3, 4, 5), {}), ("LFUCache", (1,), {"foo": 2}),
    ("FIFOCache", (1,), {"maxsize": 2}), ("Cache", (), {}),
]


@pytest.mark.parametrize("name, args, kwargs", BAD_CALLS)
def test_argument_errors_are_the_twins(name: str, args: tuple[Any, ...],
                                       kwargs: dict[str, Any]) -> None:
    """Word for word the twin's (Python's own) messages, naming the class whose __init__ it
    is: ``TTLCache.__init__() missing 1 required positional argument: 'ttl'``."""
    messages = []
    for module in (load_impl("c"), fastcache._py.public):
        with pytest.raises(TypeError) as info:
            getattr(module, name)(*args, **kwargs)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "__init__()" in messages[0]
