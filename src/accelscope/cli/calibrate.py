"""``accelscope calibrate``: fit a device's performance-model parameters to stored measurements."""

from __future__ import annotations

from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app


@app.command("calibrate")
def calibrate_cmd(
    device: str = typer.Option("cpu", "--device", help="Local device whose stored measurements to fit (cpu, cuda:0, ...)."),
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Catalog entry the device is (default: detected from its name)."),
    store: o.StoreOpt = None,
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Fit matrix/bandwidth scales and per-op overhead for DEVICE from its stored measurements."""
    from accelscope.api import calibrate
    from accelscope.report import json_text, text
    from accelscope.store import Store

    with Store(store) as db:
        res = calibrate(device, hardware=hardware, store=db)
    if json_out:
        typer.echo(json_text(res.to_dict()))
    else:
        text.calibration(res, text.console(), wide=wide)
