"""Benchmarks of a checkout, run from the repository root as modules, e.g.
``python -m bench.hits`` (so that the checkout's ``fastcache`` and ``tests`` are imported
without any path editing). ``bench/README.md`` lists them with their commands."""
