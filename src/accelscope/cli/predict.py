"""``accelscope predict``: estimates for catalog hardware you do not have."""

from __future__ import annotations

from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.errors import ConfigError


@app.command("predict")
@o.workload_options(precision="auto")
def predict_cmd(
    model: o.Model,
    workload: o.WorkloadOptions,
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Catalog names or .toml design files, comma-separated (see `accelscope hardware list`)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Every catalog device of these kinds: cpu, gpu, tpu, asic, fpga (comma-separated)."),
    hardware_path: o.HardwarePath = None,
    host_cpu: o.HostCpu = None,
    samples: Optional[float] = typer.Option(None, "--samples", help="Also price a run of this many samples (e.g. a training run)."),
    ops: bool = typer.Option(False, "--ops", help="Include per-op estimates in --json output."),
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Predict step time, throughput, MFU, memory fit, energy and cost on catalog hardware."""
    from accelscope.api import predict
    from accelscope.report import json_text, text

    if (hardware is None) == (kind is None):
        raise ConfigError("give either --hardware NAME[,NAME...] or --kind K (cpu, gpu, tpu, asic, fpga)")
    if samples is not None and not samples > 0:
        raise ConfigError(f"--samples must be a positive number of samples, got {samples:g}")
    pred = predict(workload.spec(model), hardware=hardware, kind=kind,
                   hardware_paths=o.hardware_paths(hardware_path), cache=workload.cache, host_cpu=host_cpu)
    if json_out:
        typer.echo(json_text(pred.to_dict(include_ops=ops, samples=samples)))
    else:
        text.prediction(pred, text.console(), samples=samples, wide=wide)
