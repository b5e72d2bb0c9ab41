"""The reentrancy fuzzer's engine: random programs of cache operations whose user code (key
``__hash__``/``__eq__``, value ``__del__``, ``getsizeof``, ``on_evict``, ``ttu``, ``timer``,
RRCache ``choice``, subclass ``popitem``/``__missing__``) calls back into the cache: ``__init__``,
``clear``, ``__setstate__``, ``copy``, pickling, ``popitem``, ``pop``, ``setdefault``, ``expire``...

Two modes, each run in a child process by ``test_reentrancy_fuzz.py`` (a crash fails one test and
names the seed that reproduces it):

``diff``
    The same program runs on the compiled core and on the twin, with hooks whose calls are
    deterministic (each hook object carries a fixed script of actions, consumed one per call;
    a key's ``__eq__`` acts once; hashes are distinct per hostile key). After every operation
    the results (values, or exception types), the listener's reports and the contents
    (``peek`` order) must be equal, and ``_check()`` must hold on both.
``threads``
    As ``chaos``, with six threads running the program on one cache at a switch interval of
    1e-6 s; ``_check()`` after every operation (C) and at the end (both).
``chaos``
    One implementation; hooks act at random (seeded), keys collide, values' ``__del__`` and
    the timer act too. After every operation ``_check()`` must hold and only the exceptions a
    cache may raise come out (``KeyError``, ``ValueError``, ``TypeError``, ``RuntimeError``,
    ``OverflowError`` and the hooks' own ``HookError``).

Run alone: ``python tests/core/fuzz_engine.py --mode diff --seconds 30 --seed 1`` (exit status 1
and a reproducer on stdout when something is found); ``--replay SEED`` runs one program and
prints it.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import math
import pickle
import random
import sys
import threading
import time
import traceback
from datetime import datetime, timedelta
from typing import Any

IMPLS = {"c": "fastcache.caches", "py": "fastcache._py.public"}
POLICIES = ("Cache", "FIFOCache", "LFUCache", "LRUCache", "RRCache", "TLRUCache", "TTLCache",
            "SIEVECache", "S3FIFOCache", "WTinyLFUCache")
TIMED = ("TTLCache", "TLRUCache")
#: What a cache may raise at its caller (besides what the user code it runs raises).
ALLOWED = (KeyError, ValueError, TypeError, RuntimeError, OverflowError)
MAX_DEPTH = 2  # hooks act only this deep in nested cache operations

Op = tuple[Any, ...]


class HookError(Exception):
    """Raised on purpose by a hook (the ``raise`` action)."""


class Finding(Exception):
    """A check failure, an unexpected exception or a C/twin divergence."""


# -- contexts: hooks find their cache through a registry (so they pickle and deep-copy) --------

CONTEXTS: dict[int, Ctx] = {}


class Ctx:
    """One run of a program on one implementation."""

    def __init__(self, ident: int, impl: str, mode: str, rng: random.Random) -> None:
        self.ident = ident
        self.impl = impl
        self.mode = mode
        self.rng = rng  # chaos mode: hooks act at random
        self.cache: Any = None
        self.init_args: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
        self._local = threading.local()  # the nesting depth is per thread
        self.events: list[Any] = []
        self.time = 0
        CONTEXTS[ident] = self

    @property
    def depth(self) -> int:
        return getattr(self._local, "depth", 0)

    @depth.setter
    def depth(self, value: int) -> None:
        self._local.depth = value


def ctx_of(ident: int) -> Ctx | None:
    return CONTEXTS.get(ident)


class Hook:
    """A piece of user code: a script of actions (diff mode: consumed one per call; chaos
    mode: drawn at random)."""

    def __init__(self, ctx: int, script: list[Op | None]) -> None:
        self.ctx = ctx
        self.script = script
        self.calls = 0

    def act(self, name: str) -> None:
        ctx = ctx_of(self.ctx)
        if ctx is None:
            return
        if ctx.mode == "diff":
            op = self.script[self.calls % len(self.script)] if self.script else None
        elif ctx.mode == "threads" and threading.current_thread() is threading.main_thread():
            op = None
        else:
            op = self.script[ctx.rng.randrange(len(self.script))] if (
                self.script and ctx.rng.random() < 0.3) else None
        self.calls += 1
        if op is None or ctx.depth >= MAX_DEPTH:
            return
        run_nested(ctx, op, name)


def run_nested(ctx: Ctx, op: Op, where: str) -> None:
    """Run ``op`` from inside user code: HookError propagates, other exceptions are noted."""
    if op[0] == "raise":
        raise HookError(where)
    ctx.depth += 1
    try:
        result = perform(ctx, op)
        ctx.events.append(("nested", where, render_op(op), result))
    except HookError:
        raise
    except Exception as exc:
        ctx.events.append(("nested", where, render_op(op), ("exc", type(exc).__name__)))
    finally:
        ctx.depth -= 1


class HK(Hook):
    """A hostile key: equal to another ``HK`` of the same ident; ``__eq__`` (and in chaos mode
    ``__hash__``) run its script."""

    def __init__(self, ctx: int, ident: int, script: list[Op | None], collide: bool) -> None:
        super().__init__(ctx, script)
        self.ident = ident
        self.collide = collide
        self.fired = False

    def __hash__(self) -> int:
        ctx = ctx_of(self.ctx)
        if ctx is not None and ctx.mode != "diff":
            self.act("hash")
        return 1000 + (self.ident % 3 if self.collide else self.ident)

    def __eq__(self, other: object) -> bool:
        ctx = ctx_of(self.ctx)
        if ctx is not None and (ctx.mode != "diff" or not self.fired):
            self.fired = True
            self.act("eq")
        return isinstance(other, HK) and other.ident == self.ident

    def __lt__(self, other: object) -> bool:  # the twin's timed heap may compare keys
        return sort_key(self) < sort_key(other)

    def __repr__(self) -> str:
        return f"HK({self.ident})"


class HV(Hook):
    """A value whose ``__del__`` runs its script (chaos mode)."""

    def __init__(self, ctx: int, ident: int, script: list[Op | None]) -> None:
        super().__init__(ctx, script)
        self.ident = ident

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HV) and other.ident == self.ident

    def __hash__(self) -> int:
        return hash(("HV", self.ident))

    def __del__(self) -> None:
        try:
            ctx = ctx_of(self.ctx)
            if ctx is not None and ctx.mode != "diff" and ctx.cache is not None:
                self.act("del")
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"HV({self.ident})"


class Sizer(Hook):
    def __call__(self, value: Any) -> int:
        self.act("getsizeof")
        return weight(value)


class Listener(Hook):
    def __call__(self, key: Any, value: Any, cause: str) -> None:
        ctx = ctx_of(self.ctx)
        if ctx is not None:
            ctx.events.append(("on_evict", norm(key), norm(value), cause))
        self.act("on_evict")


class Ttu(Hook):
    def __call__(self, key: Any, value: Any, now: Any) -> Any:
        self.act("ttu")
        span = 1 + weight(key) % 4
        return now + (timedelta(seconds=span) if isinstance(now, datetime) else span)


class Choice(Hook):
    def __call__(self, keys: Any) -> Any:
        keys = list(keys)
        self.act("choice")
        return min(keys, key=sort_key)


class Timer(Hook):
    """A counter timer: moves only on the ``tick`` operation; acts in chaos mode. With
    ``datetimes``, the counter's seconds after ``EPOCH``."""

    datetimes = False

    def __call__(self) -> Any:
        ctx = ctx_of(self.ctx)
        now = 0 if ctx is None else ctx.time
        if ctx is not None and ctx.mode != "diff":
            self.act("timer")
        return EPOCH + timedelta(seconds=now) if self.datetimes else now


