"""Fault injection: the table of acknowledged operations, reads, stale reads and errors.

    python -m bench.faults [--seconds 30] [--processes 2] [--threads 4] [--tasks 8] [KIND...]

(from the repository root: the harness is the fault-injection tests' own, tests/faults)

For each backend kind (redis, cluster, memcached: fresh servers on loopback), several
processes each with their own clients write and read while the servers are frozen
(SIGSTOP), thawed, killed and restarted in turn; see ``tests/faults/harness.py``.
Columns: clients (processes x (threads on one sync backend + tasks on one async backend)),
faults injected, acknowledged writes/deletes, reads completed, hits, ``stale`` (a read
older than an acknowledged write of the same client: must be 0), ``x-stale`` (older than
another client's acknowledged write), ``x-age`` the largest age of those (how long the
newer write had been acknowledged), ``x-when`` the latest of them after a hurt server
could answer again (from just before it was thawed or restarted, to the read's reply: a
read sent to a frozen server is answered when it is thawed), ``bound`` the documented limit
of ``x-when`` (memcached), and errors by
type (only ``BackendUnavailable`` is documented).
"""

from __future__ import annotations

import argparse
import logging
import sys

from tests.faults.harness import KINDS, Report, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kinds", nargs="*", metavar="KIND",
                        help=f"backends to run (default: all of {', '.join(KINDS)})")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=8)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the backends log every failover
    print(Report.HEADER, flush=True)
    ok = True
    unknown = set(args.kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown backend kinds: {', '.join(sorted(unknown))}")
    for kind in args.kinds or KINDS:
        report = run(kind, args.seconds, processes=args.processes, threads=args.threads,
                     tasks=args.tasks)
        print(report.line(), flush=True)
        for detail in report.details:
            print("  same-client stale read:", detail)
        for name, tb in report.tracebacks.items():
            print(f"  first {name}:\n{tb}")
        ok &= (report.stale_same == 0 and not report.undocumented
               and (report.stale_cross == 0 or report.max_after_back <= report.bound))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
