"""``accelscope predict``: estimates for catalog hardware you do not have."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.cli.profile import print_json
from accelscope.errors import AccelscopeError, ConfigError
from accelscope.hardware.catalog import list_hardware, load_hardware
from accelscope.cost import estimate
from accelscope.units import fmt_bytes, fmt_seconds, si
from accelscope.workload import profile as make_profile


def predict_many(profile, specs, calibrations=None):
    """(estimates by throughput, highest first; [(spec name, kind, reason)] for devices without one)."""
    estimates, unavailable = [], []
    for spec in specs:
        try:
            estimates.append(estimate(profile, spec, (calibrations or {}).get(spec.name)))
        except AccelscopeError as exc:  # a missing figure, or a workload the device cannot run
            unavailable.append((spec.name, spec.kind, str(exc)))
    estimates.sort(key=lambda e: -e.throughput_samples_per_s)
    return estimates, unavailable


def estimate_table(estimates, title: str) -> Table:
    t = Table(title=title)
    for col in ("hardware", "kind", "step time", "samples/s", "MFU", "bound", "J/sample",
                "$/M samples", "fits"):
        t.add_column(col, justify="left" if col in ("hardware", "kind", "bound") else "right")
    for e in estimates:
        t.add_row(
            e.hardware, e.kind, fmt_seconds(e.step_time_s), si(e.throughput_samples_per_s),
            f"{e.mfu:.0%}" if e.mfu is not None else "-", e.bound,
            f"{e.energy_j_per_sample:.3g}" if e.energy_j_per_sample is not None else "-",
            f"{e.usd_per_million_samples:.3g}" if e.usd_per_million_samples is not None else "-",
            {True: "yes", False: "[red]no[/red]", None: "?"}[e.fits_in_memory],
        )
    return t


@app.command("predict")
def predict_cmd(
    model: o.Model,
    hardware: Optional[str] = typer.Option(None, "--hardware", help="Catalog names, comma-separated (see `accelscope hardware list`)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Every catalog device of a kind: cpu, gpu, tpu, asic, fpga."),
    task: o.Task = "infer",
    batch: o.Batch = None,
    seq_len: o.SeqLen = None,
    image_size: o.ImageSize = None,
    precision: o.Precision = "fp32",
    optimizer: o.Optimizer = "adamw",
    input_shape: o.InputShape = None,
    input_dtype: o.InputDtype = "float32",
    inputs: o.Inputs = None,
    channels_last: o.ChannelsLast = False,
    samples: Optional[float] = typer.Option(None, "--samples", help="Also price a run of this many samples (e.g. a training run)."),
    ops: bool = typer.Option(False, "--ops", help="Include per-op estimates in --json output."),
    json_out: o.Json = False,
) -> None:
    """Predict step time, throughput, MFU, memory fit, energy and cost on catalog hardware."""
    if (hardware is None) == (kind is None):
        raise ConfigError("give either --hardware NAME[,NAME...] or --kind K (cpu, gpu, tpu, asic, fpga)")
    specs = ([load_hardware(n.strip()) for n in hardware.split(",") if n.strip()] if hardware
             else list_hardware(kind))
    if not specs:
        raise ConfigError(f"no catalog devices of kind {kind!r}; see `accelscope hardware list`")
    from accelscope.models.calibrate import load_calibrations

    p = make_profile(model, task=task, batch_size=batch, seq_len=seq_len, image_size=image_size,
                     precision=precision, optimizer=optimizer, input_shape=input_shape,
                     input_dtype=input_dtype, inputs=inputs, channels_last=channels_last)
    estimates, unavailable = predict_many(p, specs, load_calibrations())
    if json_out:
        out = []
        for e in estimates:
            d = e.to_dict(include_ops=ops)
            if samples:
                d["usd_for_samples"] = e.usd_for_samples(samples)
                d["samples"] = samples
            out.append(d)
        print_json({"estimates": out, "unavailable": [
            {"hardware": n, "kind": k, "reason": r} for n, k, r in unavailable]})
        return
    console = Console()
    console.print(f"[bold]{p.model}[/bold] {p.task} batch={p.batch_size} precision={p.precision}: "
                  f"{si(p.flops, 'FLOP')} matmul/conv/attention, memory ~{fmt_bytes(p.memory_bytes)}")
    console.print(estimate_table(estimates, "predicted, not measured (model per row in --json)"))
    if samples:
        for e in estimates:
            usd = e.usd_for_samples(samples)
            if usd is not None:
                console.print(f"{e.hardware}: {si(samples)} samples cost ${usd:,.2f} on {e.offering} "
                              f"(price of {e.price_date}), {fmt_seconds(e.step_time_s * samples / e.samples_per_step)}")
    for n, k, r in unavailable:
        console.print(f"[yellow]{n} ({k}): no estimate: {r}[/yellow]")
