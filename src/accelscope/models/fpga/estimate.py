"""``fpga_estimate(profile, spec, **options) -> Estimate``: FPGA rows next to GPUs.

Two styles:

* ``style="dataflow"`` (default): one pipeline stage per layer (FINN, or hls4ml with
  ``framework="hls4ml"``). Folding: explicit ``folds``, a ``reuse_factor`` for every layer
  (hls4ml; invalid ones are replaced by hls4ml's closest valid value, said in the notes), a
  ``target_fps``, or by default the fastest folding that fits the device.
* ``style="overlay"``: a DPU-style processor (:mod:`.overlay`), by default the board's
  reference integration (ZCU102: 3 x B4096 at 281 MHz) or one B4096 core.

What the Estimate holds: ``step_time_s`` is the time per frame at steady state
(``1 / throughput``; ``samples_per_step = 1``), ``parameters["latency_s"]`` the batch-1
latency, ``fits_in_memory`` whether the design's resources fit the device (``None`` when a
budget figure is unknown), ``peak_flops_per_s`` the design's own peak (2 ops per multiplier
per clock), ``memory_bytes`` the on-chip weight bytes. Energy is not the model's: :func:`accelscope.cost.price`
charges the board power (``Assumptions(power_w=...)`` or the catalog's ``tdp_w``) over the
time per frame, the device being busy the whole frame.

:class:`FpgaModel` is the performance model ``predict`` and ``explore`` use for FPGA entries:
the fastest FINN-style dataflow design (8-bit weights and activations) that fits the device,
or a DPU-style overlay when no dataflow design fits; a board whose resource counts the
catalog lacks is refused (no design can be folded to fit an unknown budget).
"""

from __future__ import annotations

from typing import Sequence

from accelscope.errors import AccelscopeError, ConfigError, PredictionError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.estimate import Estimate
from accelscope.models.fpga import overlay as ov
from accelscope.models.fpga import resources as R
from accelscope.models.fpga.dataflow import (
    DataflowResult,
    DesignOptions,
    LayerFold,
    LayerSpec,
    closest_reuse_factor,
    dataflow,
    hls4ml_dims,
    is_valid_reuse_factor,
)
from accelscope.models.fpga.folding import fastest_that_fits, fold_to_target, worst_resource
from accelscope.models.fpga.network import layers_from_profile
from accelscope.workload.profile import Profile
from accelscope.workload.spec import WorkloadSpec

DATAFLOW_MODEL = "fpga-dataflow/1"
OVERLAY_MODEL = "fpga-overlay-dpu/2"  # 2: each DPUCZDX8G core at its measured DDR rate and engine ceiling
#: Fabric clock when neither the option nor the catalog gives one: FINN's and hls4ml's usual
#: 200 MHz target (5 ns period; FINN paper prototypes, hls4ml jet tagger).
DEFAULT_FABRIC_CLOCK_HZ = 200e6



