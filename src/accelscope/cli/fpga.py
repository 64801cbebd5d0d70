"""``accelscope fpga``: latency, throughput and resource fit of a model on an FPGA."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.cli.profile import print_json
from accelscope.errors import ConfigError
from accelscope.hardware.catalog import load_hardware
from accelscope.units import fmt_seconds, si


def _bits(text: str) -> tuple[int, int]:
    try:
        w, a = (int(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--bits {text!r}: expected W,A (weight and activation bits), e.g. 4,4") from None
    return w, a


@app.command("fpga")
def fpga_cmd(
    model: o.Model,
    device: str = typer.Option(..., "--device", help="FPGA from the catalog (`accelscope hardware list --kind fpga`)."),
    style: str = typer.Option("dataflow", "--style", help="dataflow (FINN/hls4ml pipeline) or overlay (DPU)."),
    framework: str = typer.Option("finn", "--framework", help="finn (PE/SIMD folding) or hls4ml (reuse factor)."),
    target_fps: Optional[float] = typer.Option(None, "--target-fps", help="Fold for this frame rate (default: fastest that fits)."),
    reuse_factor: Optional[int] = typer.Option(None, "--reuse-factor", help="hls4ml reuse factor for every layer (implies --framework hls4ml)."),
    fold: Optional[Path] = typer.Option(None, "--fold", help="Folding file (.json/.toml/.yaml): per-layer pe/simd or reuse_factor."),
    bits: str = typer.Option("8,8", "--bits", help="Weight and activation bits, W,A (1,1 = binarised)."),
    resource_type: str = typer.Option("auto", "--resource-type", help="Multipliers in dsp, lut or auto."),
    mem_style: str = typer.Option("auto", "--mem-style", help="Weights in block (BRAM), ultra (URAM), distributed (LUTRAM) or auto."),
    clock_mhz: Optional[float] = typer.Option(None, "--clock-mhz", help="Design clock (default 200 MHz dataflow, board DPU clock overlay)."),
    power_w: Optional[float] = typer.Option(None, "--power-w", help="Board power for energy per inference (default: catalog tdp_w)."),
    dpu: Optional[str] = typer.Option(None, "--dpu", help="Overlay size, e.g. B4096 (default: the board's reference DPU)."),
    cores: Optional[int] = typer.Option(None, "--cores", help="Overlay cores."),
    batch: o.Batch = 1,
    image_size: o.ImageSize = None,
    seq_len: o.SeqLen = None,
    input_shape: o.InputShape = None,
    input_dtype: o.InputDtype = "float32",
    inputs: o.Inputs = None,
    json_out: o.Json = False,
) -> None:
    """Estimate an FPGA design for MODEL (a zoo name, or a layer-list .json/.toml/.yaml file)."""
    from accelscope.models.fpga import fpga_estimate
    from accelscope.models.fpga.network import load_layer_list, read_file, folds_for

    if sum(x is not None for x in (target_fps, reuse_factor, fold)) > 1:
        raise ConfigError("give at most one of --target-fps, --reuse-factor and --fold")
    spec = load_hardware(device)
    w, a = _bits(bits)
    if reuse_factor is not None:
        framework = "hls4ml"
    folds = None
    if Path(model).suffix.lower() in (".json", ".toml", ".yaml", ".yml"):
        workload, folds = load_layer_list(model)
        name = Path(model).stem
    else:
        from accelscope.workload import profile as make_profile

        workload = make_profile(model, task="infer", batch_size=batch, seq_len=seq_len,
                                image_size=image_size, input_shape=input_shape,
                                input_dtype=input_dtype, inputs=inputs)
        name = model
    if fold is not None:
        from accelscope.models.fpga.network import layers_from_profile

        layers = workload if isinstance(workload, list) else layers_from_profile(workload)[0]
        folds = folds_for(layers, read_file(fold).get("folding"))
        workload = layers
    if folds is not None and (target_fps is not None or reuse_factor is not None):
        folds = None  # an explicit option wins over folding found in the layer file
    e = fpga_estimate(workload, spec, style=style, framework=framework, w_bits=w, a_bits=a,
                      target_fps=target_fps, reuse_factor=reuse_factor, folds=folds,
                      resource_type=resource_type, mem_style=mem_style,
                      clock_hz=clock_mhz * 1e6 if clock_mhz else None, power_w=power_w,
                      dpu_arch=dpu, dpu_cores=cores, workload_name=name)
    if json_out:
        print_json(e.to_dict())
        return
    _render(e)


def _render(e) -> None:
    c = Console()
    p = e.parameters
    c.print(f"[bold]{e.workload}[/bold] on [bold]{e.hardware}[/bold]: {e.model}, {e.precision} "
            "(estimate, no synthesis)")
    fits = {True: "fits", False: "[red]does not fit[/red]", None: "fit unknown"}[e.fits_in_memory]
    energy = (f"{e.energy_j_per_sample * 1e3:.3g} mJ/inference at {e.power_w:g} W"
              if e.energy_j_per_sample is not None else e.energy_method)
    if p["style"] == "dataflow":
        c.print(f"throughput {si(p['throughput_fps'])} fps, latency {fmt_seconds(p['latency_s'])}, "
                f"{fits}; {p['limited_by']}")
        r = p["resources"]
        c.print(f"resources: LUT {r['lut']:,}  DSP {r['dsp']:,}  BRAM36 {r['bram36']:g}  URAM {r['uram']}  "
                f"({p['folding']}); energy: {energy}")
        t = Table(title="per layer")
        for col in ("layer", "kind", "fold", "cycles", "bound", "latency", "mults", "LUT", "DSP", "BRAM18", "mem"):
            t.add_column(col, justify="left" if col in ("layer", "kind", "fold", "bound", "mem") else "right")
        for lr in p["layers"]:
            f = lr["fold"]
            fold = f"RF {f['reuse_factor']}" if "reuse_factor" in f else f"PE {f['pe']} SIMD {f['simd']}"
            rr = lr["resources"]
            t.add_row(lr["layer"]["name"], lr["layer"]["kind"], fold, f"{lr['cycles']:,}", lr["bound"],
                      fmt_seconds(lr["done_cycles"] / p["clock_hz"]), f"{rr['multipliers']:,}",
                      f"{rr['lut']:,}", str(rr["dsp"]), str(rr["bram18"]), lr["mem_style"])
        c.print(t)
    else:
        c.print(f"{p['cores']} x {p['arch']} at {p['clock_hz'] / 1e6:.0f} MHz "
                f"({p['peak_ops_per_clock']} ops/clock/core): latency {fmt_seconds(p['latency_s'])}, "
                f"{si(p['fps_single_thread'])} fps single-threaded, {si(p['fps_multi_thread'])} fps "
                f"multi-threaded, efficiency {p['efficiency']:.0%}, {fits}; energy: {energy}")
        t = Table(title="per layer (one core)")
        for col in ("layer", "kind", "cycles", "time", "efficiency", "bound"):
            t.add_column(col, justify="left" if col in ("layer", "kind", "bound") else "right")
        for lr in p["layers"]:
            t.add_row(lr["layer"]["name"], lr["layer"]["kind"], f"{lr['cycles']:,}",
                      fmt_seconds(lr["time_s"]), f"{lr['efficiency']:.0%}", lr["bound"])
        c.print(t)
    for n in e.notes:
        c.print(f"[dim]{n}[/dim]")
