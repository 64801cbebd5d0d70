"""explore: measure what this machine has, predict every catalog device, rank them.

For each workload: the local devices are measured (``measure.bench``), every catalog device
is predicted (its performance model, with stored calibrations where they exist) and priced
(``cost.price``), and the rows
are ranked by throughput with the speedup over the local CPU, energy per sample, dollars per
million samples on the cheapest cloud offering, and whether the step fits in memory.
Measured and predicted rows are marked as such. Everything is stored: the predictions as an
``estimate`` run, the measurements as ``measurement`` runs and the profiled ops (merged per
kind, for the report's rooflines) as a ``profile`` run, both with ``part_of`` = the estimate
run's id in their config.

Precision ``auto`` measures the local CPU in fp32 and predicts each device in the precision
a practitioner would use there (its performance model decides: for the roofline, ``amp-bf16``
where the device has a bf16 peak, else ``amp-fp16``, else ``fp32``; a systolic array runs its
own word type).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from accelscope.cost import Assumptions
from accelscope.errors import AccelscopeError, ConfigError
from accelscope.jobs.predict import Profiler, Unavailable, estimate_all, load_calibrations, select_hardware
from accelscope.models.roofline_model import Calibrated
from accelscope.workload import AUTO, WorkloadSpec

#: The built-in workload set: small enough to measure on a 2-core CPU within about a minute,
#: and covering dense layers, convolutions and a transformer, inference and training.
DEFAULT_WORKLOADS: tuple[WorkloadSpec, ...] = (
    WorkloadSpec(model="mlp", task="train", batch_size=64, precision=AUTO),
    WorkloadSpec(model="resnet50", task="infer", batch_size=8, precision=AUTO),
    WorkloadSpec(model="gpt2-small", task="train", batch_size=4, seq_len=128, precision=AUTO),
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
    model: str | None = None  # the performance model of a predicted row
    #: how the step runs (eager, cuda-graphs, compile) and, for a GPU, the host driving it
    mode: str = "eager"
    host: str | None = None
    #: a measured row's verdict (``converged``, or its flags: capped, noisy, few samples, ...)
    verdict: str | None = None
    #: why a speedup is uncertain: the CPU baseline's (or the measured row's) flags
    speedup_note: str | None = None
    error: str | None = None
    #: throughput over the predicted throughput of the catalog CPU ``explore(vs_cpu=...)``
    speedup_vs_catalog_cpu: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadResult:
    spec: WorkloadSpec
    rows: tuple[Row, ...]
    unavailable: tuple[Unavailable, ...] = ()
    measurement_run_id: int | None = None
    vs_cpu: str | None = None  # the catalog CPU of ``Row.speedup_vs_catalog_cpu``

    @property
    def workload(self) -> dict[str, Any]:
        """The workload's main fields (model, task, batch_size, and the size given)."""
        s = self.spec
        w = {"model": s.model, "task": s.task, "batch_size": s.batch_size}
        w.update({k: getattr(s, k) for k in ("seq_len", "image_size") if getattr(s, k) is not None})
        return w

    def to_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "spec": self.spec.to_dict(), "rows": [r.to_dict() for r in self.rows],
                "unavailable": [u.to_dict() for u in self.unavailable],
                "measurement_run_id": self.measurement_run_id, "vs_cpu": self.vs_cpu}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExploreResult:
    results: tuple[WorkloadResult, ...]
    estimate_run_id: int | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"workloads": [r.to_dict() for r in self.results], "estimate_run_id": self.estimate_run_id,
                "notes": list(self.notes)}


def _measured_rows(run) -> list[Row]:
    rows = []
    for m in run.measurements:
        rows.append(Row(
            device=m.device + (f" ({m.device_model})" if m.device_model else ""),
            kind="cpu" if m.device == "cpu" else "gpu", source="measured", precision=m.precision,
            step_time_s=m.step_time_s.median if m.step_time_s else None,
            throughput_samples_per_s=m.throughput_samples_per_s, speedup_vs_cpu=None,
            energy_j_per_sample=m.energy_j_per_sample, energy_method=m.energy_method,
            usd_per_million_samples=None, offering=None, fits_in_memory=m.status == "ok", verdict=m.verdict,
            error=m.error, mode=m.spec.mode))
    return rows


