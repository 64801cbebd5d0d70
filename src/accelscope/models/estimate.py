"""The result of a performance model: an Estimate of one workload on one hardware spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class OpEstimate:
    """Predicted time of one (aggregated) op: ``time_s`` is per occurrence."""

    name: str
    category: str
    phase: str
    count: int
    time_s: float
    compute_s: float
    memory_s: float
    overhead_s: float
    bound: str  # "compute", "memory" or "overhead"
    efficiency: float  # achieved fraction of peak for the compute term
    unit: str = "vector"  # "matrix" (tensor cores, systolic arrays) or "vector"
    alloc_s: float = 0.0  # first touch of freshly allocated output pages (CPUs), in time_s
    layout_s: float = 0.0  # NCHW <-> NHWC transposes around a tensor-core convolution, in time_s
    dnn_library: bool = False  # matrix work in the DNN library (convolutions, fused RNN layers)
    #: An algorithm that does less arithmetic than the profile counts (Winograd convolutions):
    #: the op executes ``flops / algorithm_speedup``; ``efficiency`` is the fraction of the
    #: peak that executed work reaches, so it never exceeds 1.
    algorithm_speedup: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """Predicted step time, throughput, utilisation, memory, energy and cost.

    ``model`` and ``parameters`` say which performance model made it and with which
    parameters; ``calibrated`` says whether those came from the user's own measurements.
    """

    hardware: str
    kind: str
    workload: str
    task: str
    batch_size: int
    precision: str
    step_time_s: float
    samples_per_step: int
    flops: int
    peak_flops_per_s: float | None
    gpu_busy_s: float
    host_s: float
    bound: str
    time_by_bound_s: dict[str, float]
    time_by_category_s: dict[str, float]
    time_by_phase_s: dict[str, float]
    memory_bytes: int
    memory_capacity_bytes: int | None
    fits_in_memory: bool | None
    model: str
    parameters: dict[str, Any]
    calibrated: bool = False
    # Filled in by accelscope.cost (energy and money), None until then.
    power_w: float | None = None
    energy_j_per_step: float | None = None
    energy_method: str = "unavailable: not priced"
    usd_per_hour: float | None = None
    usd_per_million_samples: float | None = None
    offering: str | None = None
    price_date: str | None = None
    notes: tuple[str, ...] = ()
    ops: tuple[OpEstimate, ...] = field(default=(), repr=False)

    @property
    def throughput_samples_per_s(self) -> float:
        return self.samples_per_step / self.step_time_s

    @property
    def mfu(self) -> float | None:
        """Model FLOPs utilisation: matmul/conv/attention FLOPs per second over the dense peak."""
        if not self.peak_flops_per_s:
            return None
        return self.flops / self.step_time_s / self.peak_flops_per_s

    @property
    def energy_j_per_sample(self) -> float | None:
        return None if self.energy_j_per_step is None else self.energy_j_per_step / self.samples_per_step

    def usd_for_samples(self, samples: float) -> float | None:
        """Cost of processing ``samples`` samples (e.g. a training run) at the cheapest offering."""
        if self.usd_per_million_samples is None:
            return None
        return self.usd_per_million_samples * samples / 1e6

    def to_dict(self, include_ops: bool = False) -> dict[str, Any]:
        d = {
            "hardware": self.hardware, "kind": self.kind, "workload": self.workload, "task": self.task,
            "batch_size": self.batch_size, "precision": self.precision,
            "step_time_s": self.step_time_s, "throughput_samples_per_s": self.throughput_samples_per_s,
            "mfu": self.mfu, "flops": self.flops, "peak_flops_per_s": self.peak_flops_per_s,
            "gpu_busy_s": self.gpu_busy_s, "host_s": self.host_s, "bound": self.bound,
            "time_by_bound_s": self.time_by_bound_s, "time_by_category_s": self.time_by_category_s,
            "time_by_phase_s": self.time_by_phase_s,
            "memory_bytes": self.memory_bytes, "memory_capacity_bytes": self.memory_capacity_bytes,
            "fits_in_memory": self.fits_in_memory, "power_w": self.power_w,
            "energy_j_per_step": self.energy_j_per_step, "energy_j_per_sample": self.energy_j_per_sample,
            "energy_method": self.energy_method, "usd_per_hour": self.usd_per_hour,
            "usd_per_million_samples": self.usd_per_million_samples, "offering": self.offering,
            "price_date": self.price_date, "model": self.model, "parameters": self.parameters,
            "calibrated": self.calibrated, "notes": list(self.notes),
        }
        if include_ops:
            d["ops"] = [o.to_dict() for o in self.ops]
        return d
