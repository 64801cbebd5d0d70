"""``accelscope calibrate``: fit a device's performance-model parameters to stored measurements."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.cli.profile import print_json
from accelscope.units import fmt_seconds


@app.command("calibrate")
def calibrate_cmd(
    device: str = typer.Option("cpu", "--device", help="Local device whose stored measurements to fit (cpu, cuda:0, ...)."),
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Catalog entry the device is (default: detected from its name)."),
    store: Optional[Path] = typer.Option(None, "--store", help="Results database (default: $ACCELSCOPE_STORE or the user data dir)."),
    json_out: o.Json = False,
) -> None:
    """Fit matrix/bandwidth scales and per-op overhead for DEVICE from its stored measurements."""
    from accelscope.models.calibrate import calibrate_device
    from accelscope.store import Store

    with Store(store) as db:
        c, rows = calibrate_device(db, device, hardware=hardware)
    if json_out:
        print_json({"device": device, "matrix_scale": c.calibration_.matrix_scale,
                    "conv_scale": c.calibration_.conv_scale,
                    "bandwidth_scale": c.calibration_.bandwidth_scale,
                    "host_overhead_s": c.calibration_.params.host_overhead_s,
                    "median_abs_error": c.median_abs_error_, "points": rows})
        return
    console = Console()
    t = Table(title=f"calibration of {device}: predicted vs measured (in-sample)")
    for col in ("workload", "measured", "predicted", "error"):
        t.add_column(col, justify="left" if col == "workload" else "right")
    for r in rows:
        t.add_row(r["workload"], fmt_seconds(r["measured_s"]), fmt_seconds(r["predicted_s"]), f"{r['error']:+.1%}")
    console.print(t)
    cal = c.calibration_
    conv = f"{cal.conv_scale:.3g}" if cal.conv_scale else "same"
    console.print(f"matrix scale {cal.matrix_scale:.3g}, convolution scale {conv}, "
                  f"bandwidth scale {cal.bandwidth_scale:.3g}, "
                  f"host overhead {cal.params.host_overhead_s * 1e6:.3g} us/op; median |error| "
                  f"{c.median_abs_error_:.1%} over {cal.fitted_on} points. Stored; `predict` and "
                  "`explore` use it from now on.")