def _explore_serving(spec: WorkloadSpec, *, devices, hardware, calibrations, assumptions, cache, max_time_s, store,
                     serving, progress) -> WorkloadResult:
    """A serving workload: measured on the local CPU (and CUDA GPUs), predicted on the catalog
    (at the latency targets when given), ranked by dollars per million output tokens. A row's
    "samples" are output tokens: throughput is output tokens/s per device."""
    from accelscope.jobs.predict import estimate_serving
    from accelscope.jobs.serving import Serving, bench_serving
    from accelscope.measure.devices import resolve_devices

    rows: list[Row] = []
    run_id = None
    local = spec.with_(precision="fp32" if spec.precision == AUTO else spec.precision)
    for dev in resolve_devices(devices):
        if dev.kind not in ("cpu", "cuda") or local.concurrency is not None:
            continue
        if progress:
            progress(f"measuring {spec.label} on {dev.name}")
        try:
            m, run_id = bench_serving(local, device=dev.name, max_time_s=max_time_s, store=store,
                                      command=f"explore {spec.label}")
        except (AccelscopeError, RuntimeError, MemoryError) as exc:  # a failed measurement is a row; ranking goes on
            rows.append(Row(device=dev.name, kind=dev.kind, source="measured", precision=local.precision,
                            step_time_s=None, throughput_samples_per_s=None, speedup_vs_cpu=None,
                            energy_j_per_sample=None, energy_method="unavailable", usd_per_million_samples=None,
                            offering=None, fits_in_memory=None, error=str(exc)))
            continue
        rows.append(Row(device=m.device, kind=dev.kind, source="measured", precision=local.precision,
                        step_time_s=m.e2e_s, throughput_samples_per_s=m.output_tokens_per_s, speedup_vs_cpu=None,
                        energy_j_per_sample=None, energy_method="unavailable", usd_per_million_samples=None,
                        offering=None, fits_in_memory=True, verdict="converged"))
    if progress:
        progress(f"predicting {spec.label} on {len(hardware)} catalog devices")
    priced, unavailable = estimate_serving(serving or Serving(), spec, hardware, calibrations=calibrations,
                                           assumptions=assumptions, cache=cache)
    for p in priced:
        e = p.estimate
        rows.append(Row(device=e.hardware + (f" x{e.devices}" if e.devices > 1 else ""), kind=e.kind,
                        source="predicted", precision=e.precision, step_time_s=e.step_time_s,
                        throughput_samples_per_s=e.tokens_per_s / e.devices, speedup_vs_cpu=None,
                        energy_j_per_sample=p.energy_j_per_token, energy_method=p.energy_method,
                        usd_per_million_samples=p.usd_per_million_tokens, offering=p.offering,
                        fits_in_memory=e.fits_in_memory, bound=e.bound, model=e.model, mode=e.mode, host=e.host))
    cpu = next((r for r in rows if r.source == "measured" and r.device == "cpu" and r.throughput_samples_per_s), None)
    ranked = sorted((replace(r, speedup_vs_cpu=r.throughput_samples_per_s / cpu.throughput_samples_per_s
                             if cpu and r.throughput_samples_per_s else None) for r in rows),
                    key=lambda r: (r.usd_per_million_samples is None, r.usd_per_million_samples or 0.0,
                                   -(r.throughput_samples_per_s or 0.0)))
    return WorkloadResult(spec=spec, rows=tuple(ranked), unavailable=tuple(unavailable), measurement_run_id=run_id)


def _doubt(row: Row, baseline: str | None) -> str | None:
    """What makes a row's speedup over the CPU uncertain: the baseline's flags, and a measured
    row's own."""
    own = f"this row: {row.verdict}" if row.source == "measured" and row.verdict not in (None, "converged") \
        and not row.device.startswith("cpu") else None
    return "; ".join(x for x in (baseline, own) if x) or None


