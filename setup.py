"""Build the compiled core ``fastcache._core`` from ``csrc/``.

``FASTCACHE_NO_EXTENSIONS=1`` skips the extension (the pure-Python twin is used);
``FASTCACHE_DEBUG=1`` builds it with assertions and a whole-structure consistency check
after every operation (``-DFC_DEBUG -UNDEBUG -O0 -g``).
"""

import os
import sys

from setuptools import Extension, setup

NO_EXT = os.environ.get("FASTCACHE_NO_EXTENSIONS") == "1" or sys.implementation.name != "cpython"
DEBUG = os.environ.get("FASTCACHE_DEBUG") == "1"

extra_compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                      "-Wno-missing-field-initializers"]
define_macros = []
undef_macros = []
if DEBUG:
    extra_compile_args += ["-O0", "-g3"]
    define_macros.append(("FC_DEBUG", "1"))
    undef_macros.append("NDEBUG")
else:
    extra_compile_args += ["-O2"]

ext_modules = [] if NO_EXT else [
    Extension(
        "fastcache._core",
        sources=["csrc/_core.c", "csrc/sim.c"],
        depends=[os.path.join("csrc", f) for f in os.listdir("csrc") if f.endswith((".h", ".c"))],
        extra_compile_args=extra_compile_args,
        define_macros=define_macros,
        undef_macros=undef_macros,
    )
]
# The decorator's call wrapper (csrc/wrapper.c) is its own extension module.
if not NO_EXT and os.path.exists(os.path.join("csrc", "wrapper.c")):
    ext_modules.append(
        Extension(
            "fastcache._cwrapper",
            sources=["csrc/wrapper.c"],
            depends=[os.path.join("csrc", f) for f in os.listdir("csrc") if f.endswith(".h")],
            extra_compile_args=extra_compile_args,
            define_macros=define_macros,
            undef_macros=undef_macros,
        )
    )

setup(ext_modules=ext_modules)
