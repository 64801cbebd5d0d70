"""``accelscope runs list|show|export|compare``: the results database in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app

runs_app = typer.Typer(name="runs", help="Stored runs: list, show, export, compare.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _open(store: Optional[str]):
    from accelscope.store import Store

    return Store(store)


@runs_app.command("list")
def list_cmd(
    store: o.StoreOpt = None,
    limit: Optional[int] = typer.Option(None, "--limit", help="Show only the newest N runs."),
    user: Optional[str] = typer.Option(None, "--user", help="Only runs this user made (a team's store)."),
    host: Optional[str] = typer.Option(None, "--host", help="Only runs made on this host."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only runs of this kind (measurement, estimate, ...)."),
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """List stored runs, newest first (who made each, and where)."""
    from accelscope.report import json_text, text

    with _open(store) as db:
        runs = db.list_runs(limit=limit, user=user, host=host, kind=kind)
        path = db.location
    if json_out:
        typer.echo(json_text([{k: v for k, v in r.to_dict().items() if k != "environment"} for r in runs]))
    else:
        text.runs_list(runs, path, text.console(), wide=wide)


@runs_app.command("show")
def show_cmd(
    run: str = typer.Argument(..., help="Run id, 'latest' or 'latest~N'."),
    store: o.StoreOpt = None,
    json_out: bool = typer.Option(False, "--json", help="Print JSON (with raw samples)."),
    wide: o.Wide = False,
) -> None:
    """Show one run: its config, environment and every point."""
    from accelscope.report import json_text, text

    with _open(store) as db:
        rec = db.get_run(run)
        points = db.points(rec.id, samples=json_out)
    if json_out:
        typer.echo(json_text({**rec.to_dict(), "points": points}))
    else:
        text.run_show(rec, points, text.console(), wide=wide)


@runs_app.command("export")
def export_cmd(
    runs: Optional[list[str]] = typer.Argument(None, help="Run ids (default: all runs)."),
    fmt: str = typer.Option("json", "--format", help="json (everything, raw samples included) or csv."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Replace --output if it exists (refused otherwise)."),
    store: o.StoreOpt = None,
) -> None:
    """Export runs as JSON or CSV (one row per point)."""
    from accelscope.errors import ConfigError
    from accelscope.store import export_runs

    if output is not None:
        if output.is_dir() or (output.exists() and not force):
            raise ConfigError(f"--output {str(output)!r} exists; nothing was written: give another file, "
                              "or --force to replace it" if not output.is_dir() else
                              f"--output {str(output)!r} is a directory; give a file name")
        if not output.parent.is_dir():
            raise ConfigError(f"--output {str(output)!r}: the directory {str(output.parent)!r} does not exist")
    with _open(store) as db:
        text = export_runs(db, runs or None, fmt)
    if output is not None:
        output.write_text(text)
    else:
        typer.echo(text, nl=False)


@runs_app.command("compare")
def compare_cmd(
    a: str = typer.Argument(..., help="Reference run (id, 'latest~1', ...)."),
    b: str = typer.Argument(..., help="Candidate run."),
    threshold: float = typer.Option(0.05, "--threshold", help="Smallest relative change that counts (0.05 = 5%)."),
    store: o.StoreOpt = None,
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Compare two runs point by point; exit code 1 if any point regressed (> threshold and significant)."""
    from accelscope.report import json_text, text
    from accelscope.store import compare_runs

    with _open(store) as db:
        cmp = compare_runs(db, a, b, threshold=threshold)
    if json_out:
        typer.echo(json_text(cmp.to_dict()))
    else:
        text.comparison(cmp, threshold, text.console(), wide=wide)
    if cmp.has_regression:
        raise typer.Exit(1)
