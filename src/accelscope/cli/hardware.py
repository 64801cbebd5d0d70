"""``accelscope hardware list|show``: the hardware catalog in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app

hardware_app = typer.Typer(name="hardware", help="The hardware catalog: list devices, show one with every figure's source.",
                           no_args_is_help=True)
app.add_typer(hardware_app, name="hardware")

#: ``--path`` is the older spelling of ``--hardware-path`` (kept)
Path_ = typer.Option(None, "--hardware-path", "--path", help="Directory of your own hardware *.toml files (repeatable; also $ACCELSCOPE_HARDWARE_PATH).")


@hardware_app.command("list")
def list_cmd(
    kind: Optional[str] = typer.Option(None, "--kind", "-k", help="cpu, gpu, tpu, asic or fpga."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    wide: o.Wide = False,
    path: Optional[list[Path]] = Path_,
) -> None:
    """List catalog devices with their main figures (dense peaks, memory, power, price)."""
    from accelscope.hardware.catalog import list_hardware
    from accelscope.report import json_text, text

    specs = list_hardware(kind, paths=o.hardware_paths(path))
    if json_out:
        typer.echo(json_text([s.summary() for s in specs]))
    else:
        text.hardware_list(specs, text.console(), wide=wide)


@hardware_app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="Device name, alias, or a .toml file (see `accelscope hardware list`)."),
    json_out: bool = typer.Option(False, "--json", help="Print every field as JSON."),
    path: Optional[list[Path]] = Path_,
) -> None:
    """Show one device: every figure with its source, prices with their dates."""
    from accelscope.hardware.catalog import load_hardware
    from accelscope.report import json_text, text

    spec = load_hardware(name, paths=o.hardware_paths(path))
    if json_out:
        typer.echo(json_text(spec.to_dict()))
    else:
        text.hardware_show(spec, text.console())