EPOCH = datetime(2026, 1, 1)


def weight(obj: Any) -> int:
    if isinstance(obj, (HK, HV)):
        return obj.ident % 4
    if isinstance(obj, int):
        return obj % 4
    return 1


def sort_key(obj: Any) -> tuple[int, Any]:
    if isinstance(obj, int):
        return (0, obj)
    if isinstance(obj, (HK, HV)):
        return (1, obj.ident)
    return (2, repr(obj))


def norm(obj: Any) -> Any:
    """A comparable stand-in for a result (C and twin results compare equal)."""
    if isinstance(obj, (int, str, float, type(None), bool)):
        return obj
    if isinstance(obj, HK):
        return ("HK", obj.ident)
    if isinstance(obj, HV):
        return ("HV", obj.ident)
    if isinstance(obj, (tuple, list)):
        return tuple(norm(x) for x in obj)
    if hasattr(obj, "_check"):
        return "<cache>"
    return type(obj).__name__


# -- subclasses with popitem/__missing__ overrides (module level, so that they pickle) --------

def _popitem(self: Any) -> Any:
    hook = self.__dict__.get("popitem_hook")
    if hook is not None:
        hook.act("popitem")
    pair = super(type(self), self).popitem()
    ctx = ctx_of(hook.ctx) if hook is not None else None
    if ctx is not None:
        ctx.events.append(("popitem", norm(pair)))
    return pair