def fpga_estimate(workload: Profile | Sequence[LayerSpec], spec: HardwareSpec, *,
                  style: str = "dataflow", framework: str = "finn", w_bits: int = 8, a_bits: int = 8,
                  first_layer_a_bits: int | None = None, target_fps: float | None = None,
                  reuse_factor: int | None = None, folds: Sequence[LayerFold] | None = None,
                  resource_type: str = "auto", mem_style: str = "auto", clock_hz: float | None = None,
                  utilisation: float = 0.8, dpu_arch: str | None = None, dpu_cores: int | None = None,
                  workload_name: str | None = None) -> Estimate:
    """Estimate ``workload`` (a Profile or a list of layers) on the FPGA ``spec``.

    Raises ConfigError for a non-FPGA spec, a training profile, invalid folding, or
    conflicting options (give at most one of ``folds``, ``reuse_factor``, ``target_fps``).
    """
    if spec.kind != "fpga":
        raise ConfigError(f"{spec.name} is a {spec.kind}; fpga_estimate needs an FPGA "
                          "(`accelscope hardware list --kind fpga`)")
    if sum(x is not None for x in (folds, reuse_factor, target_fps)) > 1:
        raise ConfigError("give at most one of folds, reuse_factor and target_fps")
    notes: list[str] = []
    if isinstance(workload, Profile):
        layers, skipped = layers_from_profile(workload, overlay=style == "overlay")
        name, task = workload.model, workload.task
        if skipped:
            notes.append(f"not mapped to FPGA stages (excluded from the estimate): {', '.join(skipped)}")
    else:
        layers, name, task = list(workload), workload_name or "layers", "infer"
    notes.append("activations and norms are assumed fused" if style == "overlay" and isinstance(workload, Profile)
                 else "pooling, activations and norms are assumed fused or not limiting")
    if style == "overlay":
        if isinstance(workload, Profile):
            host = ov.host_ops(workload)
            if host:
                raise PredictionError(f"{name}: {', '.join(host)} run on the host CPU, not on a Vitis AI DPU (its "
                                      "engines have no such activation or norm); the graph would be split between "
                                      "DPU and CPU, which the overlay model does not estimate. Use --style dataflow")
        return _overlay_estimate(layers, spec, workload, name, task, notes, dpu_arch, dpu_cores, clock_hz)
    if style != "dataflow":
        raise ConfigError(f"style {style!r} is not one of dataflow, overlay")
    clock = clock_hz or DEFAULT_FABRIC_CLOCK_HZ
    if clock_hz is None:
        notes.append(f"fabric clock {clock / 1e6:.0f} MHz assumed (the usual FINN/hls4ml target); "
                     "set it with --clock-mhz (clock_hz in Python)")
    opts = DesignOptions(framework=framework, w_bits=w_bits, a_bits=a_bits,
                         first_layer_a_bits=first_layer_a_bits, resource_type=resource_type,
                         mem_style=mem_style, clock_hz=clock)
    budget = R.budget_from_spec(spec, utilisation)
    if folds is None and reuse_factor is None and all(getattr(budget, k) is None for k in ("lut", "dsp", "bram36",
                                                                                          "uram")):
        raise PredictionError(unknown_resources(spec.name, name))
    if reuse_factor is not None:
        if framework != "hls4ml":
            raise ConfigError("reuse_factor is an hls4ml setting; pass framework='hls4ml' "
                              "(or folds with pe/simd for FINN)")
        folds = []
        for l in layers:
            n_in, n_out = hls4ml_dims(l)
            rf = reuse_factor if is_valid_reuse_factor(n_in, n_out, reuse_factor) else \
                closest_reuse_factor(n_in, n_out, reuse_factor)
            if rf != reuse_factor:
                notes.append(f"{l.name}: reuse factor {reuse_factor} invalid for n_in={n_in}, "
                             f"n_out={n_out}; hls4ml's closest valid {rf} used")
            folds.append(LayerFold(reuse_factor=rf))
    if folds is not None:
        design = dataflow(layers, folds, opts)
        util = budget.fractions(design.resources)
        fits = all(v is None or v <= 1 for v in util.values())
        limited = f"{'fits' if fits else 'does not fit'}: highest use {worst_resource(util)}"
        how = "given folding"
    elif target_fps is not None:
        fr = fold_to_target(layers, opts, budget, target_fps)
        design, util, fits, limited, how = fr.design, fr.utilisation, fr.fits, fr.limited_by, \
            f"folded for {target_fps:g} fps"
    else:
        fr = fastest_that_fits(layers, opts, budget)
        design, util, fits, limited, how = fr.design, fr.utilisation, fr.fits, fr.limited_by, \
            "fastest folding that fits"
    return _dataflow_estimate(design, spec, workload, name, task, notes, budget, util, fits, limited, how)


def unknown_resources(device: str, model: str) -> str:
    """The one answer for a board whose resource counts the catalog lacks (``fpga`` and ``predict``)."""
    return (f"{device}: not estimable, its resource counts are not in the catalog, so no design can be folded to fit "
            f"it; size one by hand: `accelscope fpga {model} --device {device} --fold FILE` (per-layer pe/simd) or "
            "--reuse-factor N")


