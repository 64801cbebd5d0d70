"""``accelscope hardware list|show``: the hardware catalog in the terminal.

A thin layer over :func:`accelscope.hardware.catalog.list_hardware` and
:func:`~accelscope.hardware.catalog.load_hardware`; every table also has ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli.main import app
from accelscope.hardware.catalog import list_hardware, load_hardware
from accelscope.hardware.schema import Figure, HardwareSpec
from accelscope.units import fmt_bytes, si

hardware_app = typer.Typer(
    name="hardware",
    help="The hardware catalog: list devices, show one with every figure's source.",
    no_args_is_help=True,
)
app.add_typer(hardware_app, name="hardware")

_PATH_HELP = "Extra directory of hardware *.toml files (repeatable; also $ACCELSCOPE_HARDWARE_PATH)."


def _paths(path: Optional[list[Path]]) -> list[Path] | None:
    return list(path) if path else None


def _fmt(fig: Figure, unit: str) -> str:
    if not fig.known:
        return "n/a" if not fig.supported else "?"
    v = fig.value
    if isinstance(v, str):
        return v
    if unit == "B":
        return fmt_bytes(v)
    if unit in ("", "count", "year"):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return si(v, unit)


@hardware_app.command("list")
def list_cmd(
    kind: Optional[str] = typer.Option(None, "--kind", "-k", help="cpu, gpu, tpu, asic or fpga."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    path: Optional[list[Path]] = typer.Option(None, "--path", help=_PATH_HELP),
) -> None:
    """List catalog devices with their main figures (dense peaks, memory, power, price)."""
    specs = list_hardware(kind, paths=_paths(path))
    if as_json:
        typer.echo(json.dumps([s.summary() for s in specs], indent=2))
        return
    table = Table(title=f"accelscope hardware ({len(specs)} devices; dense peaks; ? = unknown, "
                        "n/a = unsupported)")
    for col, justify in (("name", "left"), ("kind", "left"), ("vendor", "left"),
                         ("fp32", "right"), ("bf16", "right"), ("fp16", "right"),
                         ("int8", "right"), ("memory", "right"), ("bandwidth", "right"),
                         ("TDP", "right"), ("$/device-h", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for s in specs:
        p = s.dense_peaks
        cheapest = s.cheapest_offering()
        table.add_row(
            s.name, s.kind, s.vendor,
            _fmt(p.fp32, "FLOP/s"), _fmt(p.bf16, "FLOP/s"), _fmt(p.fp16, "FLOP/s"),
            _fmt(p.int8, "OP/s"), _fmt(s.mem_bytes, "B"),
            _fmt(s.mem_bandwidth_bytes_per_s, "B/s"), _fmt(s.tdp_w, "W"),
            f"{cheapest.usd_per_device_hour:.3g}" if cheapest else "-",
        )
    Console().print(table)


def _figure_rows(spec: HardwareSpec) -> list[tuple[str, str, str]]:
    units = {"mem_bytes": "B", "onchip_mem_bytes": "B", "mem_bandwidth_bytes_per_s": "B/s",
             "clock_hz": "Hz", "base_clock_hz": "Hz", "tdp_w": "W", "idle_power_w": "W",
             "compute_units": "count", "matrix_units": "count", "launch_year": "year"}
    rows = []
    for key, fig in spec.figures().items():
        if key.startswith("dense_peaks."):
            unit = "OP/s" if key.endswith("int8") else "FLOP/s"
        elif key.startswith("interconnects"):
            unit = "B/s"
        elif key.startswith("fpga."):
            unit = "count"
        else:
            unit = units.get(key, "")
        if fig.known:
            detail = fig.source or ""
            extra = "; ".join(x for x in (fig.derived, fig.note) if x)
            if extra:
                detail = f"{detail} [{extra}]"
        else:
            detail = ("unsupported: " if not fig.supported else "unknown: ") + (fig.reason or "")
        rows.append((key, _fmt(fig, unit), detail))
    return rows


@hardware_app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="Device name or alias (see `accelscope hardware list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print every field as JSON."),
    path: Optional[list[Path]] = typer.Option(None, "--path", help=_PATH_HELP),
) -> None:
    """Show one device: every figure with its source, prices with their dates."""
    spec = load_hardware(name, paths=_paths(path))
    if as_json:
        typer.echo(json.dumps(spec.to_dict(), indent=2))
        return
    console = Console()
    console.print(f"[bold]{spec.display_name}[/bold]  ({spec.name}, {spec.kind}, {spec.vendor}; "
                  f"{spec.origin} file {spec.file})")
    if spec.aliases:
        console.print("aliases: " + ", ".join(spec.aliases))
    for note in spec.notes:
        console.print(f"- {note}")
    table = Table(title="figures (SI units; dense peaks)")
    table.add_column("field")
    table.add_column("value", justify="right")
    table.add_column("source / reason", overflow="fold")
    for row in _figure_rows(spec):
        table.add_row(*row)
    if spec.compute_unit_kind:
        table.add_row("compute_unit_kind", spec.compute_unit_kind, "")
    for i, link in enumerate(spec.interconnects):
        table.add_row(f"interconnects[{i}].name", link.name, link.note or "")
    if spec.systolic:
        sa = spec.systolic
        table.add_row("systolic", f"{sa.count} x {sa.rows}x{sa.cols} {sa.dtype}", sa.source)
    pp = spec.purchase_price
    if pp.known:
        rng = f"{pp.usd:,.0f}" + (f"-{pp.usd_max:,.0f}" if pp.usd_max else "")
        table.add_row("purchase_price", f"{rng} USD", f"{pp.basis}, {pp.date}: {pp.source}"
                      + (f" [{pp.note}]" if pp.note else ""))
    else:
        table.add_row("purchase_price", "?", f"unknown: {pp.reason or ''}")
    console.print(table)
    if spec.cloud:
        ct = Table(title="cloud offerings")
        for col in ("provider", "instance", "devices", "USD/h", "USD/device-h", "pricing",
                    "region", "date", "source / caveat"):
            ct.add_column(col, overflow="fold")
        for o in spec.cloud:
            caveat = f" STALE: {o.stale}" if o.stale else ""
            ct.add_row(o.provider, o.instance, str(o.devices_per_instance),
                       f"{o.usd_per_hour:.4g}", f"{o.usd_per_device_hour:.4g}", o.pricing,
                       o.region or "-", o.date, o.source + caveat)
        console.print(ct)