def _missing(self: Any, key: Any) -> Any:
    hook = self.__dict__.get("missing_hook")
    if hook is not None:
        hook.act("missing")
        ctx = ctx_of(hook.ctx)
        if ctx is not None:
            ctx.events.append(("missing", norm(key)))
    if weight(key) == 0:
        raise KeyError(key)
    return -weight(key)


SUBCLASSES: dict[tuple[str, str, str], type] = {}


def _make_subclasses() -> None:
    for impl, modname in IMPLS.items():
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        for policy in POLICIES:
            for kind in ("popitem", "missing", "both"):
                name = f"Fuzz_{impl}_{policy}_{kind}"
                body: dict[str, Any] = {"__module__": __name__, "__qualname__": name}
                if kind in ("popitem", "both"):
                    body["popitem"] = _popitem
                if kind in ("missing", "both"):
                    body["__missing__"] = _missing
                cls = type(name, (getattr(mod, policy),), body)
                globals()[name] = cls
                SUBCLASSES[impl, policy, kind] = cls


# -- programs -----------------------------------------------------------------------------------

NESTED_OPS = ("set", "get", "getitem", "contains", "delitem", "pop", "setdefault", "popitem",
              "clear", "init", "len", "iter", "expire", "copy", "pickle", "peek", "raise",
              "setstate", "settl")
TOP_OPS = ("set", "set", "set", "get", "getitem", "contains", "delitem", "pop", "setdefault",
           "popitem", "clear", "peek", "len", "iter", "expire", "tick", "tick", "settl",
           "swap_copy", "swap_deepcopy", "swap_pickle", "init", "update", "setstate")


def gen_key(rng: random.Random) -> Op:
    return ("i", rng.randrange(12)) if rng.random() < 0.6 else ("h", rng.randrange(8))


def gen_value(rng: random.Random) -> Op:
    return ("i", rng.randrange(8)) if rng.random() < 0.7 else ("v", rng.randrange(8))


#: Operations left out of the programs (``--without``): to look past a known finding.
WITHOUT: set[str] = set()


def gen_op(rng: random.Random, choices: tuple[str, ...], mode: str) -> Op:
    name = rng.choice(choices)
    if name in WITHOUT:
        return ("len",)
    if mode == "diff" and name == "setstate":
        name = "copy"  # the compiled classes have no __setstate__ of their own
    if name in ("set", "setdefault", "settl", "update"):
        return (name, gen_key(rng), gen_value(rng))
    if name in ("get", "getitem", "contains", "delitem", "pop", "peek"):
        return (name, gen_key(rng))
    if name == "tick":
        return (name, rng.randrange(1, 4))
    return (name,)


def gen_script(rng: random.Random, mode: str, n: int = 4) -> list[Op | None]:
    """A hook's actions (None: do nothing on that call)."""
    return [gen_op(rng, NESTED_OPS, mode) if rng.random() < 0.5 else None for _ in range(n)]


