"""The systolic engine as a performance model: a catalog entry with ``model = "systolic"``.

A hardware entry that names this model carries its array in a ``[systolic]`` table (rows,
columns, word type, dataflow, the three scratchpads in bytes, the operands that come from
off-chip memory) and its clock in ``compute.clock_hz``; the memory bandwidth, when known,
bounds each layer's off-chip traffic (``NetworkResult.layer_time_s``: the fetch of a fold's
data overlaps the previous fold's compute). TPU v1 is such an entry, and so is every design
saved by ``accelscope simulate --save-design`` or ``accelscope dse --save-design``.

What it predicts, and what it refuses:

* The profile's matrix products, convolutions (forward and backward) and forward attention
  are lowered to GEMM layers (:mod:`.profile_map`) and simulated cycle by cycle with
  SCALE-Sim 3.0.0's model counting what the hardware does (``compat=False``); layers run one
  after another. A matrix op that cannot be lowered (attention backward) makes the model
  refuse the workload rather than drop the op.
* Everything else (norms, activations, pooling, softmax, optimizer updates) is not on the
  array and is not modelled: TPU v1 runs activations and pooling in its activation pipeline
  beside the matrix unit. The Estimate's notes count those ops and their bytes.
* Word size: the array's ``dtype``. An int8 array runs a float profile's shapes quantised to
  int8 (inference only: a training step is refused); a 16- or 32-bit array takes profiles of
  its own width (``auto`` picks one) and refuses others. One array per chip only: a
  ``count`` above 1 needs a split of the work this engine does not model.
"""

from __future__ import annotations

from typing import Any

from accelscope.errors import ConfigError, PredictionError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.estimate import Estimate, OpEstimate
from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.energy import EnergyModel
from accelscope.models.systolic.network import simulate
from accelscope.models.systolic.profile_map import MAPPED_CATEGORIES, op_layers
from accelscope.workload.profile import Profile

MODEL_NAME = "systolic-scalesim/1"
USABLE_MEMORY_FRACTION = 0.9
WORD_BYTES = {"int8": 1, "fp16": 2, "bf16": 2, "fp32": 4}
#: profile precisions each array word type runs as they are (int8 takes any, quantised)
PRECISIONS = {"int8": ("fp32", "tf32", "bf16", "fp16", "amp-fp16", "amp-bf16"),
              "fp16": ("fp16", "amp-fp16"), "bf16": ("bf16", "amp-bf16"), "fp32": ("fp32", "tf32")}
AUTO = {"int8": "fp32", "fp16": "amp-fp16", "bf16": "amp-bf16", "fp32": "fp32"}



def array_config(spec: HardwareSpec) -> ArrayConfig:
    """The :class:`ArrayConfig` of a catalog entry's ``[systolic]`` table, or PredictionError
    saying what the entry lacks."""
    sa = spec.systolic
    if sa is None:
        raise PredictionError(f"{spec.name}: no [systolic] table; the systolic engine needs the array "
                              "(rows, cols, dtype, dataflow, scratchpad sizes) in the hardware file")
    missing = [k for k in ("dataflow", "ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes")
               if getattr(sa, k) is None]
    if missing:
        raise PredictionError(f"{spec.name}: [systolic] lacks {', '.join(missing)}, which the systolic engine needs")
    if sa.dtype not in WORD_BYTES:
        raise PredictionError(f"{spec.name}: systolic dtype {sa.dtype!r} is not one of {', '.join(WORD_BYTES)}")
    if sa.count != 1:
        raise PredictionError(f"{spec.name}: {sa.count} arrays per chip; the systolic engine simulates one "
                              "array and does not model how work is split over several")
    clock = spec.clock_hz.number
    if not clock:
        raise PredictionError(f"{spec.name}: compute.clock_hz is unknown; the systolic engine needs the clock")
    try:
        return ArrayConfig(
            name=spec.name, rows=sa.rows, cols=sa.cols, dataflow=sa.dataflow,
            ifmap_sram_bytes=sa.ifmap_sram_bytes, filter_sram_bytes=sa.filter_sram_bytes,
            ofmap_sram_bytes=sa.ofmap_sram_bytes, word_bytes=WORD_BYTES[sa.dtype], clock_hz=clock,
            dram_bandwidth_bytes_per_s=spec.mem_bandwidth_bytes_per_s.number,
            offchip_operands=sa.offchip_operands or ("ifmap", "filter", "ofmap"), compat=False)
    except ConfigError as exc:
        raise PredictionError(f"{spec.name}: its [systolic] table is not a valid array: {exc}") from exc


def process_node_nm(spec: HardwareSpec) -> float | None:
    """The technology node in nm from ``release.process_node`` (``"28 nm"`` -> 28), or None."""
    v = spec.process_node.value
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        head = v.lower().replace("nm", " ").split()
        try:
            return float(head[0]) if head else None
        except ValueError:
            return None
    return None


