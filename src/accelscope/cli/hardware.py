"""``accelscope hardware list|show|hosts|systems|grids``: the hardware catalog in the terminal."""

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
        d = spec.to_dict()
        if spec.kind == "gpu":
            from accelscope.hardware.achievable import device_ceilings
            from accelscope.hardware.hosts import host_of

            d["achievable"] = {k: f.to_dict() for k, f in device_ceilings(spec).items()}
            d["host"] = host_of(spec).to_dict()
        typer.echo(json_text(d))
    else:
        text.hardware_show(spec, text.console())


@hardware_app.command("hosts")
def hosts_cmd(
    json_out: bool = typer.Option(False, "--json", help="Print every system and host CPU as JSON."),
    wide: o.Wide = False,
) -> None:
    """Systems and host CPUs (`--host-cpu NAME`) with the eager per-op host time each implies."""
    from accelscope.hardware.hosts import host_catalog
    from accelscope.report import json_text, text

    cat = host_catalog()
    if json_out:
        typer.echo(json_text({
            "reference": {"cpu": cat.reference_cpu, "eager_op_s": cat.reference_op_s.to_dict()},
            "systems": [cat.host(n).to_dict() for n in cat.systems],
            "cpus": [{**c.to_dict(), "eager_op_s": cat.eager_op_s(c).to_dict()} for c in cat.cpus.values()]}))
    else:
        text.hosts(cat, text.console(), wide=wide)


@hardware_app.command("systems")
def systems_cmd(
    json_out: bool = typer.Option(False, "--json", help="Print every system and link, each figure with its source, as JSON."),
    wide: o.Wide = False,
) -> None:
    """Multi-device systems (`predict --devices N --system NAME`) and the links that join their devices."""
    from accelscope.hardware.systems import links, systems
    from accelscope.report import json_text, text

    if json_out:
        typer.echo(json_text({"systems": [s.to_dict() for s in systems().values()],
                              "links": [link.to_dict() for link in links().values()]}))
    else:
        text.systems(systems(), links(), text.console(), wide=wide)


@hardware_app.command("grids")
def grids_cmd(
    match: Optional[str] = typer.Argument(None, help="Show only grids and cloud regions whose code or name contains this."),
    json_out: bool = typer.Option(False, "--json", help="Print every grid and cloud region, with sources, as JSON."),
    wide: o.Wide = False,
) -> None:
    """Grid carbon intensities (`job --region CODE`): countries, US eGRID subregions, cloud regions; year and source."""
    from accelscope.cost.carbon import cloud_regions, grids
    from accelscope.report import json_text, text

    rows = list(grids().values()) + list(cloud_regions().values())
    if match:
        rows = [g for g in rows if match.lower() in g.code.lower() or match.lower() in g.name.lower()]
    if json_out:
        typer.echo(json_text([g.to_dict() for g in rows]))
    else:
        text.grids(rows, text.console(), wide=wide)
