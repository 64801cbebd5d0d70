"""explore: measure what this machine has, predict every catalog device, rank them.

For each workload: the local devices are measured (``measure.bench``), every catalog device
is predicted (``cost.estimate``, with stored calibrations where they exist), and the rows
are ranked by throughput with the speedup over the local CPU, energy per sample, dollars per
million samples on the cheapest cloud offering, and whether the step fits in memory.
Measured and predicted rows are marked as such. Everything is stored: the measurements as
a ``measurement`` run, the predictions as an ``estimate`` run.

Precision ``auto`` measures the local CPU in fp32 and predicts each accelerator in the
mixed precision a practitioner would use there: ``amp-bf16`` where the device has a bf16
peak, else ``amp-fp16``, else ``fp32``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from accelscope.cost import estimate
from accelscope.errors import AccelscopeError
from accelscope.hardware.catalog import list_hardware
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.predict import Calibrated
from accelscope.workload import load_workload
from accelscope.workload import profile as make_profile

#: The built-in workload set: small enough to measure on a 2-core CPU within about a minute,
#: and covering dense layers, convolutions and a transformer, inference and training.
DEFAULT_WORKLOADS: tuple[dict[str, Any], ...] = (
    {"model": "mlp", "task": "train", "batch_size": 64},
    {"model": "resnet50", "task": "infer", "batch_size": 8},
    {"model": "gpt2-small", "task": "train", "batch_size": 4, "seq_len": 128},
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    device: str
    kind: str
    source: str  # "measured" or "predicted"
    precision: str
    step_time_s: float | None
    throughput_samples_per_s: float | None
    speedup_vs_cpu: float | None
    energy_j_per_sample: float | None
    energy_method: str
    usd_per_million_samples: float | None
    offering: str | None
    fits_in_memory: bool | None
    bound: str | None = None
    mfu: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadResult:
    workload: dict[str, Any]
    rows: tuple[Row, ...]
    unavailable: tuple[tuple[str, str, str], ...] = ()
    measurement_run_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "rows": [r.to_dict() for r in self.rows],
                "unavailable": [{"hardware": n, "kind": k, "reason": r} for n, k, r in self.unavailable],
                "measurement_run_id": self.measurement_run_id}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExploreResult:
    results: tuple[WorkloadResult, ...]
    estimate_run_id: int | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"workloads": [r.to_dict() for r in self.results], "estimate_run_id": self.estimate_run_id,
                "notes": list(self.notes)}


def auto_precision(spec: HardwareSpec) -> str:
    if spec.kind == "cpu":
        return "fp32"
    if spec.peak_flops_per_s("bf16"):
        return "amp-bf16"
    if spec.peak_flops_per_s("fp16"):
        return "amp-fp16"
    return "fp32"


def _workload_label(w: dict[str, Any]) -> str:
    extra = "".join(f" {k}={w[k]}" for k in ("seq_len", "image_size") if w.get(k))
    return f"{w['model']} {w['task']} batch={w['batch_size']}{extra}"


def explore(
    workloads: Sequence[dict[str, Any]] = DEFAULT_WORKLOADS,
    *,
    devices: str = "auto",
    kinds: Sequence[str] | None = None,
    precision: str = "auto",
    max_time_s: float = 6.0,
    store=None,
    calibrations: dict[str, Calibrated] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExploreResult:
    """Measure ``workloads`` locally, predict them on the catalog, and rank the devices."""
    from accelscope.measure.bench import bench

    specs = [s for s in list_hardware() if kinds is None or s.kind in kinds]
    calibrations = calibrations or {}
    results = []
    recording = (store.recording(kind="estimate", config={"workloads": list(workloads), "precision": precision},
                                 command="explore") if store is not None else contextlib.nullcontext(None))
    with recording as estimate_run:
        for w in workloads:
            w = dict(w)
            opts = {k: v for k, v in w.items() if k not in ("model", "task", "batch_size")}
            base = load_workload(w["model"], task=w["task"], batch_size=w.get("batch_size"), **opts)
            w["batch_size"] = base.batch_size
            label = _workload_label(w)
            if progress:
                progress(f"measuring {label} on {devices}")
            local_precision = "fp32" if precision == "auto" else precision
            run = bench(base.with_(precision=local_precision), devices=devices, tasks=(w["task"],),
                        batch_sizes=(base.batch_size,), precisions=(local_precision,), max_time_s=max_time_s,
                        store=store, seq_len=w.get("seq_len"), image_size=w.get("image_size"),
                        command=f"explore {label}")
            rows: list[Row] = []
            cpu_throughput = None
            for m in run.measurements:
                t = m.step_time_s.median if m.step_time_s else None
                if m.device == "cpu" and t:
                    cpu_throughput = m.throughput_samples_per_s
                rows.append(Row(
                    device=m.device + (f" ({m.device_model})" if m.device_model else ""),
                    kind="cpu" if m.device == "cpu" else "gpu", source="measured", precision=m.precision,
                    step_time_s=t, throughput_samples_per_s=m.throughput_samples_per_s, speedup_vs_cpu=None,
                    energy_j_per_sample=m.energy_j_per_sample, energy_method=m.energy_method,
                    usd_per_million_samples=None, offering=None, fits_in_memory=m.status == "ok",
                    error=m.error))
            profiles: dict[str, Any] = {}
            unavailable = []
            if progress:
                progress(f"predicting {label} on {len(specs)} catalog devices")
            for spec in specs:
                prec = auto_precision(spec) if precision == "auto" else precision
                try:
                    if prec not in profiles:
                        profiles[prec] = make_profile(base.with_(precision=prec))
                    e = estimate(profiles[prec], spec, calibrations.get(spec.name))
                except AccelscopeError as exc:
                    unavailable.append((spec.name, spec.kind, str(exc)))
                    continue
                rows.append(Row(
                    device=spec.name, kind=spec.kind, source="predicted", precision=prec,
                    step_time_s=e.step_time_s, throughput_samples_per_s=e.throughput_samples_per_s,
                    speedup_vs_cpu=None, energy_j_per_sample=e.energy_j_per_sample,
                    energy_method=e.energy_method, usd_per_million_samples=e.usd_per_million_samples,
                    offering=e.offering, fits_in_memory=e.fits_in_memory, bound=e.bound, mfu=e.mfu))
                if store is not None:
                    store.add_point(estimate_run, kind="estimate", record=e.to_dict() | {"workload_spec": w},
                                    status="ok", model=w["model"], device=spec.name, task=w["task"],
                                    batch_size=base.batch_size, precision=prec, time_s=e.step_time_s,
                                    throughput_samples_per_s=e.throughput_samples_per_s,
                                    energy_j_per_sample=e.energy_j_per_sample)
            # Speedup and rank by throughput: an FPGA pipeline's "step" is one frame.
            ranked = sorted(
                (Row(**{**r.to_dict(), "speedup_vs_cpu": (r.throughput_samples_per_s / cpu_throughput)
                        if cpu_throughput and r.throughput_samples_per_s else None}) for r in rows),
                key=lambda r: -(r.throughput_samples_per_s or 0.0))
            results.append(WorkloadResult(workload=w, rows=tuple(ranked), unavailable=tuple(unavailable),
                                          measurement_run_id=run.run_id))

    return ExploreResult(results=tuple(results), estimate_run_id=estimate_run)