class SystolicModel:
    """SCALE-Sim 3.0.0's cycle model of a systolic array (see the module docstring)."""

    name = "systolic"
    version = MODEL_NAME

    def auto_precision(self, spec: HardwareSpec) -> str:
        dtype = spec.systolic.dtype if spec.systolic else "int8"
        return AUTO.get(dtype, "fp32")

    def predict(self, profile: Profile, spec: HardwareSpec, *, calibration: Any = None) -> Estimate:
        cfg = array_config(spec)
        dtype = spec.systolic.dtype
        if dtype == "int8" and profile.task == "train":
            raise PredictionError(f"{spec.name}: an int8 array runs quantised inference; a training step "
                                  "needs fp16, bf16 or fp32 words")
        if profile.precision not in PRECISIONS[dtype]:
            raise PredictionError(f"{spec.name}: the array computes in {dtype}; a {profile.precision} "
                                  f"profile does not run there (give --precision auto or one of "
                                  f"{', '.join(PRECISIONS[dtype])})")
        layers, owners, unmapped = [], [], []  # owners[j]: the index in ``ops`` of layer j's op
        rest_ops = rest_bytes = 0
        ops = [op for op in profile.ops if not op.is_view]
        for i, op in enumerate(ops):
            if op.category not in MAPPED_CATEGORIES:
                rest_ops += op.count
                rest_bytes += op.total_bytes
                continue
            try:
                made = op_layers(op)
            except (ValueError, TypeError, IndexError, KeyError):
                unmapped.append(op.name)
                continue
            layers += made
            owners += [i] * len(made)
        if unmapped:
            raise PredictionError(f"{spec.name}: the systolic engine cannot lower "
                                  f"{', '.join(sorted(set(unmapped)))} onto the array")
        if not layers:
            raise PredictionError(f"{spec.name}: {profile.model} has no matrix products or convolutions "
                                  "for the array to run")
        res = simulate(layers, cfg, EnergyModel(precision=dtype))
        # per op of the profile: time, array time, MACs (its layers, each x its count)
        per_op: dict[int, list[float]] = {}
        by_phase: dict[str, float] = {}
        by_cat: dict[str, float] = {}
        by_bound = {"compute": 0.0, "memory": 0.0, "overhead": 0.0}
        for r, i in zip(res.layers, owners):
            op = ops[i]
            t = res.layer_time_s(r) * r.layer.count
            compute = r.compute_cycles / cfg.clock_hz * r.layer.count
            acc = per_op.setdefault(i, [0.0, 0.0, 0.0])
            acc[0] += t
            acc[1] += compute
            acc[2] += r.macs * r.layer.count
            by_phase[op.phase] = by_phase.get(op.phase, 0.0) + t
            by_cat[op.category] = by_cat.get(op.category, 0.0) + t
            by_bound["memory" if t > compute * (1 + 1e-9) else "compute"] += t
        step = res.time_s
        estimates = []
        for i, (t, compute, macs) in per_op.items():
            op = ops[i]
            estimates.append(OpEstimate(
                name=op.name, category=op.category, phase=op.phase, count=op.count, time_s=t / op.count,
                compute_s=compute / op.count, memory_s=t / op.count if t > compute * (1 + 1e-9) else 0.0,
                overhead_s=0.0, bound="memory" if t > compute * (1 + 1e-9) else "compute",
                efficiency=macs / (t * cfg.peak_macs_per_s) if t else 0.0, unit="matrix"))
        word = cfg.word_bytes
        elem = 4 if profile.precision in ("fp32", "tf32") else 2
        memory = profile.params * word + profile.activation_bytes * word // elem + profile.input_bytes * word // elem
        cap = spec.mem_bytes.number
        dram = (f"DRAM at {cfg.dram_bandwidth_bytes_per_s:.3g} B/s for {'/'.join(cfg.offchip_operands)}"
                if cfg.dram_bandwidth_bytes_per_s else "no DRAM bound (bandwidth unknown: SCALE-Sim's CALC mode)")
        notes = [f"{cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} array, {dtype} words, {dram}"]
        if rest_ops:
            notes.append(f"{rest_ops} non-matrix ops ({rest_bytes / 1e6:.3g} MB moved: norms, activations, "
                         "pooling, softmax, optimizer) are not on the array and not modelled")
        if dtype == "int8":
            notes.append(f"the {profile.precision} workload's matrix products run as int8 (quantised inference)")
        sram_words = {op: getattr(res.sram_reads, op) + getattr(res.sram_writes, op)
                      for op in ("ifmap", "filter", "ofmap")}
        activity = {"macs": res.macs, "sram_words": sram_words,
                    "sram_bytes": {"ifmap": cfg.ifmap_sram_bytes, "filter": cfg.filter_sram_bytes,
                                   "ofmap": cfg.ofmap_sram_bytes},
                    "dram_words": res.dram_reads.total + res.dram_writes.total, "word_dtype": dtype}
        parameters = {"array": cfg.to_dict(), "layers": len(layers), "compute_cycles": res.compute_cycles,
                      "stall_cycles": res.stall_cycles, "utilisation": res.utilisation,
                      "usable_memory_fraction": USABLE_MEMORY_FRACTION,
                      "memory_rule": "weights at the word size + activations and inputs scaled to it"}
        return Estimate(
            hardware=spec.name, kind=spec.kind, spec=profile.spec, precision=dtype, step_time_s=step,
            samples_per_step=profile.samples_per_step, flops=profile.flops, executed_flops=2 * res.macs,
            peak_flops_per_s=2 * cfg.peak_macs_per_s, device_busy_s=step, host_s=0.0,
            bound=max(by_bound, key=lambda b: by_bound[b]), time_by_bound_s=by_bound,
            time_by_category_s=by_cat, time_by_phase_s=by_phase, memory_bytes=int(memory),
            memory_capacity_bytes=int(cap) if cap else None,
            fits_in_memory=None if cap is None else memory <= USABLE_MEMORY_FRACTION * cap,
            model=f"{MODEL_NAME} ({cfg.dataflow} {cfg.rows}x{cfg.cols})", parameters=parameters, mode="compile",
            activity=activity, notes=tuple(notes), ops=tuple(estimates))


