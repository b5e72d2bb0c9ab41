"""Decorator call costs, each as a ratio to a baseline measured in the same run.

    python bench/bench_decorators.py            # full run (~50 s)
    python bench/bench_decorators.py --quick    # fewer repeats (~10 s)
    python bench/bench_decorators.py --threads  # 8 threads x 100k mixed calls (check)

The measurements live in ``fastcache/_bench_decorators.py`` (shipped with the package, so
``python -m fastcache bench`` shows them from an installed wheel); see its docstring.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastcache._bench_decorators import main, rows, threads_check

__all__ = ["main", "rows", "threads_check"]

if __name__ == "__main__":
    main()
