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
    devices: Optional[int] = typer.Option(None, "--devices", help="Predict one training iteration on this many devices of each (data, tensor, pipeline, context parallel)."),
    system: Optional[str] = typer.Option(None, "--system", help="How the devices are joined: a system of `accelscope hardware systems` (default: the device's own system)."),
    devices_per_node: Optional[int] = typer.Option(None, "--devices-per-node", help="Devices per node (overrides the system's count)."),
    parallel: Optional[str] = typer.Option(None, "--parallel", help="The layout, e.g. dp=8,tp=8,pp=2 (cp= for context parallel); dp is filled in when left out."),
    zero: Optional[int] = typer.Option(None, "--zero", help="ZeRO stage of the data-parallel replicas: 0-3 (3 = FSDP)."),
    fsdp: bool = typer.Option(False, "--fsdp", help="Fully sharded data parallel (ZeRO stage 3)."),
    micro_batch: Optional[int] = typer.Option(None, "--micro-batch", help="Samples per device per micro-batch (default: --batch)."),
    global_batch: Optional[int] = typer.Option(None, "--global-batch", help="Samples per iteration over all replicas (default: micro-batch x data-parallel replicas)."),
    recompute: str = typer.Option("none", "--recompute", help="Activation recomputation: none, selective (the attention core) or full."),
    schedule: str = typer.Option("1f1b", "--schedule", help="Pipeline schedule: 1f1b or interleaved:V (V model chunks per device)."),
    sequence_parallel: Optional[bool] = typer.Option(None, "--sequence-parallel/--no-sequence-parallel", help="Megatron's sequence parallelism with tensor parallelism (default: on when tp > 1)."),
    search: bool = typer.Option(False, "--search", help="Rank every valid layout for --devices by throughput, with memory fit and what binds each."),
    top: int = typer.Option(10, "--top", help="Layouts shown by --search."),
    ttft_slo: Optional[float] = typer.Option(None, "--ttft-slo", help="--task serve: time-to-first-token target, ms; finds the highest-throughput batch and devices that meet the targets."),
    tpot_slo: Optional[float] = typer.Option(None, "--tpot-slo", help="--task serve: time-per-output-token target, ms."),
    json_out: o.Json = False,
    quiet: o.Quiet = False,
    wide: o.Wide = False,
) -> None:
    """Predict step time, throughput, MFU, memory fit, energy and cost on catalog hardware."""
    from accelscope.api import predict
    from accelscope.report import json_text, text

    if (hardware is None) == (kind is None):
        raise ConfigError("give either --hardware NAME[,NAME...] or --kind K (cpu, gpu, tpu, asic, fpga)")
    if samples is not None and not samples > 0:
        raise ConfigError(f"--samples must be a positive number of samples, got {samples:g}")
    layout_opts = dict(system=system, devices_per_node=devices_per_node, parallel=parallel, zero=zero, fsdp=fsdp,
                       micro_batch=micro_batch, global_batch=global_batch, sequence_parallel=sequence_parallel)
    multi = serving = None
    spec = workload.spec(model)
    if spec.task == "serve":
        from accelscope.jobs.serving import Serving

        extra = {k: v for k, v in layout_opts.items() if k != "system" and v not in (None, False)}
        if extra or search or recompute != "none" or schedule != "1f1b":
            raise ConfigError("--task serve spreads the model over --devices with tensor parallelism; the training "
                              "layout options (--parallel, --zero, --fsdp, --micro-batch, --global-batch, --recompute, "
                              "--schedule, --search) do not apply")
        serving = Serving(devices=devices or 1, system=system,
                          ttft_slo_s=None if ttft_slo is None else ttft_slo / 1e3,
                          tpot_slo_s=None if tpot_slo is None else tpot_slo / 1e3)
    elif ttft_slo is not None or tpot_slo is not None:
        raise ConfigError("--ttft-slo and --tpot-slo are serving targets: add --task serve")
    elif devices is not None or search or parallel:
        from accelscope.jobs.parallel import Parallel

        if devices is None:
            raise ConfigError("--parallel and --search need --devices N")
        if spec.task != "train":
            raise ConfigError("--devices predicts a training iteration: add --task train")
        multi = Parallel(devices=devices, recompute=recompute, schedule=schedule, search=search, top=top,
                         **layout_opts)
    elif any(v not in (None, False) for v in layout_opts.values()) or recompute != "none" or schedule != "1f1b":
        raise ConfigError("the layout options (--system, --parallel, --zero, --fsdp, --micro-batch, --global-batch, "
                          "--recompute, --schedule) need --devices N")
    with text.progress_bar(enabled=search and not (quiet or json_out)) as bar:  # a search is the long part
        pred = predict(spec, hardware=hardware, kind=kind,
                       hardware_paths=o.hardware_paths(hardware_path), cache=workload.cache, host_cpu=host_cpu,
                       parallel=multi, serving=serving, progress=bar.step)
    if json_out:
        typer.echo(json_text(pred.to_dict(include_ops=ops, samples=samples)))
    else:
        text.prediction(pred, text.console(), samples=samples, wide=wide)