def fit_summary(util: dict[str, float | None], fits: bool | None) -> str:
    """``"fits (LUT 63% of budget)"`` / ``"does not fit (LUT 132% of budget)"``."""
    if fits is None:
        return f"fit unknown ({worst_resource(util)})"
    return f"{'fits' if fits else 'does not fit'} ({worst_resource(util)})"


def _spec_of(workload, name: str, task: str) -> WorkloadSpec:
    """The workload spec of a Profile, or a spec naming a layer list (not re-loadable)."""
    return workload.spec if isinstance(workload, Profile) else WorkloadSpec(model=name, task=task, batch_size=1)


def _dataflow_estimate(design: DataflowResult, spec, workload, name, task, notes, budget, util, fits,
                       limited, how) -> Estimate:
    step = 1.0 / design.throughput_fps
    res = design.resources
    if any(v is None for v in util.values()) and fits:
        fits_flag: bool | None = None
        notes.append("some resource counts of this device are unknown: fit not fully checked")
    else:
        fits_flag = fits
    notes.append(f"{fit_summary(util, fits_flag)}; {limited}")
    notes.append(f"bottleneck: {design.bottleneck}")
    for lr in design.layers:
        notes.extend(f"{lr.layer.name}: {n}" for n in lr.notes)
    by_cat: dict[str, float] = {}
    for lr in design.layers:
        key = "conv" if lr.layer.kind in ("conv", "depthwise") else ("matmul" if lr.layer.kind == "dense" else "other")
        by_cat[key] = by_cat.get(key, 0.0) + lr.cycles / design.clock_hz
    onchip = (budget.bram36 or 0) * 36 * 1024 // 8 + (budget.uram or 0) * 288 * 1024 // 8
    weight_bytes = sum(lr.layer.weights for lr in design.layers) * design.options.w_bits // 8
    params = {
        "style": "dataflow", **design.options.to_dict(), "folding": how,
        "latency_s": design.latency_s, "latency_cycles": design.latency_cycles,
        "ii_cycles": design.ii_cycles, "throughput_fps": design.throughput_fps,
        "resources": res.to_dict(), "utilisation": util, "budget_fraction": budget.utilisation,
        "limited_by": limited, "bottleneck": design.bottleneck,
        "layers": [lr.to_dict() for lr in design.layers],
    }
    return Estimate(
        hardware=spec.name, kind="fpga", spec=_spec_of(workload, name, task),
        precision=f"w{design.options.w_bits}a{design.options.a_bits}", step_time_s=step,
        samples_per_step=1, flops=2 * design.macs, executed_flops=2 * design.macs,
        peak_flops_per_s=2.0 * res.multipliers * design.clock_hz,
        device_busy_s=step, host_s=0.0, bound="compute", time_by_bound_s={"compute": step},
        time_by_category_s=by_cat, time_by_phase_s={"forward": step}, memory_bytes=weight_bytes,
        memory_capacity_bytes=int(onchip) if onchip else None, fits_in_memory=fits_flag,
        model=f"{DATAFLOW_MODEL} ({design.options.framework})", parameters=params, mode="compile",
        notes=tuple(notes))


