"""``accelscope explore``: the main job — measure locally, predict the catalog, rank."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.cli.profile import print_json
from accelscope.units import fmt_seconds


def _row_cells(r) -> list[str]:
    return [
        r.device, r.kind, r.precision, "measured" if r.source == "measured" else "predicted",
        fmt_seconds(r.step_time_s) if r.step_time_s else "failed",
        f"{r.speedup_vs_cpu:.3g}x" if r.speedup_vs_cpu else "-",
        f"{r.energy_j_per_sample:.3g}" if r.energy_j_per_sample is not None else "-",
        f"{r.usd_per_million_samples:.3g}" if r.usd_per_million_samples is not None else "-",
        {True: "yes", False: "[red]no[/red]", None: "?"}[r.fits_in_memory],
    ]


@app.command("explore")
def explore_cmd(
    models: Optional[list[str]] = typer.Argument(None, help="Models to explore (default: a built-in set that runs in minutes on a laptop CPU)."),
    task: o.Task = "infer",
    batch: o.Batch = None,
    seq_len: o.SeqLen = None,
    image_size: o.ImageSize = None,
    precision: str = typer.Option("auto", "--precision", help="auto (fp32 on CPUs, mixed precision on accelerators) or one precision for all."),
    device: str = typer.Option("auto", "--device", help="Local devices to measure (auto = all present)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only predict catalog devices of these kinds (comma-separated)."),
    max_time: float = typer.Option(6.0, "--max-time", help="Cap on each local measurement, in seconds."),
    top: int = typer.Option(12, "--top", help="Rows per workload in the table (--json has all)."),
    store: Optional[Path] = typer.Option(None, "--store", help="Results database (default: $ACCELSCOPE_STORE or the user data dir)."),
    json_out: o.Json = False,
) -> None:
    """Measure local devices, predict every catalog device, and rank them per workload."""
    from accelscope.explore import DEFAULT_WORKLOADS, explore
    from accelscope.models.calibrate import load_calibrations
    from accelscope.store import Store

    if models:
        workloads = [{"model": m, "task": task, "batch_size": batch, "seq_len": seq_len, "image_size": image_size}
                     for m in models]
        workloads = [{k: v for k, v in w.items() if v is not None} for w in workloads]
    else:
        workloads = list(DEFAULT_WORKLOADS)
    console = Console(stderr=json_out)
    start = time.perf_counter()
    with Store(store) as db:
        result = explore(workloads, devices=device, kinds=kind.split(",") if kind else None,
                         precision=precision, max_time_s=max_time, store=db,
                         calibrations=load_calibrations(db),
                         progress=lambda msg: console.print(f"[dim]{msg}...[/dim]"))
        path = db.path
    elapsed = time.perf_counter() - start
    if json_out:
        print_json(result.to_dict() | {"store": str(path), "elapsed_s": elapsed})
        return
    for wr in result.results:
        w = wr.workload
        t = Table(title=f"{w['model']} {w['task']} batch={w['batch_size']}"
                        + "".join(f" {k}={w[k]}" for k in ("seq_len", "image_size") if w.get(k)))
        for col in ("device", "kind", "precision", "how", "step time", "vs CPU", "J/sample", "$/M samples", "fits"):
            t.add_column(col, justify="left" if col in ("device", "kind", "precision", "how") else "right")
        measured = [r for r in wr.rows if r.source == "measured"]
        predicted = [r for r in wr.rows if r.source == "predicted"][: max(top - len(measured), 0)]
        for r in sorted(measured + predicted, key=lambda r: -(r.throughput_samples_per_s or 0.0)):
            t.add_row(*_row_cells(r), style="bold" if r.source == "measured" else None)
        console.print(t)
        if wr.unavailable:
            console.print(f"[dim]no estimate for {len(wr.unavailable)} devices "
                          f"(missing peaks or bandwidth; `accelscope predict` lists why)[/dim]")
    console.print(f"{len(result.results)} workloads in {elapsed:.0f} s; stored in {path} "
                  f"(estimate run {result.estimate_run_id}). Predicted rows are model estimates "
                  "(per-op roofline; FPGA design models): `accelscope predict --json` shows each "
                  "model and its parameters, and `accelscope calibrate` fits them to your measurements.")
