"""The result cells of the benchmarks and their layout as text tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NOTE", "Row", "format_rows"]

NOTE = "note"  # a Row in this column is printed under its table, not in a cell


@dataclass(frozen=True)
class Row:
    """One cell of a result table: ``table`` / ``label`` (row) / ``column``.

    ``value`` is the measured number (ns/op, a hit ratio, ...) or None when nothing was
    measured; ``text`` is how the cell is printed.
    """

    table: str
    label: str
    column: str
    value: float | None
    text: str


def format_rows(rows: Iterable[Row]) -> str:
    """Lay the cells out as one text table per ``table``, in the order they came.

    Rows in the ``"note"`` column are printed under their table as ``label: text``.
    """
    tables: dict[str, dict[str, dict[str, str]]] = {}
    columns: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    for x in rows:
        body = tables.setdefault(x.table, {})
        cols = columns.setdefault(x.table, [])
        if x.column == NOTE:
            line = f"{x.label}: {x.text}"
            if line not in notes.setdefault(x.table, []):
                notes[x.table].append(line)
            continue
        body.setdefault(x.label, {})[x.column] = x.text
        if x.column not in cols:
            cols.append(x.column)
    out: list[str] = []
    for title, body in tables.items():
        out.append(f"## {title}")
        cols = columns[title]
        if body:
            first = max(len(label) for label in body)
            widths = [max([len(c)] + [len(cells.get(c, "")) for cells in body.values()])
                      for c in cols]
            pairs = list(zip(cols, widths, strict=True))
            out.append("  ".join([" " * first, *(c.rjust(w) for c, w in pairs)]).rstrip())
            for label, cells in body.items():
                out.append("  ".join([label.ljust(first), *(cells.get(c, "").rjust(w)
                                                            for c, w in pairs)]).rstrip())
        out.extend(f"  ({line})" for line in notes.get(title, []))
        out.append("")
    return "\n".join(out)