def _overlay_estimate(layers, spec, workload, name, task, notes, arch, cores, clock_hz) -> Estimate:
    part = spec.fpga.part if spec.fpga is not None else None
    ov.check_board(spec.name, part, arch)
    family = ov.dpu_family(part)
    board = ov.board_default(spec.name) or {}
    if not board and family != ov.MODELLED_FAMILY and (arch is None or cores is None or clock_hz is None):
        raise ConfigError(f"no reference {family} integration is recorded for {spec.name}: give --dpu, --cores and "
                          "--clock-mhz of the design you mean (its engines per card and clock)")
    arch = arch or board.get("arch", "B4096")
    cores = cores or board.get("cores", 1)
    clock = clock_hz or board.get("clock_hz") or spec.clock_hz.number or 300e6
    alu_clock = board.get("alu_clock_hz") if clock_hz is None else None
    if not board and clock_hz is None:
        notes.append(f"no reference DPU integration recorded for {spec.name}: {cores} x {arch} "
                     f"at {clock / 1e6:.0f} MHz assumed")
    bw = spec.mem_bandwidth_bytes_per_s.number
    if bw is None and family != ov.MODELLED_FAMILY:
        raise PredictionError(f"{spec.name}: memory bandwidth unknown, so its {family} DPU's layers cannot be bounded "
                              "by memory; add mem_bandwidth_bytes_per_s (with its source) to the board's catalog file")
    if bw is None:
        bw = ov.ZYNQ_US_DDR4_BYTES_PER_S
        notes.append("DDR bandwidth not in the catalog: Zynq UltraScale+ PS DDR4-2400 x64 "
                     "(19.2 GB/s, AMD DS925) assumed")
    cfg = ov.OverlayConfig(arch=arch, cores=cores, clock_hz=clock, ddr_bandwidth_bytes_per_s=bw,
                           alu_clock_hz=alu_clock)
    res = ov.overlay(layers, cfg)
    core = ov.core_resources(arch, board.get("uram_banks") if arch == board.get("arch") else None)
    fits: bool | None = None
    util: dict[str, float | None] = {}
    if core is not None:
        budget = R.budget_from_spec(spec, 1.0)
        util = budget.fractions(core.scaled(cores))
        fits = None if any(v is None for v in util.values()) else all(v <= 1 for v in util.values())
        notes.append(fit_summary(util, fits))
    else:
        notes.append(f"per-core resources of {arch} not sourced: fit not checked")
    step = 1.0 / res.fps_multi_thread
    mem_bound = sum(l.time_s for l in res.layers if l.bound == "memory")
    params = {"style": "overlay", **cfg.to_dict(), "latency_s": res.latency_s,
              "fps_single_thread": res.fps_single_thread, "fps_multi_thread": res.fps_multi_thread,
              "efficiency": res.efficiency, "utilisation": util,
              "layers": [l.to_dict() for l in res.layers]}
    notes.append(f"array efficiency {res.efficiency:.0%} at batch 1 (one core)")
    return Estimate(
        hardware=spec.name, kind="fpga", spec=_spec_of(workload, name, task), precision="int8",
        step_time_s=step, samples_per_step=1, flops=2 * res.macs, executed_flops=2 * res.macs,
        peak_flops_per_s=cfg.peak_ops_per_s,
        device_busy_s=step, host_s=0.0, bound="memory" if mem_bound > res.latency_s / 2 else "compute",
        time_by_bound_s={"memory": mem_bound, "compute": res.latency_s - mem_bound},
        time_by_category_s={}, time_by_phase_s={"forward": res.latency_s},
        memory_bytes=sum(l.layer.weights for l in res.layers), memory_capacity_bytes=_int(spec.mem_bytes),
        fits_in_memory=fits, model=f"{OVERLAY_MODEL} ({cores}x{arch})", parameters=params, mode="compile",
        notes=tuple(notes))


def _int(fig) -> int | None:
    v = fig.number
    return int(v) if v else None



class FpgaModel:
    """FPGA entries in ``predict`` and ``explore`` (see the module docstring)."""

    name = "fpga"
    version = DATAFLOW_MODEL

    def auto_precision(self, spec: HardwareSpec) -> str:
        return "fp32"  # the profile's shapes; the design runs them at 8-bit weights and activations

    def predict(self, profile: Profile, spec: HardwareSpec, *, calibration=None) -> Estimate:
        e = fpga_estimate(profile, spec)
        if e.fits_in_memory is False:
            # Too big for one stage per layer: a DPU-style overlay processor runs any size.
            try:
                overlay = fpga_estimate(profile, spec, style="overlay")
            except AccelscopeError:
                overlay = None
            if overlay is not None and overlay.fits_in_memory is not False:
                e = overlay
        if e.fits_in_memory is None:
            raise PredictionError(unknown_resources(spec.name, profile.model))
        return e