class Program:
    """A cache configuration and a list of top-level operations, drawn from ``seed``."""

    def __init__(self, seed: int, mode: str, length: int = 40) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.mode = mode
        self.policy = rng.choice(POLICIES)
        self.maxsize = rng.choice([1, 2, 3, 5, 8, 8, math.inf])
        self.sized = rng.random() < 0.4
        self.listener = rng.random() < 0.5
        self.sub = rng.choice([None, None, "popitem", "missing", "both"])
        self.rr_custom = self.policy == "RRCache" and (mode == "diff" or rng.random() < 0.7)
        self.stats = rng.random() < 0.3
        self.scripts = {h: gen_script(rng, mode) for h in
                        ("getsizeof", "on_evict", "ttu", "choice", "timer", "popitem", "missing")}
        # per hostile key ident / value ident: its script
        self.key_scripts = {i: gen_script(rng, mode) for i in range(8)}
        self.value_scripts = {i: gen_script(rng, mode) for i in range(8)}
        self.ops = [gen_op(rng, TOP_OPS, mode) for _ in range(length)]
        # drawn last: the programs of earlier seeds stay the same
        self.datetimes = self.policy in TIMED and rng.random() < 0.4
        # WTinyLFUCache: the miniature simulations (every key sampled at these sizes), the
        # climber or neither
        self.adaptive: Any = (rng.choice([True, True, "climb", False])
                              if self.policy == "WTinyLFUCache" else True)

    def describe(self) -> str:
        subs = f", subclass overriding {self.sub}" if self.sub else ""
        return (f"# seed {self.seed} ({self.mode}): {self.policy}(maxsize={self.maxsize}, "
                f"getsizeof={'Sizer' if self.sized else None}, "
                f"on_evict={'Listener' if self.listener else None}, "
                f"choice={'Choice' if self.rr_custom else 'default'}, stats={self.stats}{subs})"
                f"{' over datetimes' if self.datetimes else ''}"
                f"{f' adaptive={self.adaptive!r}' if self.adaptive is not True else ''}\n"
                f"# hook scripts: { {k: [render_op(o) if o else None for o in v] for k, v in self.scripts.items()} }\n"  # noqa: E501
                f"# key scripts (HK(i).__eq__ acts once in diff mode): "
                f"{ {k: [render_op(o) if o else None for o in v] for k, v in self.key_scripts.items()} }\n"  # noqa: E501
                + "\n".join(render_op(op) for op in self.ops))


def render_arg(spec: Op) -> str:
    kind, n = spec
    return {"i": str(n), "h": f"HK({n})", "v": f"HV({n})"}[kind]


def render_op(op: Op) -> str:
    name = op[0]
    args = [render_arg(a) if isinstance(a, tuple) else repr(a) for a in op[1:]]
    return {"set": "c[{0}] = {1}", "getitem": "c[{0}]", "contains": "{0} in c",
            "delitem": "del c[{0}]", "settl": "c.set({0}, {1}, ttl=2)  # TTLCache; else c[k]=v",
            "tick": "timer += {0}", "update": "c.update({{{0}: {1}}})",
            "swap_copy": "c = copy.copy(c)", "swap_deepcopy": "c = copy.deepcopy(c)",
            "swap_pickle": "c = pickle.loads(pickle.dumps(c))", "init": "c.__init__(*same args)",
            "setstate": "c.__setstate__(c.__getstate__())  # twin; C: copy.copy",
            "copy": "copy.copy(c)", "pickle": "pickle.loads(pickle.dumps(c))",
            "iter": "list(c)", "len": "len(c)", "raise": "raise HookError",
            }.get(name, f"c.{name}({', '.join(args)})").format(*args)


# -- running ------------------------------------------------------------------------------------

def make_arg(ctx: Ctx, prog: Program, spec: Op) -> Any:
    kind, n = spec
    if kind == "i":
        return n
    if kind == "h":
        return HK(ctx.ident, n, prog.key_scripts[n], collide=prog.mode != "diff")
    return HV(ctx.ident, n, prog.value_scripts[n])


