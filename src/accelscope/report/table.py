"""Tables that fit the terminal without truncating what matters.

A table is a list of :class:`Col` and rows of cells (strings, rich markup allowed). The
columns a row is identified by (device names) and the numbers are never cut: every cell is
rendered whole, on one line. When the table is wider than the console (the terminal's
width, or 80 columns when the output is piped to a file or a CI log, ``$COLUMNS`` if set),
the least important columns are left out, in the order their ``drop`` rank gives (highest
first), and a line under the table names them; ``wide=True`` (the commands' ``--wide``)
keeps every column and prints the table at its full width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    justify: str = "left"
    #: 0: always shown; higher ranks are left out first when the table does not fit
    drop: int = 0


def console(*, stderr: bool = False) -> Console:
    """A console for tables and messages (stdout, or stderr for progress and warnings)."""
    return Console(stderr=stderr, highlight=False)


def _build(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]],
           styles: Sequence[str | None] | None, caption: str | None) -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAD, caption=caption, title_justify="left", caption_justify="left")
    for c in cols:
        t.add_column(c.header, justify=c.justify, no_wrap=True, overflow="ignore")  # type: ignore[arg-type]
    for i, row in enumerate(rows):
        t.add_row(*row, style=styles[i] if styles else None)
    return t


def print_table(out: Console, title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]], *,
                wide: bool = False, styles: Sequence[str | None] | None = None) -> list[str]:
    """Print the table (see the module docstring); returns the headers left out."""
    keep = list(range(len(cols)))
    order = sorted((i for i, c in enumerate(cols) if c.drop), key=lambda i: (-cols[i].drop, -i))
    dropped: list[int] = []

    def pick(idx: list[int]) -> Table:
        return _build(title, [cols[i] for i in idx], [[r[i] for i in idx] for r in rows], styles, None)

    unbounded = out.options.update(max_width=10**6)

    def natural(t: Table) -> int:
        return Measurement.get(out, unbounded, t).maximum

    table = pick(keep)
    width = natural(table)
    while not wide and width > out.width and order:
        dropped.append(order.pop(0))
        keep = [i for i in keep if i != dropped[-1]]
        table = pick(keep)
        width = natural(table)
    if width > out.width:  # only the columns that are always shown, or --wide: print it whole
        saved = out.width
        out.width = width  # rich clamps print(width=...) to the console's width
        try:
            out.print(table, crop=False)
        finally:
            out.width = saved
    else:
        out.print(table)
    names = [cols[i].header for i in sorted(dropped)]
    if names:
        out.print(f"[dim](--wide shows the columns left out to fit {out.width}: {', '.join(names)})[/dim]")
    return names
