"""Achievable ceilings: what a device reaches, not what its datasheet promises.

A datasheet peak is a clock times a unit count; no library reaches it. The roofline divides
by *achievable* ceilings instead:

* **matrix**: the dense GEMM throughput per precision a tuned library (cuBLAS, hipBLASLt)
  reaches on the best large shapes, as published by a microbenchmark (for example the
  "maximum achievable matmul FLOPS" tables, which sweep shapes and keep the best);
* **memory**: the bandwidth a STREAM-like copy/triad kernel reaches.

A file's ``[achievable]`` table holds measured figures, each with its source. Where a
device has none for a precision, the figure is **derived** by a stated rule, and says so
(``Figure.derived``) and names the measurements it came from:

0. *the device itself*: its own measured fraction (measured / dense peak) in a precision its
   units run at the same datasheet rate (BF16 from its FP16 and back, FP8 and INT8);
1. *same architecture*: the median fraction of the measured cards of the device's
   architecture in that precision (same tensor cores, same libraries), else in the nearest
   precision class (16-bit tensor <-> TF32 <-> FP8, FP32 SIMT alone);
2. *same vendor*: the median fraction of the vendor's measured cards, by the same order;
3. *any GPU*: the median fraction of every measured card, by the same order.

A fraction is at most 1: a card measured above its datasheet (GeForce cards boost above the
reference clock their peaks assume) counts as reaching its peak.

Memory bandwidth follows the same rule keyed by memory type (HBM2, HBM2e, HBM3, GDDR6, ...):
the controller and DRAM technology, not the core, set the achieved fraction. The shortest
time per kernel of back-to-back tiny kernels (``kernel_launch_s``, and ``graph_kernel_s``
when replayed from a CUDA/HIP graph) is measured, else the median of the vendor's measured
devices.

The fractions are computed from the catalog's own measured figures on every call; nothing
here is fitted to throughput rows.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from accelscope.hardware.schema import PEAK_COLUMNS, Figure, HardwareSpec

#: Precisions whose matrix work shares the same units: a fraction measured in one class stands
#: in for another of the same unit only when that class has no measurement on the architecture.
TENSOR_CLASSES = {"bf16": ("bf16", "fp16", "tf32", "fp8", "int8"), "fp16": ("fp16", "bf16", "tf32", "fp8", "int8"),
                  "tf32": ("tf32", "bf16", "fp16"), "fp8": ("fp8", "int8", "bf16", "fp16"),
                  "int8": ("int8", "fp8", "bf16", "fp16"), "fp32": ("fp32",), "fp64": ("fp64",)}
#: Precisions a device runs on the same units at the same datasheet rate (the same kernels
#: with another input format): a measurement of one is the device's own figure for the other.
SAME_RATE = {"bf16": ("fp16",), "fp16": ("bf16",), "fp8": ("int8",), "int8": ("fp8",)}
BANDWIDTH = "mem_bandwidth_bytes_per_s"
#: Per-kernel times (no datasheet figure to take a fraction of): measured, else a median.
TIMES = ("kernel_launch_s", "graph_kernel_s")


@dataclass(frozen=True, slots=True)
class Fraction:
    value: float
    devices: tuple[str, ...]
    what: str  # "Ampere bf16", "HBM2e memory", ...


def _peak(spec: HardwareSpec, column: str) -> float | None:
    if column == BANDWIDTH:
        return spec.mem_bandwidth_bytes_per_s.number
    fig = spec.dense_peaks.column(column)
    return fig.number


def measured(spec: HardwareSpec, column: str) -> Figure | None:
    """The file's own measured figure for ``column`` (a precision or the bandwidth), or None."""
    fig = getattr(spec.measured_ceilings, column)
    return fig if fig.known else None


def _fraction(specs: Iterable[HardwareSpec], column: str, what: str) -> Fraction | None:
    pairs = []
    for s in specs:
        fig, peak = measured(s, column), _peak(s, column)
        if fig is not None and peak:
            pairs.append((s.name, min(fig.number / peak, 1.0)))  # a card boosting above its datasheet: 1
    if not pairs:
        return None
    return Fraction(statistics.median(f for _, f in pairs), tuple(n for n, _ in pairs), what)


def _memory_type(spec: HardwareSpec) -> str | None:
    v = spec.mem_type.value
    return str(v).split()[0].upper() if v else None