PROGRAMS: dict[int, Program] = {}


def build(ctx: Ctx, prog: Program) -> Any:
    mod = importlib.import_module(IMPLS[ctx.impl])
    cls = SUBCLASSES[ctx.impl, prog.policy, prog.sub] if prog.sub else getattr(mod, prog.policy)
    s = prog.scripts
    kw: dict[str, Any] = {"stats": prog.stats}
    if prog.policy == "WTinyLFUCache":
        kw["adaptive"] = prog.adaptive
    if prog.listener:
        kw["on_evict"] = Listener(ctx.ident, s["on_evict"])
    sizer = Sizer(ctx.ident, s["getsizeof"]) if prog.sized else None
    args: tuple[Any, ...]
    if prog.policy == "RRCache":
        args = (prog.maxsize, Choice(ctx.ident, s["choice"]) if prog.rr_custom else min, sizer)
    elif prog.policy in TIMED:
        timer = Timer(ctx.ident, s["timer"])
        timer.datetimes = prog.datetimes
        args = (prog.maxsize, timedelta(seconds=3) if prog.datetimes else 3, timer, sizer)
        if prog.policy == "TLRUCache":
            args = (prog.maxsize, Ttu(ctx.ident, s["ttu"]), timer, sizer)
    else:
        args = (prog.maxsize, sizer)
    ctx.init_args = (args, kw)
    c = cls(*args, **kw)
    if prog.sub in ("popitem", "both"):
        c.popitem_hook = Hook(ctx.ident, s["popitem"])
    if prog.sub in ("missing", "both"):
        c.missing_hook = Hook(ctx.ident, s["missing"])
    return c


def perform(ctx: Ctx, op: Op) -> Any:
    """Run one operation on ``ctx.cache``; return its normalised result."""
    prog = PROGRAMS[ctx.ident]
    c = ctx.cache
    name = op[0]
    a = [make_arg(ctx, prog, x) for x in op[1:] if isinstance(x, tuple)]
    if name == "set":
        c[a[0]] = a[1]
        return None
    if name == "settl":
        if prog.policy == "TTLCache":
            c.set(a[0], a[1], ttl=timedelta(seconds=2) if prog.datetimes else 2)
        else:
            c[a[0]] = a[1]
        return None
    if name == "update":
        c.update({a[0]: a[1]})
        return None
    if name == "get":
        return norm(c.get(a[0], "default"))
    if name == "getitem":
        return norm(c[a[0]])
    if name == "peek":
        return norm(c.peek(a[0], "default"))
    if name == "contains":
        return a[0] in c
    if name == "delitem":
        del c[a[0]]
        return None
    if name == "pop":
        return norm(c.pop(a[0], "default"))
    if name == "setdefault":
        return norm(c.setdefault(a[0], a[1]))
    if name == "popitem":
        return norm(c.popitem())
    if name == "clear":
        c.clear()
        return None
    if name == "len":
        return len(c)
    if name == "iter":
        return norm(sorted(c, key=sort_key) if prog.policy == "RRCache" else list(c))
    if name == "expire":
        if prog.policy in TIMED:
            return norm(c.expire())
        return None
    if name == "tick":
        ctx.time += op[1]
        return None
    if name == "init":
        args, kw = ctx.init_args
        c.__init__(*args, **kw)
        return None
    if name == "copy":
        return norm(list(copy.copy(c)))
    if name == "pickle":
        return norm(list(pickle.loads(pickle.dumps(c))))
    if name == "setstate":
        if hasattr(c, "__setstate__") and hasattr(c, "__getstate__"):
            state = c.__getstate__()
            if state is not None and not isinstance(state, dict):
                c.__setstate__(state)
        return None
    if name in ("swap_copy", "swap_deepcopy", "swap_pickle"):
        new = {"swap_copy": copy.copy, "swap_deepcopy": copy.deepcopy,
               "swap_pickle": lambda x: pickle.loads(pickle.dumps(x))}[name](c)
        new._check()
        ctx.cache = new
        return None
    raise AssertionError(f"unknown operation {name}")


