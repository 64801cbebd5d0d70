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
    comm: bool = typer.Option(False, "--comm", help="Calibrate a system's link from a stored bench-comm run instead (with --system)."),
    system: Optional[str] = typer.Option(None, "--system", help="With --comm: the system whose link the run measured (see `accelscope hardware systems`)."),
    run: Optional[str] = typer.Option(None, "--run", help="With --comm: the bench-comm run (an id or latest; default the newest)."),
    store: o.StoreOpt = None,
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Fit matrix/bandwidth scales and per-op overhead for DEVICE from its stored measurements,
    or (--comm --system S) a system's link from a stored bench-comm run."""
    from accelscope.api import calibrate, calibrate_comm
    from accelscope.errors import ConfigError
    from accelscope.report import json_text, text
    from accelscope.store import Store

    if comm or system or run:
        if not (comm and system):
            raise ConfigError("calibrating a link takes --comm --system NAME [--run ID]")
        with Store(store) as db:
            res = calibrate_comm(system, run=run, store=db)
        if json_out:
            typer.echo(json_text(res.to_dict()))
        else:
            text.comm_calibration(res, text.console())
        return
    with Store(store) as db:
        res = calibrate(device, hardware=hardware, store=db)
    if json_out:
        typer.echo(json_text(res.to_dict()))
    else:
        text.calibration(res, text.console(), wide=wide)