def derivation(spec: HardwareSpec, column: str, catalog: Iterable[HardwareSpec]) -> Fraction | None:
    """The fraction of ``spec``'s datasheet figure the rule of the module docstring gives."""
    peers = [s for s in catalog if s.kind == spec.kind and s.name != spec.name]
    if column == BANDWIDTH:
        mt = _memory_type(spec)
        same = [s for s in peers if mt and _memory_type(s) == mt]
        return (_fraction(same, column, f"{mt} memory") if same else None) or _fraction(peers, column, f"every {spec.kind}")
    for c in SAME_RATE.get(column, ()):  # the same units at the same datasheet rate, measured
        f = _fraction([spec], c, f"{spec.name}'s own {c}")
        if f is not None:
            return f
    levels = []
    if spec.architecture:
        levels.append(([s for s in peers if s.architecture == spec.architecture], spec.architecture))
    levels.append(([s for s in peers if s.vendor == spec.vendor], spec.vendor))
    levels.append((peers, f"every {spec.kind}"))
    for group, label in levels:
        for c in TENSOR_CLASSES.get(column, (column,)):
            f = _fraction(group, c, f"{label} {c}")
            if f is not None:
                return f
    return None


def _time(spec: HardwareSpec, column: str, catalog: Iterable[HardwareSpec]) -> Figure:
    """A per-kernel time (``kernel_launch_s``, ``graph_kernel_s``): measured, else the median
    of the vendor's measured devices, else of every measured device of the kind."""
    fig = measured(spec, column)
    if fig is not None:
        return fig
    peers = [s for s in catalog if s.kind == spec.kind and s.name != spec.name]
    for group, label in (([s for s in peers if s.vendor == spec.vendor], f"{spec.vendor} devices"),
                         (peers, f"{spec.kind} devices of every vendor")):
        pairs = [(s.name, measured(s, column).number) for s in group if measured(s, column) is not None]
        if pairs:
            names = ", ".join(n for n, _ in pairs)
            value = statistics.median(v for _, v in pairs)
            return Figure(value=value, source=f"derived from the measurements of {names}",
                          derived=f"the median of the measured {label} ({names})")
    return Figure(reason=f"no measured {column} on any comparable device")


def ceiling(spec: HardwareSpec, column: str, catalog: Iterable[HardwareSpec]) -> Figure:
    """The achievable ceiling of ``column`` (a precision column, ``mem_bandwidth_bytes_per_s``
    or a per-kernel time): the measured figure, else one derived by the module's rule, else
    unknown (no datasheet figure, or nothing measured to derive from)."""
    if column in TIMES:
        return _time(spec, column, catalog)
    fig = measured(spec, column)
    peak = _peak(spec, column)
    if fig is not None:
        if peak and fig.number > peak:
            # GeForce cards boost above the reference clock their datasheet peak assumes: the
            # roofline's ceiling stays the peak, so an MFU never exceeds 1
            return Figure(value=peak, source=fig.source, note=fig.note,
                          derived=f"the datasheet figure: the measured {fig.number:.4g} is above it")
        return fig
    if not peak:
        return Figure(reason=f"no datasheet {column} figure to derive from")
    f = derivation(spec, column, catalog)
    if f is None:
        return Figure(reason=f"no measured {column} ceiling on any comparable device")
    names = ", ".join(f.devices)
    return Figure(value=peak * f.value, source=f"derived from the measured ceilings of {names}",
                  derived=f"datasheet x {f.value:.3f}: the median measured fraction of {f.what} ({names})")


def ceilings(spec: HardwareSpec, catalog: Iterable[HardwareSpec]) -> dict[str, Figure]:
    """Every achievable ceiling of ``spec`` by column (what ``hardware show`` prints)."""
    catalog = list(catalog)
    return {c: ceiling(spec, c, catalog) for c in (*PEAK_COLUMNS, BANDWIDTH, *TIMES)}


def device_ceilings(spec: HardwareSpec) -> dict[str, Figure]:
    """:func:`ceilings` of ``spec`` derived from the built-in catalog's measurements (a user's
    file, or a built-in entry replaced by one, stands in for the entry of its name)."""
    from accelscope.hardware.catalog import builtin_specs

    return ceilings(spec, [s for s in builtin_specs() if s.name != spec.name] + [spec])