def design_toml(cfg: ArrayConfig, *, name: str, node_nm: float, dtype: str, origin: str, date: str) -> str:
    """A hardware catalog file for a custom systolic design (``accelscope predict --hardware
    FILE``, or a file in a ``--hardware-path`` directory): ``kind = "asic"``, ``model =
    "systolic"``, the array in ``[systolic]``, its clock, node and peak. ``origin`` says where
    the design came from (the command that made it); it is every figure's source, since the
    figures are the design's own parameters, not a product's."""
    if WORD_BYTES.get(dtype) != cfg.word_bytes:
        raise ConfigError(f"dtype {dtype!r} does not have {cfg.word_bytes}-byte words")
    peak = 2 * cfg.peak_macs_per_s
    column = "int8" if dtype == "int8" else dtype
    lines = [
        f"# A custom systolic-array design, saved by accelscope on {date}: {origin}.",
        "# Its figures are the design's parameters (not a product's): predict it with",
        f"#   accelscope predict MODEL --hardware {name}.toml",
        'kind = "asic"',
        'vendor = "custom design"',
        f'display_name = "{name}: {cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} array"',
        'model = "systolic"',
        f'notes = ["{cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} systolic array, SRAM '
        f'{cfg.ifmap_sram_bytes // 1024}/{cfg.filter_sram_bytes // 1024}/{cfg.ofmap_sram_bytes // 1024} KiB '
        f'(ifmap/filter/ofmap), {cfg.clock_hz / 1e6:g} MHz, {dtype} words, {node_nm:g} nm."]',
        "",
        "[sources]",
        f'design = "design parameters: {origin} ({date})"',
        "",
        "[peak_flops_per_s]",
        f'{column} = {{ value = {peak:.6g}, source = "design", derived = "2 ops/MAC x {cfg.num_pes} MACs x '
        f'{cfg.clock_hz:.6g} Hz" }}',
        "",
        "[memory]",
        f'onchip_mem_bytes = {{ value = {cfg.ifmap_sram_bytes + cfg.filter_sram_bytes + cfg.ofmap_sram_bytes}, '
        'source = "design", note = "the three scratchpads" }',
    ]
    if cfg.dram_bandwidth_bytes_per_s:
        lines.append(f'mem_bandwidth_bytes_per_s = {{ value = {cfg.dram_bandwidth_bytes_per_s:.6g}, source = "design" }}')
    lines += [
        "",
        "[compute]",
        f'clock_hz = {{ value = {cfg.clock_hz:.6g}, source = "design" }}',
        "",
        "[release]",
        f'process_node = {{ value = "{node_nm:g} nm", source = "design" }}',
        "",
        "[systolic]",
        f"rows = {cfg.rows}",
        f"cols = {cfg.cols}",
        "count = 1",
        f'dtype = "{dtype}"',
        'source = "design"',
        f'dataflow = "{cfg.dataflow}"',
        f"ifmap_sram_bytes = {cfg.ifmap_sram_bytes}",
        f"filter_sram_bytes = {cfg.filter_sram_bytes}",
        f"ofmap_sram_bytes = {cfg.ofmap_sram_bytes}",
        "offchip_operands = [" + ", ".join(f'"{o}"' for o in cfg.offchip_operands) + "]",
        "",
    ]
    return "\n".join(lines)
