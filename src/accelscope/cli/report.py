"""``accelscope report [RUN ...] --out report.html``: stored runs as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app


@app.command("report")
def report_cmd(
    runs: Optional[list[str]] = typer.Argument(None, help="Run ids, 'latest' or 'latest~N' (default: the latest explore, with its measurements)."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write (one file, opens from disk, needs no network)."),
    png: Optional[Path] = typer.Option(None, "--png", help="Also write every chart as a PNG into this directory (matplotlib: pip install 'accelscope[figures]')."),
    svg: Optional[Path] = typer.Option(None, "--svg", help="Also write every chart as an SVG into this directory."),
    force: bool = typer.Option(False, "--force", help="Replace --out even if it is not an accelscope report."),
    title: Optional[str] = typer.Option(None, "--title", help="The page's title."),
    store: o.StoreOpt = None,
    quiet: o.Quiet = False,
    json_out: o.Json = False,
) -> None:
    """Write an interactive HTML report of stored runs: speedups, rooflines, time by category and phase, energy and
    dollars, predictions against measurements, environment and methodology; every chart's data as a table."""
    from accelscope.jobs.report import write_report
    from accelscope.report import json_text, text
    from accelscope.store import Store

    with Store(store) as db, text.progress_bar(enabled=not (quiet or json_out)) as bar:
        result = write_report(db, out, runs or None, png=png, svg=svg, force=force, title=title,
                              progress=bar.message)
    if json_out:
        typer.echo(json_text(result.to_dict()))
    elif not quiet:
        text.console().print(f"wrote {result.path} ({result.charts} charts from runs "
                             f"{', '.join(map(str, result.runs))})"
                             + (f" and {len(result.images)} images" if result.images else ""))
