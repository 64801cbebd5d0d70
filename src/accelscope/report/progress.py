"""Progress of long work on the terminal: a rich progress bar on stderr, shown only when stderr
is a terminal and the command was not asked for ``--json`` or ``--quiet`` (nothing on a pipe,
in a CI log or in a file). Jobs report through plain callbacks; this turns them into a bar.

>>> with progress_bar(enabled=not quiet) as bar:
...     job(progress=bar.message)          # "measuring mlp on cpu" ...
...     sweep(progress=bar.step)            # step(done, total, "label")
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


class Bar:
    """Callbacks for a job; every one is a no-op when no bar is shown."""

    def __init__(self, progress=None):
        self._p = progress
        self._task = progress.add_task("", total=None) if progress is not None else None

    def message(self, text: str) -> None:
        """A new phase of the work (the bar's description; the count is left as it is)."""
        if self._p is not None:
            self._p.update(self._task, description=text)

    def step(self, done: int, total: int | None, text: str | None = None) -> None:
        """``done`` of ``total`` units of work (``text``: what is being done now)."""
        if self._p is not None:
            fields = {"description": text} if text is not None else {}
            self._p.update(self._task, completed=done, total=total, **fields)

    def stop(self) -> None:
        """Take the bar off the terminal (before a message that must be read, e.g. on Ctrl-C)."""
        if self._p is not None:
            self._p.stop()


@contextlib.contextmanager
def progress_bar(*, enabled: bool = True) -> Iterator[Bar]:
    """A :class:`Bar` on stderr while the block runs (removed after), or a silent one."""
    if not (enabled and sys.stderr.isatty()):
        yield Bar()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from accelscope.report.table import console

    p = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                 TimeElapsedColumn(), console=console(stderr=True), transient=True)
    with p:
        yield Bar(p)
