"""Build the compiled core ``fastcache._core`` from ``csrc/``.

``FASTCACHE_PURE_PYTHON=1`` (the variable ``fastcache._impl`` reads at import; set to
anything but "" or "0") builds no extension: the installed copy runs the pure-Python twin.
``FASTCACHE_NO_EXTENSIONS=1`` is its old name, still honoured at build time.
``FASTCACHE_DEBUG=1`` builds it with assertions and a whole-structure consistency check
after every operation (``-DFC_DEBUG -UNDEBUG -O0 -g``).
"""

import os
import sys

from setuptools import Extension, setup

NO_EXT = (any(os.environ.get(name, "") not in ("", "0")
              for name in ("FASTCACHE_PURE_PYTHON", "FASTCACHE_NO_EXTENSIONS"))
          or sys.implementation.name != "cpython")
DEBUG = os.environ.get("FASTCACHE_DEBUG") == "1"

# -fvisibility=hidden: only PyInit__core is exported, so calls between the C files skip the PLT
extra_compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                      "-Wno-missing-field-initializers", "-fvisibility=hidden"]
define_macros = []
undef_macros = []
if DEBUG:
    extra_compile_args += ["-O0", "-g3"]
    define_macros.append(("FC_DEBUG", "1"))
    undef_macros.append("NDEBUG")
else:
    extra_compile_args += ["-O2"]

# One extension module from the files of csrc/ (csrc/core.h says which holds what).
SOURCES = ["module.c", "cache.c", "timed.c", "pickle.c", "check.c", "wrapper.c", "table.c",
           "lfu.c", "sieve.c", "s3fifo.c", "wtinylfu.c", "pending.c", "wheel.c", "clock.c",
           "sim.c"]

ext_modules = [] if NO_EXT else [
    Extension(
        "fastcache._core",
        sources=[os.path.join("csrc", f) for f in SOURCES],
        depends=[os.path.join("csrc", f) for f in os.listdir("csrc") if f.endswith(".h")],
        extra_compile_args=extra_compile_args,
        define_macros=define_macros,
        undef_macros=undef_macros,
    )
]

setup(ext_modules=ext_modules)