def explore(
    workloads: Sequence["WorkloadSpec | str"] = DEFAULT_WORKLOADS,
    *,
    devices: str = "auto",
    kinds: Sequence[str] | None = None,
    hardware_paths: Sequence[str | Path] | None = None,
    max_time_s: float = 6.0,
    store=None,
    calibrations: dict[str, Calibrated] | None = None,
    assumptions: Assumptions | None = None,
    cache: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
    host_cpu: str | None = None,
    serving=None,
    vs_cpu: str | None = None,
) -> ExploreResult:
    """Measure ``workloads`` locally, predict them on the catalog, and rank the devices.

    Each workload is a spec, or a model name (its preset's defaults, precision ``auto``);
    precision ``auto`` measures the local CPU in fp32 and predicts each device in the precision
    its model picks. ``calibrations``
    default to those stored in ``store``. ``vs_cpu`` names a catalog CPU: every row then also
    has its speedup over that CPU's predicted throughput (a CPU you do not have), beside the
    measured speedup over the local one. ``progress(done, total, what)`` is called as each
    workload is measured and as each catalog device is predicted (a unit of work each).
    """
    from accelscope.measure.bench import bench

    if not max_time_s > 0:
        raise ConfigError(f"the time cap per measurement must be positive, got {max_time_s:g} s (--max-time)")
    workloads = [WorkloadSpec(model=w, precision=AUTO) if isinstance(w, str) else w for w in workloads]
    specs_hw = select_hardware(None, kinds, hardware_paths, host_cpu)
    reference_cpu = None
    if vs_cpu is not None:
        reference_cpu = select_hardware(vs_cpu, None, hardware_paths)[0]
        if reference_cpu.kind != "cpu":
            raise ConfigError(f"--vs-cpu {vs_cpu}: {reference_cpu.name} is a {reference_cpu.kind}, "
                              "not a CPU; `accelscope hardware list --kind cpu` lists the CPUs")
    calibrations = load_calibrations(store) if calibrations is None else calibrations
    results = []
    label = ",".join(dict.fromkeys(w.model for w in workloads))
    recording = (store.recording(kind="estimate", config={"workloads": [w.to_dict() for w in workloads]},
                                 command="explore", label=label, planned=len(workloads) * len(specs_hw))
                 if store is not None else contextlib.nullcontext(None))
    total = len(workloads) * (1 + len(specs_hw))
    done = 0

    def step(what: str, n: int = 0) -> None:
        """``n`` more units done (none: a message about the current one)."""
        nonlocal done
        done += n
        if progress:
            progress(done, total, what)

    with contextlib.ExitStack() as stack:
        estimate_run = stack.enter_context(recording)
        profile_run = None if store is None else stack.enter_context(store.recording(
            kind="profile", config={"part_of": estimate_run}, command="explore", label=label))
        for w in workloads:
            spec = w.resolved()
            if spec.task == "serve":
                results.append(_explore_serving(spec, devices=devices, hardware=specs_hw, calibrations=calibrations,
                                                assumptions=assumptions, cache=cache, max_time_s=max_time_s,
                                                store=store, serving=serving, progress=step))
                step(f"{spec.label}: predicted", 1 + len(specs_hw))
                continue
            step(f"measuring {spec.label} on {devices}")
            local = spec.with_(precision="fp32" if spec.precision == AUTO else spec.precision)
            run = bench(local, devices=devices, max_time_s=max_time_s, store=store,
                        command=f"explore {spec.label}", part_of=estimate_run)
            rows = _measured_rows(run)
            cpu = next((m for m in run.measurements if m.device == "cpu" and m.ok), None)
            cpu_throughput = cpu.throughput_samples_per_s if cpu else None
            baseline_doubt = f"CPU baseline: {cpu.verdict}" if cpu is not None and cpu.flags else None
            step(f"predicting {spec.label}", 1)
            profiler = Profiler(spec, cache=cache)
            priced, unavailable = estimate_all(profiler, specs_hw, calibrations=calibrations,
                                               assumptions=assumptions,
                                               progress=lambda hw: step(f"predicting {spec.label} on {hw}", 1))
            reference = None
            if reference_cpu is not None:
                ref, why = estimate_all(profiler, [reference_cpu], calibrations=calibrations,
                                        assumptions=assumptions)
                if not ref:
                    raise ConfigError(f"--vs-cpu {reference_cpu.name}: no prediction for "
                                      f"{spec.label} ({why[0].reason})")
                reference = ref[0].estimate.throughput_samples_per_s
            for p in priced:
                e = p.estimate
                rows.append(Row(
                    device=e.hardware, kind=e.kind, source="predicted", precision=e.precision,
                    step_time_s=e.step_time_s, throughput_samples_per_s=e.throughput_samples_per_s,
                    speedup_vs_cpu=None, energy_j_per_sample=p.energy_j_per_sample,
                    energy_method=p.energy_method, usd_per_million_samples=p.usd_per_million_samples,
                    offering=p.offering, fits_in_memory=e.fits_in_memory, bound=e.bound, mfu=e.mfu,
                    model=e.model, mode=e.mode, host=e.host))
                if store is not None:
                    store.add_point(estimate_run, kind="estimate", record=p.to_dict(), status="ok",
                                    model=spec.model, device=e.hardware, task=spec.task,
                                    batch_size=spec.batch_size, precision=e.precision, time_s=e.step_time_s,
                                    throughput_samples_per_s=e.throughput_samples_per_s,
                                    energy_j_per_sample=p.energy_j_per_sample)
            # Speedup and rank by throughput: an FPGA pipeline's "step" is one frame.
            ranked = sorted(
                (replace(r, speedup_vs_cpu=(r.throughput_samples_per_s / cpu_throughput)
                         if cpu_throughput and r.throughput_samples_per_s else None,
                         speedup_vs_catalog_cpu=(r.throughput_samples_per_s / reference)
                         if reference and r.throughput_samples_per_s else None,
                         speedup_note=_doubt(r, baseline_doubt)) for r in rows),
                key=lambda r: -(r.throughput_samples_per_s or 0.0))
            if store is not None:
                for precision, prof in profiler.profiles.items():
                    store.add_point(profile_run, kind="profile", status="ok", model=spec.model, task=spec.task,
                                    batch_size=spec.batch_size, precision=precision,
                                    record={"spec": spec.with_(precision=precision).to_dict(),
                                            "flops": prof.total_flops, "bytes": prof.bytes_moved,
                                            "ops": prof.op_summary()})
            results.append(WorkloadResult(spec=spec, rows=tuple(ranked), unavailable=tuple(unavailable),
                                          measurement_run_id=run.run_id,
                                          vs_cpu=reference_cpu.name if reference_cpu else None))
    return ExploreResult(results=tuple(results), estimate_run_id=estimate_run)
