"""The per-op roofline as a performance model: CPUs, GPUs, TPUs and commercial ASICs.

:func:`device_rates` reads the figures the roofline needs from a catalog entry (peaks by
dtype, memory bandwidth, compute units); :class:`RooflineModel` runs
:func:`accelscope.models.roofline.estimate_ops` and the step time over them and sums the
ops into an :class:`~accelscope.models.estimate.Estimate`. TPUs and ASICs are predicted at
spec level: their peaks, bandwidth and matrix units, with their kind's default efficiencies
(``roofline.DEFAULTS``). A :class:`Calibrated` (fitted by :mod:`accelscope.models.calibrate`
to the user's own measurements) replaces the defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from typing import Any

from accelscope.errors import PredictionError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models import roofline
from accelscope.models.estimate import Estimate
from accelscope.workload.profile import TENSOR_CATEGORIES, Profile

# 3: achievable ceilings, hosts, execution modes; 4: epilogue fusion, planned buffers, CPU k_half 0
MODEL_NAME = "roofline-wave-overhead/4"
USABLE_MEMORY_FRACTION = 0.9  # CUDA context, allocator fragmentation, workspaces


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibrated:
    """Parameters fitted to measurements of one device (see ``models.calibrate``)."""

    device: str
    params: roofline.RooflineParams
    matrix_scale: float = 1.0
    conv_scale: float | None = None  # convolutions' own matrix scale (None: matrix_scale)
    bandwidth_scale: float = 1.0
    backward_scale: float = 1.0  # device time of backward and optimizer ops, relative
    rates: roofline.DeviceRates | None = None
    fitted_on: int = 0
    median_abs_error: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what the results store keeps)."""
        return {
            "device": self.device, "params": self.params.to_dict(), "matrix_scale": self.matrix_scale,
            "conv_scale": self.conv_scale, "bandwidth_scale": self.bandwidth_scale,
            "backward_scale": self.backward_scale, "rates": asdict(self.rates) if self.rates else None,
            "fitted_on": self.fitted_on, "median_abs_error": self.median_abs_error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Calibrated":
        """A calibration from :meth:`to_dict` output. One stored by an older version lacks the
        parameters added since: they take the defaults of its kind of device (CPUs are the ones
        whose host does not overlap the device); parameters this version does not know are ignored."""
        stored = dict(d["params"])
        kind = "gpu" if stored.get("host_overlaps_device", True) else "cpu"
        known = {f.name for f in fields(roofline.RooflineParams)}
        params = {**asdict(roofline.DEFAULTS[kind]), **{k: v for k, v in stored.items() if k in known}}
        params["tiles"] = tuple(tuple(t) for t in params["tiles"])
        params["scalar_kernels"] = tuple(params["scalar_kernels"])
        return cls(
            device=d["device"], params=roofline.RooflineParams(**params), matrix_scale=d["matrix_scale"],
            conv_scale=d.get("conv_scale"), bandwidth_scale=d["bandwidth_scale"],
            backward_scale=d.get("backward_scale", 1.0),
            rates=roofline.DeviceRates(**d["rates"]) if d.get("rates") else None,
            fitted_on=d["fitted_on"], median_abs_error=d.get("median_abs_error"),
        )



def auto_precision(spec: HardwareSpec) -> str:
    """What a practitioner would run there: fp32 on CPUs, else amp-bf16 where the device has
    a bf16 peak, amp-fp16 where it has an fp16 one, fp32 otherwise."""
    if spec.kind == "cpu":
        return "fp32"
    if spec.peak_flops_per_s("bf16"):
        return "amp-bf16"
    if spec.peak_flops_per_s("fp16"):
        return "amp-fp16"
    return "fp32"


@lru_cache(maxsize=256)
def _gpu_ceilings(spec: HardwareSpec) -> dict[str, Any]:
    """The achievable ceilings of a GPU (measured, or derived by ``hardware.achievable``);
    computed once per spec (``device_rates`` and ``execution`` both read them)."""
    from accelscope.hardware.achievable import device_ceilings

    return device_ceilings(spec)


def device_rates(spec: HardwareSpec, precision: str) -> roofline.DeviceRates:
    """The figures of ``spec`` the roofline needs, or PredictionError naming what is missing.

    GPUs are priced against their *achievable* ceilings (``hardware/achievable.py``: the
    dense GEMM rate a tuned library reaches per precision and the bandwidth a STREAM-like
    kernel reaches, measured or derived); other kinds against their datasheet figures times
    their kind's efficiencies (``roofline.DEFAULTS``).
    """
    achievable = _gpu_ceilings(spec) if spec.kind == "gpu" else None

    def rate(column: str) -> float | None:
        if achievable is not None:
            return achievable[column].number
        return spec.peak_flops_per_s(column)

    fp32 = spec.peak_flops_per_s("fp32")
    matrix: dict[str, float] = {}
    fp32_tensor = False
    if precision == "tf32":
        tf32 = spec.peak("tf32")
        if tf32.flops_per_s and not tf32.fallback:
            matrix["float32"] = rate("tf32") or 0.0
            fp32_tensor = True
    if not matrix.get("float32") and fp32:
        matrix["float32"] = rate("fp32") or 0.0
    for dtype, col in (("bfloat16", "bf16"), ("float16", "fp16"), ("float8_e4m3fn", "fp8"), ("int8", "int8")):
        if spec.peak_flops_per_s(col):
            matrix[dtype] = rate(col) or 0.0
    matrix = {k: v for k, v in matrix.items() if v}
    need = {"fp32": ("float32",), "tf32": ("float32",), "bf16": ("bfloat16",), "amp-bf16": ("bfloat16",),
            "fp16": ("float16",), "amp-fp16": ("float16",),
            "amp-fp8": ("float8_e4m3fn", "bfloat16"), "bf16-fp8": ("float8_e4m3fn", "bfloat16"),
            "w8a8": ("int8", "float32")}[precision]
    for dtype in need:
        if dtype not in matrix:
            peak = spec.peak(precision if dtype == need[0] else "bf16")
            raise PredictionError(f"{spec.name}: no {peak.column} peak ({peak.reason or 'unknown'}); "
                                  f"cannot predict {precision} there")
    bw = (achievable or {}).get("mem_bandwidth_bytes_per_s")
    bw = (bw.number if bw is not None else None) or spec.mem_bandwidth_bytes_per_s.number
    if not bw:
        raise PredictionError(f"{spec.name}: memory bandwidth unknown; add it to the catalog file")
    units = spec.matrix_units.number if spec.kind in ("tpu", "asic") else None
    units = units or spec.compute_units.number
    if spec.systolic is not None and spec.kind == "tpu":
        units = spec.systolic.count or units
    cache, cache_bw = _cpu_cache(spec) if spec.kind == "cpu" else (0, 0.0)
    return roofline.DeviceRates(
        matrix_flops_per_s=matrix, vector_flops_per_s=fp32 or max(matrix.values()) / 8,
        bandwidth_bytes_per_s=bw, compute_units=int(units) if units else 1,
        fp32_is_tensor=fp32_tensor, datasheet_bandwidth_bytes_per_s=spec.mem_bandwidth_bytes_per_s.number or bw,
        cache_bytes=cache, cache_bandwidth_bytes_per_s=cache_bw,
    )


#: Bytes per cycle per core a CPU core's caches sustain: Intel's sustained L2 figure for
#: Skylake, 29 bytes/cycle (peak 64), as quoted and measured by T. Downs, "L2 bandwidth on
#: Skylake", realworldtech.com forum thread 181629 (2018-11-19; Skylake "and later uarches"
#: have the 64-byte L2 interface). Taken for every catalog CPU core (no per-core figure is
#: sourced), at the clock the peaks use.
CPU_CACHE_BYTES_PER_CYCLE = 29.0


def _cpu_cache(spec: HardwareSpec) -> tuple[int, float]:
    """A CPU's last-level cache (``onchip_mem_bytes``) and the rate its cores read and write
    it: an op whose tensors fit streams at ``cores x CPU_CACHE_BYTES_PER_CYCLE x clock``
    instead of DRAM's bandwidth. (0, 0.0) when the cache, the cores or the clock is unknown."""
    size, cores = spec.onchip_mem_bytes.number, spec.compute_units.number
    clock = spec.base_clock_hz.number or spec.clock_hz.number
    if not (size and cores and clock):
        return 0, 0.0
    return int(size), cores * CPU_CACHE_BYTES_PER_CYCLE * clock


#: A CUDA graph's replay costs the host one launch for the whole step: "80 broadcast kernels
#: ... from 260 us to 70 us, with only 3.5 us of CPU time" (CUDA.jl, "CUDA graphs",
#: https://cuda.juliagpu.org/dev/usage/graphs/).
GRAPH_LAUNCH_S = 3.5e-6
#: Vendors whose GPUs replay captured graphs (CUDA graphs; HIP graphs on ROCm).
GRAPH_VENDORS = ("NVIDIA", "AMD")


def execution(spec: HardwareSpec, mode: str, params: roofline.RooflineParams, *, calibrated: bool = False,
              ) -> tuple[roofline.RooflineParams, str, str | None, list[str]]:
    """The parameters of ``params`` for running in ``mode`` on ``spec``, with the host that
    drives it: (params, the mode it runs in, the host's name, notes).

    * TPUs and commercial ASICs always run a compiled graph (XLA, the Neuron, SynapseAI and
      Cerebras graph compilers): element-wise work is fused (``fuse_pointwise``) whatever
      the workload's mode; their per-op terms stay their kind's defaults.
    * GPUs: ``eager``: every op costs the host its eager dispatch (``hardware.hosts``: the
      host's single-thread speed), every kernel at least the device's back-to-back kernel
      time (``kernel_launch_s``); ``cuda-graphs``: no per-op host work, one graph launch per
      step, kernels at the device's graph replay time (``graph_kernel_s``); ``compile``
      (torch.compile's inductor): element-wise ops fused, each remaining kernel launched by
      inductor's Python wrapper at about eager's cost per launch (its default mode gave 1.02x
      eager's speed on overhead-bound ResNet-50 training: pytorch/pytorch PR #98529).
    * CPUs: eager, or compile (a graph compiler or runtime: OpenVINO, inductor): element-wise
      ops fused, inference batch norms folded into their convolutions, buffers planned once
      (no first touch of fresh pages), pooling vectorised; the same cores dispatch and
      compute; no CUDA graphs. Every compiled graph folds inference batch norms.

    A calibration's fitted host overhead (the user's own host) replaces the catalog host's.
    """
    notes: list[str] = []
    kind = spec.kind
    if kind in ("tpu", "asic"):
        if mode != "compile":
            notes.append(f"{spec.name} runs a compiled graph (its vendor's graph compiler): mode compile, "
                         f"not {mode}")
        return (replace(params, fuse_pointwise=True, epilogue_fusion="always", planned_buffers=True), "compile",
                None, notes)
    if mode == "cuda-graphs" and (kind != "gpu" or spec.vendor not in GRAPH_VENDORS):
        raise PredictionError(f"{spec.name}: --mode cuda-graphs replays CUDA/HIP graphs, which only NVIDIA and AMD "
                              "GPUs have; use --mode eager or compile")
    if mode == "compile":
        params = replace(params, fuse_pointwise=True)
        if kind == "cpu":
            # a compiled CPU graph (OpenVINO, inductor) plans its buffers once and vectorises
            # its pooling: no fresh pages per large output, no scalar max-pool loop; its
            # inference graph's element-wise ops run as oneDNN post-ops of the convolution or
            # product before them
            params = replace(params, fresh_alloc_threshold_bytes=0, scalar_kernels=(), epilogue_fusion="inference",
                             planned_buffers=True)
    if kind == "gpu" and spec.architecture in roofline.ARCH_TILES and not calibrated:
        params = replace(params, tiles=roofline.ARCH_TILES[spec.architecture])
    if kind != "gpu":
        return params, mode, None, notes
    from accelscope.hardware.hosts import host_of

    host = host_of(spec)
    achievable = _gpu_ceilings(spec)
    launch = achievable["kernel_launch_s"].number or params.kernel_floor_s
    if mode == "cuda-graphs":
        replay = achievable["graph_kernel_s"].number or launch
        return (replace(params, host_overhead_s=0.0, kernel_floor_s=replay, step_overhead_s=GRAPH_LAUNCH_S),
                mode, host.name, notes)
    per_op = params.host_overhead_s if calibrated else host.eager_op_s.number
    if per_op is None:
        from accelscope.hardware.hosts import load_host

        per_op = load_host("reference").eager_op_s.number
        notes.append(f"host {host.label}: no single-thread score; the reference host's per-op cost is used")
    return replace(params, host_overhead_s=float(per_op), kernel_floor_s=launch), mode, host.name, notes


def _calibrated_rates(spec: HardwareSpec, precision: str, c: Calibrated) -> roofline.DeviceRates:
    rates = c.rates or device_rates(spec, precision)
    return replace(
        rates,
        matrix_flops_per_s={k: v * c.matrix_scale for k, v in rates.matrix_flops_per_s.items()},
        vector_flops_per_s=rates.vector_flops_per_s * c.bandwidth_scale,
        bandwidth_bytes_per_s=rates.bandwidth_bytes_per_s * c.bandwidth_scale,
        cache_bandwidth_bytes_per_s=rates.cache_bandwidth_bytes_per_s * c.bandwidth_scale,
        conv_factor=rates.conv_factor * (c.conv_scale / c.matrix_scale if c.conv_scale else 1.0),
    )


class RooflineModel:
    """The per-op roofline with wave quantisation and launch overhead (``roofline.py``)."""

    name = "roofline"
    version = MODEL_NAME

    def auto_precision(self, spec: HardwareSpec) -> str:
        return auto_precision(spec)

    def predict(self, profile: Profile, spec: HardwareSpec, *, calibration: Calibrated | None = None) -> Estimate:
        """Estimate ``profile`` on ``spec`` (optionally with parameters fitted to measurements)."""
        notes: list[str] = []
        if calibration is not None:
            params = calibration.params
            rates = _calibrated_rates(spec, profile.precision, calibration)
            notes.append(f"calibrated on {calibration.fitted_on} measurements of {calibration.device}")
        else:
            params = roofline.DEFAULTS.get(spec.kind, roofline.DEFAULTS["gpu"])
            rates = device_rates(spec, profile.precision)
        params, mode, host, mode_notes = execution(spec, profile.spec.mode, params,
                                                   calibrated=calibration is not None)
        notes.extend(mode_notes)
        if rates.compute_units <= 1 and spec.kind != "cpu":
            # With one unit every tile count fills whole waves: no quantisation is modelled.
            notes.append("compute-unit count unknown: no wave quantisation")

        ops = roofline.estimate_ops(profile, rates, params)
        if calibration is not None and calibration.backward_scale != 1.0:
            ops = [replace(o, time_s=o.time_s * calibration.backward_scale) if o.phase != "forward" else o
                   for o in ops]
        step_s, device_s, host_s, by_phase = roofline.step_time(ops, params)
        by_bound: dict[str, float] = {"compute": 0.0, "memory": 0.0, "overhead": 0.0}
        by_cat: dict[str, float] = {}
        for o in ops:
            t = o.time_s * o.count
            by_bound[o.bound] += t
            by_cat[o.category] = by_cat.get(o.category, 0.0) + t
        by_bound["overhead"] += step_s - device_s  # the device waiting for the host (or the host's own time)
        bound = max(by_bound, key=lambda b: by_bound[b])
        # FLOPs the device executes: an op run by a cheaper algorithm (Winograd) does fewer
        executed = profile.flops - sum(
            o.count * (op.flops or 0) * (1 - 1 / o.algorithm_speedup)
            for op, o in _matched(profile, ops) if op.category in TENSOR_CATEGORIES and o.algorithm_speedup != 1.0)

        peak = spec.peak_flops_per_s(profile.precision) or None
        mem_cap = spec.mem_bytes.number
        fits = None if mem_cap is None else profile.memory_bytes <= USABLE_MEMORY_FRACTION * mem_cap
        parameters: dict[str, Any] = {
            **params.to_dict(),
            "matrix_flops_per_s": rates.matrix_flops_per_s, "vector_flops_per_s": rates.vector_flops_per_s,
            "bandwidth_bytes_per_s": rates.bandwidth_bytes_per_s, "compute_units": rates.compute_units,
            "usable_memory_fraction": USABLE_MEMORY_FRACTION,
        }
        return Estimate(
            hardware=spec.name, kind=spec.kind, spec=profile.spec, precision=profile.precision,
            step_time_s=step_s, samples_per_step=profile.samples_per_step, flops=profile.flops,
            executed_flops=int(round(executed)), peak_flops_per_s=peak, device_busy_s=device_s, host_s=host_s,
            bound=bound, time_by_bound_s=by_bound, time_by_category_s=by_cat, time_by_phase_s=by_phase,
            memory_bytes=profile.memory_bytes, memory_capacity_bytes=int(mem_cap) if mem_cap else None,
            fits_in_memory=fits, model=MODEL_NAME, parameters=parameters, calibrated=calibration is not None,
            mode=mode, host=host, notes=tuple(notes), ops=tuple(ops),
        )


def _matched(profile: Profile, ops):
    """(profile op, its estimate) pairs: ``estimate_ops`` returns one estimate per non-view op,
    in order."""
    return zip((op for op in profile.ops if not op.is_view), ops)
