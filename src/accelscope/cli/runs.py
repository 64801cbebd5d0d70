"""``accelscope runs list|show|export|compare``: the results database in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli.main import app
from accelscope.units import fmt_bytes, fmt_seconds, si


def _console() -> Console:
    """The terminal's width on a terminal; 140 columns when piped, so wide tables stay readable."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=140)

runs_app = typer.Typer(name="runs", help="Stored benchmark runs: list, show, export, compare.",
                       no_args_is_help=True)
app.add_typer(runs_app, name="runs")

_STORE_HELP = "Results database (default: $ACCELSCOPE_STORE or the user data dir)."


def _open(store: Optional[Path]):
    from accelscope.store import Store

    return Store(store)


@runs_app.command("list")
def list_cmd(
    store: Optional[Path] = typer.Option(None, "--store", help=_STORE_HELP),
    limit: Optional[int] = typer.Option(None, "--limit", help="Show only the newest N runs."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored runs, newest first."""
    with _open(store) as db:
        runs = db.list_runs(limit=limit)
        path = db.path
    if json_out:
        typer.echo(json.dumps([{k: v for k, v in r.to_dict().items() if k != "environment"} for r in runs],
                              indent=2))
        return
    t = Table(title=f"runs in {path}")
    for col in ("id", "created (UTC)", "kind", "model", "devices", "points ok/all", "status", "host"):
        t.add_column(col, justify="right" if col in ("id", "points ok/all") else "left")
    for r in runs:
        t.add_row(str(r.id), r.created_at.replace("+00:00", ""), r.kind, r.label,
                  ",".join(r.config.get("devices", [])), f"{r.n_ok}/{r.n_points}", r.status, r.hostname or "")
    _console().print(t)


@runs_app.command("show")
def show_cmd(
    run: str = typer.Argument(..., help="Run id, 'latest' or 'latest~N'."),
    store: Optional[Path] = typer.Option(None, "--store", help=_STORE_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (with raw samples)."),
) -> None:
    """Show one run: its config, environment and every point."""
    with _open(store) as db:
        rec = db.get_run(run)
        points = db.points(rec.id, samples=json_out)
    if json_out:
        typer.echo(json.dumps({**rec.to_dict(), "points": points}, indent=2))
        return
    console = _console()
    env = rec.environment or {}
    console.print(f"[bold]run {rec.id}[/bold] {rec.kind} {rec.label}  status={rec.status}  "
                  f"created {rec.created_at}  host {rec.hostname}")
    if rec.command:
        console.print(f"command: {rec.command}")
    console.print(f"accelscope {env.get('accelscope_version')}, Python {env.get('python_version')}, "
                  f"torch {env.get('torch_version')}, CUDA {env.get('cuda_version')}, "
                  f"driver {env.get('gpu_driver')}; CPU {env.get('cpu_model')} "
                  f"({env.get('physical_cores')} cores / {env.get('logical_cores')} threads); "
                  f"GPUs: {', '.join(g['name'] for g in env.get('gpus', [])) or 'none'}")
    t = Table()
    for col in ("device", "task", "batch", "precision", "status", "median", "p10", "p90", "n", "throughput",
                "speedup", "J/sample", "energy method", "peak mem"):
        t.add_column(col)
    for p in points:
        st = p.get("step_time_s") or {}
        ok = p.get("status") == "ok"
        mem = p.get("peak_mem_allocated_bytes") or p.get("peak_rss_bytes")
        t.add_row(p.get("device", ""), p.get("task", ""), str(p.get("batch_size", "")), p.get("precision", ""),
                  "ok" if ok else f"failed: {p.get('error')}",
                  fmt_seconds(st.get("median")), fmt_seconds(st.get("p10")), fmt_seconds(st.get("p90")),
                  str(st.get("n", "-")), si(p.get("throughput_samples_per_s")) + ("/s" if ok else ""),
                  f"{p['speedup_vs_cpu']:.3g}x" if p.get("speedup_vs_cpu") else "-",
                  si(p.get("energy_j_per_sample"), "J"), p.get("energy_method", ""), fmt_bytes(mem))
    console.print(t)


@runs_app.command("export")
def export_cmd(
    runs: Optional[list[str]] = typer.Argument(None, help="Run ids (default: all runs)."),
    fmt: str = typer.Option("json", "--format", help="json (everything, raw samples included) or csv."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    store: Optional[Path] = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Export runs as JSON or CSV (one row per point)."""
    from accelscope.store import export_runs

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
    store: Optional[Path] = typer.Option(None, "--store", help=_STORE_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Compare two runs point by point; exit code 1 if any point regressed (> threshold and significant)."""
    from accelscope.store import compare_runs

    with _open(store) as db:
        cmp = compare_runs(db, a, b, threshold=threshold)
    if json_out:
        typer.echo(json.dumps(cmp.to_dict(), indent=2))
    else:
        t = Table(title=f"run {cmp.run_b} vs run {cmp.run_a} (step time; regression = > {threshold:.0%} "
                        "slower with the 95% CI above 1)")
        for col in ("device", "task", "batch", "precision", f"A (run {cmp.run_a})", f"B (run {cmp.run_b})",
                    "change", "95% CI of B/A", "p (Mann-Whitney)", "verdict"):
            t.add_column(col)
        colors = {"regression": "red", "improvement": "green"}
        for p in cmp.points:
            k = p.key
            v = p.verdict if p.verdict not in colors else f"[{colors[p.verdict]}]{p.verdict}[/{colors[p.verdict]}]"
            t.add_row(str(k["device"]), str(k["task"]), str(k["batch_size"]), str(k["precision"]),
                      fmt_seconds(p.a_median_s), fmt_seconds(p.b_median_s),
                      f"{p.change:+.1%}" if p.change is not None else "-",
                      f"[{p.ci_low:.3f}, {p.ci_high:.3f}]" if p.ci_low is not None else "-",
                      f"{p.p_value:.2g}" if p.p_value is not None else "-",
                      v + (f" ({p.note})" if p.note else ""))
        _console().print(t)
    if cmp.has_regression:
        raise typer.Exit(1)
