"""``accelscope job MODEL``: what a whole training run or serving deployment takes."""

from __future__ import annotations

import re
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(text: str) -> float:
    """``1y``, ``30d``, ``12h``, ``90m``, ``3600`` (seconds) -> seconds."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smhdwy]?)\s*", text or "")
    if not m or not float(m.group(1)) > 0:
        raise ConfigError(f"--duration {text!r} is not a positive duration like 1y, 30d, 12h or 3600 (seconds)")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


@app.command("job")
@o.workload_options(precision="auto")
def job_cmd(
    model: o.Model,
    workload: o.WorkloadOptions,
    hardware: str = typer.Option(..., "--hardware", help="Catalog names, comma-separated: each is one option."),
    devices: int = typer.Option(1, "--devices", help="Training: devices of each (a layout over them); serving: devices per replica (tensor parallel)."),
    train_tokens: Optional[float] = typer.Option(None, "--train-tokens", help="Training: tokens to train on (e.g. 2e12)."),
    train_samples: Optional[float] = typer.Option(None, "--train-samples", help="Training: samples per epoch (non-token models)."),
    epochs: float = typer.Option(1.0, "--epochs", help="Training: passes over --train-samples."),
    parallel: Optional[str] = typer.Option(None, "--parallel", help="Training layout, e.g. tp=8,pp=4 (default: data parallel, else the fastest that fits)."),
    system: Optional[str] = typer.Option(None, "--system", help="How the devices are joined (`accelscope hardware systems`)."),
    zero: Optional[int] = typer.Option(None, "--zero", help="Training: ZeRO stage 0-3."),
    global_batch: Optional[int] = typer.Option(None, "--global-batch", help="Training: samples per iteration."),
    recompute: str = typer.Option("none", "--recompute", help="Training: none, selective, ops or full."),
    requests_per_s: Optional[float] = typer.Option(None, "--requests-per-s", help="Serving: the load to carry."),
    duration: str = typer.Option("1y", "--duration", help="Serving: how long (1y, 30d, 12h, or seconds)."),
    ttft_slo: Optional[float] = typer.Option(None, "--ttft-slo", help="Serving: time-to-first-token target, ms."),
    tpot_slo: Optional[float] = typer.Option(None, "--tpot-slo", help="Serving: time-per-output-token target, ms."),
    goodput: float = typer.Option(0.9, "--goodput", help="Fraction of a training run's wall time that trains (restarts, failures, evaluation) [default 0.9: Llama 3's 'higher than 90%']."),
    pue: float = typer.Option(1.1, "--pue", help="Data-centre power usage effectiveness [default 1.1: Google's 2023 fleet]."),
    node_overhead_w: float = typer.Option(0.0, "--node-overhead-w", help="Power of a node beyond its devices (CPUs, memory, NICs), W [default 0: not counted]."),
    grid_g_per_kwh: Optional[float] = typer.Option(None, "--grid-g-per-kwh", help="Grid carbon intensity, g CO2 per kWh (location-based); none: no carbon figure."),
    store: o.StoreOpt = None,
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Wall time, device-hours, energy, carbon and money of a whole training run or serving deployment."""
    from accelscope.jobs.job import JobAssumptions, serving_job, training_job
    from accelscope.report import json_text, text

    a = JobAssumptions(goodput=goodput, pue=pue, node_overhead_w=node_overhead_w, grid_g_per_kwh=grid_g_per_kwh)
    spec = workload.spec(model)
    if spec.task == "serve":
        if requests_per_s is None:
            raise ConfigError("a serving job takes --requests-per-s Q (and --duration, default 1y)")
        res = serving_job(spec, hardware=hardware, requests_per_s=requests_per_s, duration_s=parse_duration(duration),
                          devices=devices, ttft_slo_s=None if ttft_slo is None else ttft_slo / 1e3,
                          tpot_slo_s=None if tpot_slo is None else tpot_slo / 1e3, assumptions=a, store=store)
    else:
        if requests_per_s is not None:
            raise ConfigError("--requests-per-s sizes a serving job: add --task serve")
        res = training_job(spec.with_(task="train"), hardware=hardware, devices=devices, train_tokens=train_tokens,
                           train_samples=train_samples, epochs=epochs, assumptions=a, store=store, parallel=parallel,
                           system=system, zero=zero, global_batch=global_batch, recompute=recompute)
    if json_out:
        typer.echo(json_text(res.to_dict()))
    else:
        text.job(res, text.console(), wide=wide)
