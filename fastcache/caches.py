"""The cache classes: cachetools-compatible mappings over the selected implementation."""

from __future__ import annotations

import ast
import importlib
import inspect
from typing import Any

from . import _py
from ._impl import impl
from ._layer import build

globals().update(build(impl, __name__))


def _default(node: ast.expr) -> Any:
    """A default of a ``__text_signature__``: a literal, or a dotted name (``time.monotonic``)
    looked up in its module (which ``inspect`` does not do for objects that are not literals)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return getattr(importlib.import_module(node.value.id), node.attr)
    return ast.literal_eval(node)


def _text_signature(cls: Any) -> inspect.Signature:
    """The parameters of a compiled class, from its ``__text_signature__``."""
    args = ast.parse(f"def f{cls.__text_signature__}: pass").body[0].args  # type: ignore[attr-defined]
    empty = inspect.Parameter.empty
    kinds = [(a, inspect.Parameter.POSITIONAL_ONLY) for a in args.posonlyargs]
    kinds += [(a, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in args.args]
    kinds += [(a, inspect.Parameter.KEYWORD_ONLY) for a in args.kwonlyargs]
    defaults = [None] * (len(args.posonlyargs) + len(args.args) - len(args.defaults))
    defaults += list(args.defaults) + list(args.kw_defaults)
    params = [inspect.Parameter(a.arg, kind, default=empty if d is None else _default(d))
              for (a, kind), d in zip(kinds, defaults, strict=True)]
    return inspect.Signature(params)


class _Signature:
    """``__signature__`` of one public compiled class (not of its subclasses, which
    ``inspect`` then reads as usual): the compiled class's own parameters (names, kinds,
    defaults, from its ``__text_signature__``), each annotated as the twin's parameter of the
    same name. A C signature cannot carry annotations; with them, ``help()`` and
    ``inspect.signature`` read the same on both implementations exactly when their
    parameters agree (tests/core/test_parity.py also compares the raw ones)."""

    def __init__(self, cls: Any, compiled: Any, name: str) -> None:
        self.cls, self.compiled, self.name = cls, compiled, name
        self.sig: inspect.Signature | None = None

    def __get__(self, obj: Any, owner: Any = None) -> inspect.Signature:
        if obj is not None or owner is not self.cls:
            raise AttributeError("__signature__")
        if self.sig is None:
            ref = inspect.signature(getattr(_py, self.name))  # (imports that twin class)
            own = _text_signature(self.compiled)
            params = [p.replace(annotation=ref.parameters[p.name].annotation)
                      if p.name in ref.parameters else p for p in own.parameters.values()]
            self.sig = own.replace(parameters=params, return_annotation=ref.return_annotation)
        return self.sig


if impl is not _py:
    for _name in ("Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "TTLCache", "TLRUCache",
                  "SIEVECache", "S3FIFOCache", "WTinyLFUCache"):
        _cls = globals()[_name]
        _cls.__signature__ = _Signature(_cls, getattr(impl, _name), _name)
    del _name, _cls

# defined by build() above; fastcache/caches.pyi declares them for type checkers
__all__ = ["Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "S3FIFOCache",  # noqa: F822
           "SIEVECache", "TLRUCache", "TTLCache", "WTinyLFUCache"]
