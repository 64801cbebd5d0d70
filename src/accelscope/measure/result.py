"""Measurement: one point of a benchmark sweep, as plain, serialisable data.

A Measurement is what the results store keeps and what ``models/calibrate.py`` reads, so
it holds numbers and strings only (and :class:`Stats`, :class:`Environment` and the
:class:`~accelscope.workload.spec.WorkloadSpec` measured, which turn into dicts; calibration
re-profiles the point from that spec). A failed point is a Measurement too, with
``status="failed"`` and ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from accelscope.measure.environment import Environment
from accelscope.measure.stats import Stats
from accelscope.workload.spec import RECORD_FIELDS, SpecFields, WorkloadSpec

STATUSES = ("ok", "failed")
#: fewer timed samples than this make a median's confidence interval wide (flag ``few samples``)
FEW_SAMPLES = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement(SpecFields):
    # -- what was run -------------------------------------------------------------------
    spec: WorkloadSpec               #: the workload (resolved: batch and sizes concrete)
    device: str                      #: "cpu", "cuda:0", "mps", "null"
    device_model: str | None = None  #: e.g. "NVIDIA H100 80GB HBM3", "AMD EPYC 9654"
    compile: bool = False
    threads: int                     #: torch CPU threads during the point
    # -- outcome ------------------------------------------------------------------------
    status: str                      #: "ok" | "failed"
    error: str | None = None         #: why it failed ("out of memory: ...", "unsupported: ...")
    error_kind: str | None = None    #: "oom" | "unsupported" | "error"
    # -- time ---------------------------------------------------------------------------
    step_time_s: Stats | None = None
    converged: bool | None = None
    stop_reason: str | None = None
    cold_start_s: float | None = None
    warmup_samples: int | None = None
    warmup_steady: bool | None = None
    block_size: int | None = None
    iterations: int | None = None
    # -- speedup vs the CPU -------------------------------------------------------------
    speedup_vs_cpu: float | None = None
    speedup_ci_low: float | None = None
    speedup_ci_high: float | None = None
    speedup_baseline: str | None = None  #: which CPU point it divides, e.g. "cpu fp32 batch 8"
    #: why the speedup is uncertain beyond its interval: the baseline's or this point's verdict
    speedup_note: str | None = None
    # -- energy -------------------------------------------------------------------------
    energy_j: float | None = None
    energy_window_s: float | None = None
    energy_iterations: int | None = None
    energy_method: str = "unavailable"
    energy_scope: str = ""
    energy_confidence: str = "none"
    energy_note: str = ""
    # -- memory -------------------------------------------------------------------------
    peak_mem_allocated_bytes: int | None = None
    peak_mem_reserved_bytes: int | None = None
    peak_rss_bytes: int | None = None
    memory_note: str = ""
    # -- provenance ---------------------------------------------------------------------
    #: logical CPUs' worth of other processes' work just before a CPU point was timed (/proc/stat)
    busy_cores_before: float | None = None
    #: that work plus the point's threads exceeded the physical cores (see ``measure_point``)
    oversubscribed: bool = False
    notes: tuple[str, ...] = ()
    environment: Environment | None = None
    run_id: int | None = None
    timestamp: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.status == "failed" and not self.error:
            raise ValueError("a failed Measurement needs an error message")
        if self.energy_j is not None and self.energy_method == "unavailable":
            raise ValueError("an energy figure needs its method")

    # -- derived ------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def flags(self) -> tuple[str, ...]:
        """What makes the figure less than trustworthy: ``failed``, ``capped`` (the time cap came
        before the 95% CI of the median was within 1%), ``noisy`` (IQR > 10% of the median),
        ``warm-up exhausted`` (step times had not settled), ``few samples`` (fewer than
        ``FEW_SAMPLES`` timed), ``oversubscribed`` (other work on the CPU's cores). Empty: converged."""
        if not self.ok:
            return ("failed",)
        out = []
        if self.converged is False:
            out.append("capped")
        if self.noisy:
            out.append("noisy")
        if self.warmup_steady is False:
            out.append("warm-up exhausted")
        if self.step_time_s is not None and self.step_time_s.n < FEW_SAMPLES:
            out.append("few samples")
        if self.oversubscribed:
            out.append("oversubscribed")
        return tuple(out)

    @property
    def verdict(self) -> str:
        """``converged``, or the flags joined (``capped, few samples``)."""
        return ", ".join(self.flags) or "converged"

    @property
    def noisy(self) -> bool | None:
        """IQR / median > 10%, or None when nothing was timed."""
        return None if self.step_time_s is None else self.step_time_s.noisy

    @property
    def throughput_samples_per_s(self) -> float | None:
        """Samples per second: batch size / median synchronised step time."""
        if self.step_time_s is None or self.step_time_s.median <= 0:
            return None
        return self.batch_size / self.step_time_s.median

    @property
    def energy_j_per_sample(self) -> float | None:
        if self.energy_j is None or not self.energy_iterations:
            return None
        return self.energy_j / (self.energy_iterations * self.batch_size)

    @property
    def mean_power_w(self) -> float | None:
        if self.energy_j is None or not self.energy_window_s:
            return None
        return self.energy_j / self.energy_window_s

    @property
    def peak_mem_bytes(self) -> dict:
        return {"allocated": self.peak_mem_allocated_bytes, "reserved": self.peak_mem_reserved_bytes,
                "rss": self.peak_rss_bytes}

    @property
    def key(self) -> tuple:
        """What identifies a point across runs (for comparisons)."""
        return (self.model, self.device, self.task, self.batch_size, self.precision, self.optimizer,
                self.seq_len, self.image_size, self.compile, self.channels_last)

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self, *, samples: bool = True, environment: bool = True) -> dict:
        d: dict = {k: getattr(self, k) for k in RECORD_FIELDS}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "spec":
                v = v.to_dict()
            elif f.name == "step_time_s":
                v = v.to_dict(samples=samples) if v is not None else None
            elif f.name == "environment":
                if not environment:
                    continue
                v = v.to_dict() if v is not None else None
            elif f.name == "notes":
                v = list(v)
            elif f.name == "extra":
                v = dict(v)
            d[f.name] = v
        d.update(noisy=self.noisy, verdict=self.verdict, throughput_samples_per_s=self.throughput_samples_per_s,
                 energy_j_per_sample=self.energy_j_per_sample, mean_power_w=self.mean_power_w,
                 peak_mem_bytes=self.peak_mem_bytes)
        return d

    @classmethod
    def from_dict(cls, d: dict, *, environment: dict | Environment | None = None) -> "Measurement":
        """A Measurement from :meth:`to_dict` output (also records stored before the spec was:
        their workload fields become the spec); ``environment`` fills one stored with the run."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["spec"] = WorkloadSpec.from_record(d)
        if environment is not None and kw.get("environment") is None:
            kw["environment"] = environment
        if isinstance(kw.get("step_time_s"), dict):
            kw["step_time_s"] = Stats.from_dict(kw["step_time_s"])
        if isinstance(kw.get("environment"), dict):
            kw["environment"] = Environment.from_dict(kw["environment"])
        kw["notes"] = tuple(kw.get("notes") or ())
        return cls(**kw)


def stored_measurements(store, ref) -> list[Measurement]:
    """The measurement points of a stored run (``store.measurement_records``) as Measurements,
    each with the run's environment and raw samples."""
    run, records = store.measurement_records(ref)
    env = Environment.from_dict(run.environment) if run.environment else None
    return [Measurement.from_dict(r, environment=env) for r in records]
