"""The result of a performance model: an Estimate of one workload on one hardware spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accelscope.workload.spec import WorkloadSpec


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
    """Predicted step time, throughput, utilisation, bounds and memory of one workload on
    one device: time only (energy, money and carbon are :func:`accelscope.cost.price`'s).

    ``model`` and ``parameters`` say which performance model made it and with which
    parameters; ``calibrated`` says whether those came from the user's own measurements.
    ``flops`` are the model's matmul/convolution/attention FLOPs as the profile counts them;
    ``executed_flops`` what the device executes (fewer where an algorithm such as Winograd
    does less arithmetic), which :attr:`mfu` divides, so an MFU is never above 1; the credit
    shows in :attr:`effective_flops_per_s` instead. ``activity`` holds the action counts a
    per-action energy model prices (the systolic engine's MACs and SRAM/DRAM words), empty
    for models that have none.
    """

    hardware: str
    kind: str
    spec: WorkloadSpec
    precision: str  # what the device runs (w8a8 for an FPGA design, int8 for a systolic array)
    step_time_s: float
    samples_per_step: int
    flops: int
    executed_flops: int
    peak_flops_per_s: float | None
    device_busy_s: float
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
    #: how the step runs there (``WorkloadSpec.mode``, or ``compile`` where the device always
    #: runs a compiled graph) and the host that drives the device (None: no host term)
    mode: str = "eager"
    host: str | None = None
    activity: dict[str, Any] = field(default_factory=dict)
    #: several devices (``models.distributed``): how many, and the iteration's terms, each
    #: per device; ``samples_per_step``, ``flops`` and ``tokens_per_step`` are global
    devices: int = 1
    compute_s: float | None = None
    communication_s: float | None = None
    exposed_communication_s: float | None = None
    bubble_s: float | None = None
    tokens_per_step: int | None = None
    #: serving (``models.serving``): time to the first token and per output token after it;
    #: ``tokens_per_step`` then counts output tokens, ``samples_per_step`` requests
    ttft_s: float | None = None
    tpot_s: float | None = None
    notes: tuple[str, ...] = ()
    ops: tuple[OpEstimate, ...] = field(default=(), repr=False)

    @property
    def workload(self) -> str:
        return self.spec.model

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def batch_size(self) -> int:
        return self.spec.batch_size or 1

    @property
    def throughput_samples_per_s(self) -> float:
        return self.samples_per_step / self.step_time_s

    @property
    def effective_flops_per_s(self) -> float:
        """Model FLOPs per second (above the peak where an algorithm does less arithmetic)."""
        return self.flops / self.step_time_s

    @property
    def mfu(self) -> float | None:
        """Model FLOPs utilisation: the matmul/conv/attention FLOPs the device executes per
        second over its dense peak (never above 1)."""
        if not self.peak_flops_per_s:
            return None
        return self.executed_flops / self.step_time_s / self.peak_flops_per_s / self.devices

    @property
    def tokens_per_s(self) -> float | None:
        """Tokens per second over all devices (token models predicted on several devices)."""
        return None if self.tokens_per_step is None else self.tokens_per_step / self.step_time_s

    @property
    def e2e_latency_s(self) -> float | None:
        """Serving: a request's time from its arrival to its last token (no queueing)."""
        if self.ttft_s is None or self.tpot_s is None:
            return None
        out = self.spec.output_tokens or 1
        return self.ttft_s + (out - 1) * self.tpot_s

    @property
    def scaling_efficiency(self) -> float | None:
        """The fraction of the iteration each device spends computing (1: communication and
        the pipeline's bubble cost nothing); for pure data parallelism, t(1 device) / t(N)."""
        return None if self.compute_s is None else min(1.0, self.compute_s / self.step_time_s)

    def to_dict(self, include_ops: bool = False) -> dict[str, Any]:
        d = {
            "hardware": self.hardware, "kind": self.kind, "workload": self.workload, "task": self.task,
            "batch_size": self.batch_size, "precision": self.precision, "spec": self.spec.to_dict(),
            "step_time_s": self.step_time_s, "throughput_samples_per_s": self.throughput_samples_per_s,
            "mfu": self.mfu, "flops": self.flops, "executed_flops": self.executed_flops,
            "effective_flops_per_s": self.effective_flops_per_s, "peak_flops_per_s": self.peak_flops_per_s,
            "device_busy_s": self.device_busy_s, "host_s": self.host_s, "bound": self.bound,
            "time_by_bound_s": self.time_by_bound_s, "time_by_category_s": self.time_by_category_s,
            "time_by_phase_s": self.time_by_phase_s,
            "memory_bytes": self.memory_bytes, "memory_capacity_bytes": self.memory_capacity_bytes,
            "fits_in_memory": self.fits_in_memory, "model": self.model, "parameters": self.parameters,
            "calibrated": self.calibrated, "mode": self.mode, "host": self.host,
            "activity": self.activity, "notes": list(self.notes),
        }
        if self.ttft_s is not None:
            sv = self.parameters.get("serving", {})
            d.update(devices=self.devices, ttft_s=self.ttft_s, tpot_s=self.tpot_s, e2e_latency_s=self.e2e_latency_s,
                     output_tokens_per_s=self.tokens_per_s, output_tokens_per_s_per_device=self.tokens_per_s / self.devices,
                     requests_per_s=self.throughput_samples_per_s, max_batch_that_fits=sv.get("max_batch_that_fits"),
                     serving=sv)
        if self.compute_s is not None:
            d.update(devices=self.devices, parallel=self.parameters.get("parallel"), tokens_per_s=self.tokens_per_s,
                     scaling_efficiency=self.scaling_efficiency, compute_s=self.compute_s,
                     communication_s=self.communication_s, exposed_communication_s=self.exposed_communication_s,
                     bubble_s=self.bubble_s)
        if include_ops:
            d["ops"] = [o.to_dict() for o in self.ops]
        return d
