"""job: what a whole training run or serving deployment takes — time, device-hours, energy,
carbon and money — on catalog hardware, built on the multi-device and serving predictions.

* **Training** (``train_tokens`` or ``train_samples`` x ``epochs``): one iteration on
  ``devices`` devices (``jobs.parallel``: the layout given, or data parallel, or the fastest
  that fits), ``steps = ceil(work / work per iteration)``, ``wall = steps x iteration /
  goodput``.
* **Serving** (``requests_per_s`` for ``duration_s``): the serving estimate of one replica
  (``jobs.serving``: the batch and devices given, or the best that meets the latency targets);
  ``replicas = ceil(Q / the replica's requests per second)``; devices = replicas x devices per
  replica, busy for the whole duration.

Then: device-hours = wall x devices; energy = the devices' power from the cost layer's model
(idle + (TDP - idle) x utilisation) x wall, plus ``node_overhead_w`` per node (CPUs, memory,
NICs, fans), x ``pue``; carbon = energy x ``grid_g_per_kwh`` when given; money = device-hours x
the cheapest dated cloud offering's price per device-hour. Every assumption is stated in the
result, with its source:

* ``GOODPUT = 0.9``: the fraction of wall time that trains: "higher than 90% effective training
  time" over 54 days of Llama 3 405B pre-training on 16K H100s with 466 interruptions (Llama
  Team, "The Llama 3 Herd of Models", 2024, section 3.3.4);
* ``PUE = 1.1``: Google's fleet-wide trailing-twelve-month PUE of 1.10 for 2023 (Google, "Data
  Centers: Efficiency", google.com/about/datacenters/efficiency); a colocation or on-premise
  room is nearer the Uptime Institute's 1.58 global average (2023 survey);
* ``node_overhead_w = 0``: not counted unless given (a DGX's non-GPU power is its vendor's
  system figure minus its GPUs').
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from accelscope.errors import ConfigError
from accelscope.workload import WorkloadSpec

GOODPUT = 0.9
GOODPUT_SOURCE = ("Llama Team, 'The Llama 3 Herd of Models' (2024) 3.3.4: 'higher than 90% effective training "
                  "time' over a 54-day snapshot with 466 job interruptions")
PUE = 1.1
PUE_SOURCE = "Google, Data Centers: Efficiency (fleet-wide trailing-twelve-month PUE 1.10, 2023)"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobAssumptions:
    goodput: float = GOODPUT
    pue: float = PUE
    node_overhead_w: float = 0.0
    grid_g_per_kwh: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.goodput <= 1:
            raise ConfigError(f"--goodput must be within (0, 1], got {self.goodput!r}")
        if not self.pue >= 1:
            raise ConfigError(f"--pue must be at least 1, got {self.pue!r}")
        if self.node_overhead_w < 0:
            raise ConfigError(f"--node-overhead-w must be >= 0, got {self.node_overhead_w!r}")
        if self.grid_g_per_kwh is not None and self.grid_g_per_kwh < 0:
            raise ConfigError(f"--grid-g-per-kwh must be >= 0, got {self.grid_g_per_kwh!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"goodput": self.goodput, "goodput_source": GOODPUT_SOURCE if self.goodput == GOODPUT else "given",
                "pue": self.pue, "pue_source": PUE_SOURCE if self.pue == PUE else "given",
                "node_overhead_w": self.node_overhead_w, "grid_g_per_kwh": self.grid_g_per_kwh}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobOption:
    """One way to run the job: a hardware entry, how many devices, and what it all takes."""

    option: str  # "cloud: <offering>" or "cloud price unknown"
    hardware: str
    devices: int
    wall_time_s: float
    device_hours: float
    energy_kwh: float | None
    tco2e: float | None
    usd: float | None
    per_step: dict[str, Any]
    assumptions: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if k == "notes" else v) for k, v in ((s, getattr(self, s)) for s in self.__slots__)}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobResult:
    job: dict[str, Any]
    options: tuple[JobOption, ...]
    unavailable: tuple[Any, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "options": [o.to_dict() for o in self.options],
                "unavailable": [u.to_dict() for u in self.unavailable]}


def _option(priced, *, devices: int, wall_s: float, a: JobAssumptions, per_step: dict, devices_per_node: int | None,
            notes: list[str]) -> JobOption:
    hours = wall_s * devices / 3600
    energy = None
    if priced.power_w is not None:
        device_w = priced.power_w / priced.estimate.devices  # the cost layer's power of one device
        nodes = math.ceil(devices / devices_per_node) if devices_per_node else 0
        watts = device_w * devices + a.node_overhead_w * nodes
        energy = watts * wall_s / 3.6e6 * a.pue
    co2 = None if energy is None or a.grid_g_per_kwh is None else energy * a.grid_g_per_kwh / 1e6
    per_device_hour = (priced.usd_per_hour / priced.estimate.devices) if priced.usd_per_hour is not None else None
    usd = None if per_device_hour is None else per_device_hour * hours
    option = f"cloud: {priced.offering} (price of {priced.price_date})" if priced.offering else "cloud price unknown"
    return JobOption(option=option, hardware=priced.estimate.hardware, devices=devices, wall_time_s=wall_s,
                     device_hours=hours, energy_kwh=energy, tco2e=co2, usd=usd, per_step=per_step,
                     assumptions=a.to_dict() | {"energy_method": priced.energy_method}, notes=tuple(notes))


def training_job(model: "str | WorkloadSpec", *, hardware, devices: int, train_tokens: float | None = None,
                 train_samples: float | None = None, epochs: float = 1.0, assumptions: JobAssumptions | None = None,
                 store=None, **layout: Any) -> JobResult:
    """A training run of ``train_tokens`` (token models) or ``train_samples x epochs`` samples
    on ``devices`` devices of each ``hardware`` entry (``layout``: ``jobs.parallel.Parallel``'s
    fields; default data parallel, else the fastest layout that fits)."""
    from accelscope.jobs.parallel import Parallel
    from accelscope.jobs.predict import predict

    a = assumptions or JobAssumptions()
    if (train_tokens is None) == (train_samples is None):
        raise ConfigError("give the job's size: --train-tokens T (token models) or --train-samples N [--epochs E]")
    work = train_tokens if train_tokens is not None else train_samples * epochs  # type: ignore[operator]
    if not work > 0 or not epochs > 0:
        raise ConfigError(f"the job's tokens, samples and epochs must be positive, got {work!r}")
    spec_fields = {k: layout.pop(k) for k in list(layout) if k in {f.name for f in dataclasses.fields(WorkloadSpec)}}
    pred = predict(model, hardware=hardware, store=store, parallel=Parallel(devices=devices, **layout), task="train",
                   **spec_fields)
    options = []
    for r in pred.results:
        e = r.estimate
        per_iter = e.tokens_per_step if train_tokens is not None else e.samples_per_step
        if train_tokens is not None and not per_iter:
            raise ConfigError(f"{e.spec.model} is not a token model: size its job with --train-samples")
        steps = math.ceil(work / per_iter)
        wall = steps * e.step_time_s / a.goodput
        dpn = e.parameters["parallel"]["fabric"]["devices_per_node"]
        notes = list(e.notes) + ([] if e.fits_in_memory is not False else ["the layout does not fit in memory"])
        per_step = {"step_time_s": e.step_time_s, "steps": steps, "work_per_step": per_iter, "mfu": e.mfu,
                    "layout": e.parameters["parallel"]["layout"]}
        options.append(_option(r, devices=e.devices, wall_s=wall, a=a, per_step=per_step, devices_per_node=dpn,
                               notes=notes))
    options.sort(key=lambda o: (o.usd is None, o.usd or 0.0))
    job = {"kind": "train", "model": pred.spec.model, "train_tokens": train_tokens, "train_samples": train_samples,
           "epochs": epochs, "devices": devices, "spec": pred.spec.to_dict()}
    return JobResult(job=job, options=tuple(options), unavailable=pred.unavailable)


def serving_job(model: "str | WorkloadSpec", *, hardware, requests_per_s: float, duration_s: float,
                devices: int = 1, ttft_slo_s: float | None = None, tpot_slo_s: float | None = None,
                assumptions: JobAssumptions | None = None, store=None, **workload: Any) -> JobResult:
    """Serving ``requests_per_s`` for ``duration_s`` on each ``hardware`` entry: replicas of the
    serving estimate (the configuration given, or the best meeting the targets), enough to carry
    the load."""
    from accelscope.jobs.predict import predict
    from accelscope.jobs.serving import Serving

    a = assumptions or JobAssumptions()
    if not requests_per_s > 0 or not duration_s > 0:
        raise ConfigError(f"--requests-per-s and --duration must be positive, got {requests_per_s!r} and "
                          f"{duration_s!r}")
    pred = predict(model, hardware=hardware, store=store, task="serve",
                   serving=Serving(devices=devices, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s), **workload)
    options = []
    for r in pred.results:
        e = r.estimate
        replicas = math.ceil(requests_per_s / e.throughput_samples_per_s)
        n = replicas * e.devices
        per_step = {"replicas": replicas, "devices_per_replica": e.devices,
                    "requests_per_s_per_replica": e.throughput_samples_per_s, "ttft_s": e.ttft_s, "tpot_s": e.tpot_s,
                    "batch": e.parameters["serving"]["static_batch"] or e.parameters["serving"]["concurrency"]}
        dpn = (e.parameters["serving"].get("fabric") or {}).get("devices_per_node")
        options.append(_option(r, devices=n, wall_s=duration_s, a=dataclasses.replace(a, goodput=1.0),
                               per_step=per_step, devices_per_node=dpn, notes=list(e.notes)))
    options.sort(key=lambda o: (o.usd is None, o.usd or 0.0))
    job = {"kind": "serve", "model": pred.spec.model, "requests_per_s": requests_per_s, "duration_s": duration_s,
           "spec": pred.spec.to_dict()}
    return JobResult(job=job, options=tuple(options), unavailable=pred.unavailable)
