"""``accelscope explore``: the main job — measure locally, predict the catalog, rank."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app


@app.command("explore")
@o.workload_options(precision="auto")
def explore_cmd(
    workload: o.WorkloadOptions,
    models: Optional[list[str]] = typer.Argument(None, help="Models to explore (default: a built-in set that runs in about a minute on a laptop CPU)."),
    device: str = typer.Option("auto", "--device", help="Local devices to measure (auto = all present)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only predict catalog devices of these kinds (comma-separated)."),
    hardware_path: o.HardwarePath = None,
    host_cpu: o.HostCpu = None,
    vs_cpu: Optional[str] = typer.Option(None, "--vs-cpu", help="A catalog CPU: also show each device's predicted speedup over it (a CPU you do not have), beside the measured speedup over this one."),
    max_time: float = typer.Option(6.0, "--max-time", help="Cap on each local measurement, in seconds."),
    top: int = typer.Option(12, "--top", help="Rows per workload in the table (--json has all)."),
    ttft_slo: Optional[float] = typer.Option(None, "--ttft-slo", help="--task serve: time-to-first-token target, ms (each device at its best configuration that meets the targets)."),
    tpot_slo: Optional[float] = typer.Option(None, "--tpot-slo", help="--task serve: time-per-output-token target, ms."),
    report: Optional[Path] = typer.Option(None, "--report", help="Also write the interactive HTML report of this explore to this file."),
    store: o.StoreOpt = None,
    quiet: o.Quiet = False,
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Measure local devices, predict every catalog device, and rank them per workload."""
    from accelscope.jobs.explore import DEFAULT_WORKLOADS, explore
    from accelscope.report import json_text, text
    from accelscope.store import Store

    specs = [workload.spec(m) for m in models] if models else list(DEFAULT_WORKLOADS)
    serving = None
    if ttft_slo is not None or tpot_slo is not None:
        from accelscope.errors import ConfigError
        from accelscope.jobs.serving import Serving

        if not all(s.task == "serve" for s in specs):
            raise ConfigError("--ttft-slo and --tpot-slo are serving targets: add --task serve")
        serving = Serving(ttft_slo_s=None if ttft_slo is None else ttft_slo / 1e3,
                          tpot_slo_s=None if tpot_slo is None else tpot_slo / 1e3)
    if report is not None:
        from accelscope.jobs.report import check_output

        check_output(report, force=False)  # before any work: a report that could not be written is said at once
    start = time.perf_counter()
    written = None
    with Store(store) as db, text.progress_bar(enabled=not (quiet or json_out)) as bar:
        result = explore(specs, devices=device, kinds=kind.split(",") if kind else None,
                         hardware_paths=o.hardware_paths(hardware_path), max_time_s=max_time, store=db,
                         cache=workload.cache, progress=bar.step, host_cpu=host_cpu, serving=serving,
                         vs_cpu=vs_cpu)
        path = db.location
        if report is not None and result.estimate_run_id is not None:
            from accelscope.jobs.report import write_report

            written = write_report(db, report, [result.estimate_run_id], progress=bar.message)
    elapsed = time.perf_counter() - start
    if json_out:
        typer.echo(json_text(result.to_dict() | {"store": str(path), "elapsed_s": elapsed,
                                                 "report": written.to_dict() if written else None}))
    else:
        text.explore(result, text.console(), top=top, elapsed_s=elapsed, store_path=path, wide=wide)
        if written is not None:
            text.console().print(f"report: {written.path} ({written.charts} charts)")
