"""``accelscope fpga``: latency, throughput and resource fit of a model on an FPGA."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.errors import ConfigError


def _bits(text: str) -> tuple[int, int]:
    try:
        w, a = (int(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--bits {text!r}: expected W,A (weight and activation bits), e.g. 4,4") from None
    return w, a


@app.command("fpga")
@o.workload_options(precision="fp32", task="infer", batch="1")
def fpga_cmd(
    model: str = typer.Argument(..., help="A zoo name, torchvision:NAME, package.module:callable, or a layer-list .json/.toml/.yaml file."),
    workload: o.WorkloadOptions = None,
    device: str = typer.Option(..., "--device", help="FPGA from the catalog (`accelscope hardware list --kind fpga`)."),
    hardware_path: o.HardwarePath = None,
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
    dpu: Optional[str] = typer.Option(None, "--dpu", help="Overlay configuration: B512..B4096 (DPUCZDX8G), C32 or C64 (DPUCVDX8G), DPUCAHX8H or DPUCAHX8H-DWC (default: the board's reference DPU)."),
    cores: Optional[int] = typer.Option(None, "--cores", help="Overlay cores (default: the board's reference integration)."),
    store: o.StoreOpt = None,
    no_store: bool = typer.Option(False, "--no-store", help="Do not keep the design in the results store."),
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Estimate an FPGA design for MODEL (a model, or a layer-list .json/.toml/.yaml file); the design is kept in the store for `accelscope report`."""
    from accelscope.jobs.fpga import fpga, is_layer_file
    from accelscope.report import json_text, text

    target = model if is_layer_file(model) else workload.spec(model)
    priced = fpga(target, device=device, hardware_paths=o.hardware_paths(hardware_path), style=style,
                  framework=framework, bits=_bits(bits), target_fps=target_fps, reuse_factor=reuse_factor, fold=fold,
                  resource_type=resource_type, mem_style=mem_style,
                  clock_hz=clock_mhz * 1e6 if clock_mhz else None, power_w=power_w, dpu=dpu, cores=cores,
                  cache=workload.cache)
    run_id = None
    if not no_store:
        from accelscope.jobs.fpga import store_design
        from accelscope.store import Store

        with Store(store) as db:
            run_id = store_design(priced, db)
    if json_out:
        typer.echo(json_text(priced.to_dict() | {"run_id": run_id}))
    else:
        text.fpga(priced, text.console(), wide=wide)
        if run_id is not None:
            text.console().print(f"stored as run {run_id} (accelscope report {run_id} draws its resource fit)")
