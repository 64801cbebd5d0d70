"""``accelscope simulate`` and ``accelscope dse``: systolic-array simulation and exploration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.errors import ConfigError
from accelscope.units import fmt_seconds, si

Config = Annotated[Optional[Path], typer.Option("--config", help="SCALE-Sim .cfg file.")]
Topology = Annotated[Optional[Path], typer.Option("--topology", help="SCALE-Sim topology CSV (conv or GEMM format).")]
TopoKind = Annotated[Optional[str], typer.Option("--topology-kind", help="conv or gemm (default: from the header).")]
ArrayOpt = Annotated[Optional[str], typer.Option("--array", help="Array shape ROWSxCOLS, e.g. 32x32.")]
Dataflow = Annotated[Optional[str], typer.Option("--dataflow", help="os, ws or is.")]
Preset = Annotated[Optional[str], typer.Option("--preset", help="A published accelerator: tpu-v1.")]
SramKib = Annotated[Optional[str], typer.Option("--sram-kib", help="ifmap,filter,ofmap scratchpads in KiB, e.g. 64,64,64.")]
Node = Annotated[float, typer.Option("--node", help="Technology node in nm for energy and area (7-45).")]
Out = Annotated[Optional[Path], typer.Option("--out", help="Directory for SCALE-Sim-style report CSVs and the JSON.")]
ModelOpt = Annotated[Optional[str], typer.Argument(help="Zoo model (see `accelscope models`); or use --config/--topology.")]


def _parse_array(text: str) -> tuple[int, int]:
    try:
        r, c = text.lower().split("x")
        return int(r), int(c)
    except ValueError:
        raise ConfigError(f"--array {text!r}: expected ROWSxCOLS, e.g. 32x32.") from None


def _parse_ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"{what} {text!r}: expected comma-separated integers.") from None


def _parse_floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"{what} {text!r}: expected comma-separated numbers.") from None


def _workload_layers(model, config, topology, topology_kind, task, batch, seq_len, image_size,
                     precision):
    """Layers and notes from a SCALE-Sim topology or a profiled zoo model."""
    from accelscope.models.systolic import map_profile, scalesim_io

    notes: list[str] = []
    if topology is None and config is not None:
        _, topo = scalesim_io.read_config(config)
        if topo:
            topology = Path(topo)
    if topology is not None:
        if model is not None:
            raise ConfigError("give either a MODEL or --topology/--config, not both.")
        return scalesim_io.read_topology(topology, topology_kind), notes, topology.stem
    if model is None:
        raise ConfigError("nothing to simulate: give a MODEL (see `accelscope models`) or "
                          "--config C --topology T.")
    from accelscope.workload import profile as make_profile

    prof = make_profile(model, task=task, batch_size=batch, seq_len=seq_len,
                        image_size=image_size, precision=precision)
    mapped = map_profile(prof)
    for name, reason in mapped.unmapped:
        notes.append(f"not mapped onto the array: {name}: {reason}")
    if not mapped.layers:
        raise ConfigError(f"{model}: no matmul, convolution or attention ops to simulate.")
    return list(mapped.layers), notes, model


def _build_config(config, preset, array, dataflow, sram_kib, clock_hz, word_bytes):
    from accelscope.models.systolic import ArrayConfig, scalesim_io
    from accelscope.models.systolic.presets import preset as get_preset

    if preset:
        cfg = get_preset(preset)
    elif config is not None:
        cfg, _ = scalesim_io.read_config(config)
    else:
        cfg = ArrayConfig(rows=32, cols=32, dataflow="ws")
    changes = {}
    if array:
        changes["rows"], changes["cols"] = _parse_array(array)
    if dataflow:
        changes["dataflow"] = dataflow.lower()
    if sram_kib:
        sizes = _parse_ints(sram_kib, "--sram-kib")
        if len(sizes) != 3:
            raise ConfigError("--sram-kib needs three sizes: ifmap,filter,ofmap.")
        changes.update(ifmap_sram_bytes=sizes[0] * 1024, filter_sram_bytes=sizes[1] * 1024,
                       ofmap_sram_bytes=sizes[2] * 1024)
    if clock_hz:
        changes["clock_hz"] = clock_hz
    if word_bytes:
        changes["word_bytes"] = word_bytes
    return cfg.with_(**changes) if changes else cfg


@app.command("simulate")
def simulate_cmd(
    model: ModelOpt = None,
    config: Config = None,
    topology: Topology = None,
    topology_kind: TopoKind = None,
    preset: Preset = None,
    array: ArrayOpt = None,
    dataflow: Dataflow = None,
    sram_kib: SramKib = None,
    clock_hz: Annotated[Optional[float], typer.Option("--clock-hz", help="Clock in Hz (time only).")] = None,
    word_bytes: Annotated[Optional[int], typer.Option("--word-bytes", help="Bytes per word (1 = int8).")] = None,
    node: Node = 45.0,
    task: o.Task = "infer",
    batch: o.Batch = None,
    seq_len: o.SeqLen = None,
    image_size: o.ImageSize = None,
    precision: o.Precision = "fp32",
    json_out: o.Json = False,
    out: Out = None,
) -> None:
    """Cycle-exact systolic-array simulation (SCALE-Sim 3.0.0's model) with energy and area."""
    from accelscope.models.systolic import EnergyModel, simulate, scalesim_io
    from accelscope.models.systolic.energy import precision_for_word_bytes

    layers, notes, label = _workload_layers(model, config, topology, topology_kind, task, batch,
                                            seq_len, image_size, precision)
    cfg = _build_config(config, preset, array, dataflow, sram_kib, clock_hz, word_bytes)
    em = EnergyModel(node_nm=node, precision=precision_for_word_bytes(cfg.word_bytes))
    result = simulate(layers, cfg, em)
    data = result.to_dict()
    data["workload"] = label
    data["notes"] = notes
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        scalesim_io.write_reports(result.layers, out)
        (out / "simulation.json").write_text(json.dumps(data, indent=2))
    if json_out:
        typer.echo(json.dumps(data, indent=2))
        return
    console = Console()
    console.print(f"[bold]{label}[/bold] on {cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} array, "
                  f"SRAM {cfg.ifmap_sram_bytes // 1024}/{cfg.filter_sram_bytes // 1024}/"
                  f"{cfg.ofmap_sram_bytes // 1024} KiB, {si(cfg.clock_hz, 'Hz')}, "
                  f"{cfg.bandwidth_mode} bandwidth, {em.node_nm:g} nm {em.precision}")
    t = Table(title="per layer (one occurrence; x count in totals)")
    for col in ("layer", "count", "M x N x K", "total cyc", "compute cyc", "stall", "util",
                "map eff", "DRAM rd", "DRAM wr", "energy"):
        t.add_column(col, justify="left" if col == "layer" else "right")
    for r, e in zip(result.layers, result.energies):
        lay = r.layer
        t.add_row(r.name[:40], str(lay.count), f"{lay.m}x{lay.n}x{lay.k}", str(r.total_cycles),
                  str(r.compute_cycles), str(r.stall_cycles), f"{r.overall_util:.1%}",
                  f"{r.mapping_eff:.1%}", si(r.dram_reads.total), si(r.dram_writes.total),
                  si(e.total_j, "J"))
    console.print(t)
    en = result.energy
    area = result.area_m2
    console.print(
        f"total {result.total_cycles} cycles (compute {result.compute_cycles}, stalls "
        f"{result.stall_cycles}), time {fmt_seconds(result.time_s)}, utilisation "
        f"{result.utilization:.1%}, {si(2 * result.macs / result.time_s, 'OP/s')}")
    console.print(f"energy {si(en.total_j, 'J')} (MAC {si(en.mac_j, 'J')}, registers "
                  f"{si(en.register_j, 'J')}, SRAM {si(en.sram_j, 'J')}, DRAM {si(en.dram_j, 'J')}); "
                  f"area {area['total_m2'] * 1e6:.3g} mm^2 (array {area['array_m2'] * 1e6:.3g}, "
                  f"SRAM {area['sram_m2'] * 1e6:.3g})")
    for n in notes:
        console.print(f"[yellow]{n}[/yellow]")
    if out is not None:
        console.print(f"reports written to {out}")


@app.command("dse")
def dse_cmd(
    model: ModelOpt = None,
    config: Config = None,
    topology: Topology = None,
    topology_kind: TopoKind = None,
    rows: Annotated[str, typer.Option("--rows", help="Array heights to sweep.")] = "8,16,32,64,128,256",
    cols: Annotated[str, typer.Option("--cols", help="Array widths to sweep.")] = "8,16,32,64,128,256",
    ifmap_kib: Annotated[str, typer.Option("--ifmap-kib")] = "32,64,256,1024,4096",
    filter_kib: Annotated[str, typer.Option("--filter-kib")] = "32,64,256,1024,4096",
    ofmap_kib: Annotated[str, typer.Option("--ofmap-kib")] = "32,128,512",
    dataflows: Annotated[str, typer.Option("--dataflows")] = "os,ws,is",
    clocks_hz: Annotated[str, typer.Option("--clocks-hz")] = "5e8,1e9,1.5e9",
    nodes: Annotated[str, typer.Option("--nodes", help="Technology nodes in nm (7-45).")] = "45,32,28,16,7",
    array_precision: Annotated[str, typer.Option("--array-precision", help="int8, fp16, bf16 or fp32.")] = "int8",
    method: Annotated[str, typer.Option("--method", help="estimate (fast) or exact (engine).")] = "estimate",
    top: Annotated[int, typer.Option("--top", help="How many front points to print.")] = 20,
    task: o.Task = "infer",
    batch: o.Batch = None,
    seq_len: o.SeqLen = None,
    image_size: o.ImageSize = None,
    precision: o.Precision = "fp32",
    json_out: o.Json = False,
    out: Out = None,
) -> None:
    """Sweep array shape, SRAMs, dataflow, clock and node; print the latency/energy/area front."""
    from accelscope.models.systolic import DesignSpace, explore

    layers, notes, label = _workload_layers(model, config, topology, topology_kind, task, batch,
                                            seq_len, image_size, precision)
    space = DesignSpace(
        rows=_parse_ints(rows, "--rows"), cols=_parse_ints(cols, "--cols"),
        ifmap_sram_kib=_parse_ints(ifmap_kib, "--ifmap-kib"),
        filter_sram_kib=_parse_ints(filter_kib, "--filter-kib"),
        ofmap_sram_kib=_parse_ints(ofmap_kib, "--ofmap-kib"),
        dataflows=tuple(d.strip().lower() for d in dataflows.split(",") if d.strip()),
        clocks_hz=_parse_floats(clocks_hz, "--clocks-hz"),
        nodes_nm=_parse_floats(nodes, "--nodes"), precision=array_precision)
    res = explore(layers, space, method=method)
    front = res.front()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "dse_points.csv").write_text(res.to_csv())
        (out / "dse_points.json").write_text(res.to_json())
    if json_out:
        typer.echo(json.dumps({"workload": label, "method": res.method, "points": len(res),
                               "notes": list(res.notes) + notes, "pareto_front": front}, indent=2))
        return
    console = Console()
    console.print(f"[bold]{label}[/bold]: {len(res)} design points ({res.method}), "
                  f"{len(front)} on the latency/energy/area Pareto front")
    t = Table(title=f"Pareto front (first {min(top, len(front))}, fastest first)")
    for col in ("array", "dataflow", "SRAM KiB i/f/o", "clock", "node", "latency", "energy",
                "area mm^2", "util"):
        t.add_column(col, justify="right")
    for p in front[:top]:
        t.add_row(f"{p['rows']}x{p['cols']}", p["dataflow"],
                  f"{p['ifmap_sram_kib']}/{p['filter_sram_kib']}/{p['ofmap_sram_kib']}",
                  si(p["clock_hz"], "Hz"), f"{p['node_nm']:g} nm", fmt_seconds(p["latency_s"]),
                  si(p["energy_j"], "J"), f"{p['area_m2'] * 1e6:.3g}", f"{p['utilization']:.1%}")
    console.print(t)
    for n in list(res.notes) + notes:
        console.print(f"[yellow]{n}[/yellow]")
    if out is not None:
        console.print(f"all points written to {out / 'dse_points.csv'} and {out / 'dse_points.json'}")