def snapshot(ctx: Ctx) -> Any:
    """The contents, in eviction order (RRCache: sorted), without counting accesses."""
    c = ctx.cache
    keys = list(c)
    if PROGRAMS[ctx.ident].policy == "RRCache":
        keys.sort(key=sort_key)
    return (norm([(k, c.peek(k, "gone")) for k in keys]), c.currsize, len(c))


def check(ctx: Ctx) -> None:
    c = ctx.cache
    c._check()
    if not (c.currsize <= c.maxsize):
        raise Finding(f"currsize {c.currsize} above maxsize {c.maxsize}")
    prog = PROGRAMS[ctx.ident]
    if not prog.sized and c.currsize != len(list(c)) and prog.policy not in TIMED:
        raise Finding(f"currsize {c.currsize} != number of entries {len(list(c))}")


_next_ctx = [0]


def run_program(prog: Program, impl: str, rng_seed: int, steps: list[Any] | None = None
                ) -> list[Any]:
    """Run ``prog`` on ``impl``; return one record per operation. Raises ``Finding``."""
    _next_ctx[0] += 1
    ctx = Ctx(_next_ctx[0], impl, prog.mode, random.Random(rng_seed))
    PROGRAMS[ctx.ident] = prog
    records: list[Any] = []
    try:
        ctx.cache = build(ctx, prog)
        for i, op in enumerate(prog.ops):
            ctx.events = []
            try:
                result: Any = perform(ctx, op)
            except HookError:
                result = ("exc", "HookError")
            except ALLOWED as exc:
                result = ("exc", type(exc).__name__)
            except Exception as exc:
                raise Finding(f"op {i} `{render_op(op)}` on {impl}: unexpected "
                              f"{type(exc).__name__}: {exc}\n"
                              + "".join(traceback.format_exception(exc)[-6:])) from exc
            ctx.depth = MAX_DEPTH  # the hooks stay quiet while the checks run
            try:
                check(ctx)
                state = snapshot(ctx) if prog.mode == "diff" else None
            except (Finding, AssertionError) as exc:
                raise Finding(f"op {i} `{render_op(op)}` on {impl}: check failed: "
                              f"{type(exc).__name__}: {exc}") from exc
            except (*ALLOWED, HookError) as exc:
                state = ("exc", type(exc).__name__)
            finally:
                ctx.depth = 0
            records.append((result, ctx.events, state))
    finally:
        ctx.cache = None
        CONTEXTS.pop(ctx.ident, None)
        PROGRAMS.pop(ctx.ident, None)
    return records


THREADS = 6


def run_threads(prog: Program, impl: str, rng_seed: int) -> None:
    """``THREADS`` threads run ``prog.ops`` (each from its own offset) on one cache at a tiny
    switch interval; hooks act at random. Raises ``Finding``."""
    _next_ctx[0] += 1
    ctx = Ctx(_next_ctx[0], impl, "threads", random.Random(rng_seed))
    PROGRAMS[ctx.ident] = prog
    errors: list[str] = []
    start = threading.Barrier(THREADS)

    def worker(t: int) -> None:
        try:
            start.wait()
            for i in range(len(prog.ops)):
                op = prog.ops[(i + t * 7) % len(prog.ops)]
                try:
                    perform(ctx, op)
                except (HookError, *ALLOWED):
                    pass
                except Exception as exc:
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    errors.append(f"thread {t}, `{render_op(op)}`: unexpected "
                                  f"{type(exc).__name__}: {exc} (at {where.filename}:"
                                  f"{where.lineno} {where.name})")
                if impl == "c":  # the C check runs without releasing the GIL: atomic
                    ctx.depth = MAX_DEPTH
                    try:
                        ctx.cache._check()
                    except AssertionError as exc:
                        errors.append(f"thread {t}, after `{render_op(op)}`: check failed: {exc}")
                    finally:
                        ctx.depth = 0
        except BaseException as exc:
            errors.append(f"thread {t}: {type(exc).__name__}: {exc}")

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        ctx.cache = build(ctx, prog)
        threads = [threading.Thread(target=worker, args=(t,), daemon=True)
                   for t in range(THREADS)]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 120
        for th in threads:
            th.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(th.is_alive() for th in threads):
            raise Finding("a thread did not finish in 120 s (hang or livelock)")
    finally:
        sys.setswitchinterval(old)
    try:
        if errors:
            raise Finding("\n".join(errors[:5]))
        ctx.depth = MAX_DEPTH
        try:
            check(ctx)
        except (Finding, AssertionError) as exc:
            raise Finding(f"after the threads: check failed: {type(exc).__name__}: {exc}") from exc
    finally:
        ctx.cache = None
        CONTEXTS.pop(ctx.ident, None)
        PROGRAMS.pop(ctx.ident, None)


