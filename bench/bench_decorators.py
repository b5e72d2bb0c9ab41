"""Decorator call costs, each as a ratio to a baseline measured in the same run.

    python -m bench.bench_decorators            # full run (~50 s)
    python -m bench.bench_decorators --quick    # fewer repeats (~10 s)
    python -m bench.bench_decorators --threads  # 8 threads x 100k mixed calls (check)

The measurements live in ``fastcache/_bench/decorators.py`` (shipped with the package, so
``python -m fastcache bench`` shows them from an installed wheel); see its docstring.
"""

from __future__ import annotations

from fastcache._bench.decorators import main, rows, threads_check

__all__ = ["main", "rows", "threads_check"]

if __name__ == "__main__":
    main()
