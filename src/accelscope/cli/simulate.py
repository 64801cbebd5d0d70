"""``accelscope simulate`` and ``accelscope dse``: systolic-array simulation and exploration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.errors import ConfigError

Config = Annotated[Optional[Path], typer.Option("--config", help="SCALE-Sim .cfg file.")]
Topology = Annotated[Optional[Path], typer.Option("--topology", help="SCALE-Sim topology CSV (conv or GEMM format).")]
TopoKind = Annotated[Optional[str], typer.Option("--topology-kind", help="conv or gemm (default: from the header).")]
Out = Annotated[Optional[Path], typer.Option("--out", help="Directory for the report files (created).")]
SaveDesign = Annotated[Optional[Path], typer.Option("--save-design", help="Write the array as a hardware file NAME.toml that `predict --hardware` and `explore --hardware-path` take.")]
Force = Annotated[bool, typer.Option("--force", help="Replace report files or a design file that exist (refused otherwise).")]
ModelOpt = Annotated[Optional[str], typer.Argument(help="Zoo model (see `accelscope models`); or use --config/--topology.")]


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"{what} {text!r}: expected comma-separated integers.") from None


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"{what} {text!r}: expected comma-separated numbers.") from None


@app.command("simulate")
@o.workload_options(precision="fp32")
def simulate_cmd(
    workload: o.WorkloadOptions,
    model: ModelOpt = None,
    config: Config = None,
    topology: Topology = None,
    topology_kind: TopoKind = None,
    preset: Annotated[Optional[str], typer.Option("--preset", help="A published accelerator: tpu-v1.")] = None,
    hardware: Annotated[Optional[str], typer.Option("--hardware", help="A hardware entry with a [systolic] table (catalog name or design .toml).")] = None,
    hardware_path: o.HardwarePath = None,
    array: Annotated[Optional[str], typer.Option("--array", help="Array shape ROWSxCOLS, e.g. 32x32.")] = None,
    dataflow: Annotated[Optional[str], typer.Option("--dataflow", help="os, ws or is (SCALE-Sim's), or rs: Eyeriss's row stationary, with per-level access counts.")] = None,
    sram_kib: Annotated[Optional[str], typer.Option("--sram-kib", help="ifmap,filter,ofmap scratchpads in KiB, e.g. 64,64,64.")] = None,
    clock_hz: Annotated[Optional[float], typer.Option("--clock-hz", help="Clock in Hz (time only).")] = None,
    word_bytes: Annotated[Optional[int], typer.Option("--word-bytes", help="Bytes per word (1 = int8).")] = None,
    dram_bw: Annotated[Optional[str], typer.Option("--dram-bw", help="DRAM words per cycle ifmap,filter,ofmap: SCALE-Sim's USER bandwidth mode, with prefetch stalls (default: CALC mode, no stalls).")] = None,
    node: Annotated[Optional[float], typer.Option("--node", help="Technology node in nm for energy and area (7-65; default 45, rs: 65).")] = None,
    out: Out = None,
    save_design: SaveDesign = None,
    force: Force = False,
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Cycle-exact systolic-array simulation (SCALE-Sim 3.0.0's model) with energy and area."""
    from accelscope.jobs.simulate import RowStationaryResult, simulate
    from accelscope.report import json_text, text

    sim = simulate(workload.spec(model) if model else None, config=config, topology=topology,
                   topology_kind=topology_kind, preset=preset, hardware=hardware,
                   hardware_paths=o.hardware_paths(hardware_path), array=array, dataflow=dataflow,
                   sram_kib=_ints(sram_kib, "--sram-kib") if sram_kib else None, clock_hz=clock_hz,
                   word_bytes=word_bytes, dram_bw=_ints(dram_bw, "--dram-bw") if dram_bw else None,
                   node_nm=node if node is not None else (65.0 if (dataflow or "").strip().lower() == "rs" else 45.0),
                   out=out, save_design_path=save_design, force=force, cache=workload.cache)
    if json_out:
        typer.echo(json_text(sim.to_dict()))
    elif isinstance(sim, RowStationaryResult):
        text.row_stationary(sim, text.console(), wide=wide)
    else:
        text.simulation(sim, text.console(), wide=wide)


@app.command("dse")
@o.workload_options(precision="fp32")
def dse_cmd(
    workload: o.WorkloadOptions,
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
    nodes: Annotated[str, typer.Option("--nodes", help="Technology nodes in nm (7-65).")] = "45,32,28,16,7",
    array_precision: Annotated[str, typer.Option("--array-precision", help="int8, fp16, bf16 or fp32.")] = "int8",
    method: Annotated[str, typer.Option("--method", help="estimate (fast) or exact (engine).")] = "estimate",
    top: Annotated[int, typer.Option("--top", help="How many front points to print.")] = 20,
    out: Out = None,
    save_design: SaveDesign = None,
    pick: Annotated[str, typer.Option("--pick", help="The front point --save-design saves: fastest, lowest-energy or smallest.")] = "fastest",
    force: Force = False,
    store: o.StoreOpt = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not keep the front in the results store.")] = False,
    json_out: o.Json = False,
    quiet: o.Quiet = False,
    wide: o.Wide = False,
) -> None:
    """Sweep array shape, SRAMs, dataflow, clock and node; print the latency/energy/area front (kept in the store for `accelscope report`)."""
    import contextlib

    from accelscope.store import Store

    from accelscope.jobs.simulate import dse
    from accelscope.models.systolic.dse import DesignSpace
    from accelscope.report import json_text, text

    space = DesignSpace(
        rows=_ints(rows, "--rows"), cols=_ints(cols, "--cols"), ifmap_sram_kib=_ints(ifmap_kib, "--ifmap-kib"),
        filter_sram_kib=_ints(filter_kib, "--filter-kib"), ofmap_sram_kib=_ints(ofmap_kib, "--ofmap-kib"),
        dataflows=tuple(d.strip().lower() for d in dataflows.split(",") if d.strip()),
        clocks_hz=_floats(clocks_hz, "--clocks-hz"), nodes_nm=_floats(nodes, "--nodes"), precision=array_precision)
    with (contextlib.nullcontext() if no_store else Store(store)) as db, \
            text.progress_bar(enabled=not (quiet or json_out)) as bar:
        job = dse(workload.spec(model) if model else None, config=config, topology=topology,
                  topology_kind=topology_kind, space=space, method=method, out=out, save_design_path=save_design,
                  pick=pick, force=force, cache=workload.cache, progress=bar.step, store=db)
    if json_out:
        typer.echo(json_text(job.to_dict()))
    else:
        text.dse(job, text.console(), top=top, wide=wide)