def run_diff(prog: Program) -> None:
    if "c" not in {i for i, _, _ in SUBCLASSES}:
        raise SystemExit("the compiled core is not built")
    rc = run_program(prog, "c", prog.seed)
    rp = run_program(prog, "py", prog.seed)
    for i, (x, y) in enumerate(zip(rc, rp, strict=True)):
        if x != y:
            raise Finding(f"C and twin diverge at op {i} `{render_op(prog.ops[i])}`:\n"
                          f"  C:    result {x[0]!r}\n        events {x[1]!r}\n        state {x[2]!r}\n"  # noqa: E501
                          f"  twin: result {y[0]!r}\n        events {y[1]!r}\n        state {y[2]!r}")  # noqa: E501


def fails(prog: Program, impl: str) -> str | None:
    try:
        if prog.mode == "diff":
            run_diff(prog)
        elif prog.mode == "threads":
            run_threads(prog, impl, prog.seed)
        else:
            run_program(prog, impl, prog.seed)
    except Finding as exc:
        return str(exc)
    return None


def shrink(prog: Program, impl: str) -> Program:
    """Drop operations while the program still fails (in-process failures only)."""
    changed = True
    while changed:
        changed = False
        for i in range(len(prog.ops) - 1, -1, -1):
            ops = prog.ops
            prog.ops = ops[:i] + ops[i + 1:]
            if fails(prog, impl) is not None:
                changed = True
            else:
                prog.ops = ops
    return prog


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mode", choices=("diff", "chaos", "threads"), default="diff")
    p.add_argument("--impl", choices=("c", "py"), default="c", help="chaos mode")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0, help="first program seed")
    p.add_argument("--replay", type=int, default=None, help="run (and print) one program")
    p.add_argument("--length", type=int, default=40)
    p.add_argument("--keep-going", type=int, default=1, metavar="N",
                   help="report up to N findings before stopping")
    p.add_argument("--without", default="", help="comma-separated operations to leave out")
    args = p.parse_args(argv)
    WITHOUT.update(filter(None, args.without.split(",")))
    _make_subclasses()
    if args.replay is not None:
        prog = Program(args.replay, args.mode, args.length)
        print(prog.describe())
        err = fails(prog, args.impl)
        print(err or "no finding")
        return 1 if err else 0
    deadline = time.monotonic() + args.seconds
    seed, n, found = args.seed, 0, 0
    while time.monotonic() < deadline and found < args.keep_going:
        print(f"program {seed}", flush=True)
        prog = Program(seed, args.mode, args.length)
        err = fails(prog, args.impl)
        if err is not None:
            found += 1
            if args.mode != "threads":  # a threads run does not repeat: nothing to shrink
                shrink(prog, args.impl)
                err = fails(prog, args.impl) or err
            print(f"FINDING (seed {seed}, {args.mode}, impl {args.impl})\n{err}\n"
                  f"--- shrunk program\n{prog.describe()}", flush=True)
        seed += 1
        n += 1
    print(f"{'FAILED' if found else 'ok'}: {n} programs, seeds {args.seed}..{seed - 1}, "
          f"{found} findings", flush=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
