"""Automatic folding: choose each layer's parallelism to balance a dataflow pipeline.

Given a target number of cycles per frame ``T`` (``clock / target_fps``), every layer gets
the cheapest folding whose cycles are at most ``T``. This is FINN's ``SetFolding`` rule:
raise SIMD through its valid values first, and PE only once SIMD is at its maximum (for
depthwise units and pools PE first); hls4ml layers take the largest valid reuse factor not
above ``T / vectors``. Layers that cannot reach ``T`` (a sliding-window generator is bound
by its input stream; a fully parallel layer cannot go faster) stay at their fastest.

"Fastest that fits" searches ``T`` by bisection for the smallest value whose design fits the
device's budget (:class:`~accelscope.models.fpga.resources.Budget`) and reports what stops it
from going faster: a resource ("LUT 112% of budget at 4562 cycles/frame") or the structure
("conv0 sliding-window generator: input stream bound").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from accelscope.errors import ConfigError
from accelscope.models.fpga import resources as R
from accelscope.models.fpga.dataflow import (
    DataflowResult,
    DesignOptions,
    LayerFold,
    LayerSpec,
    dataflow,
    divisors,
    hls4ml_dims,
    simd_limit,
    valid_reuse_factors,
)


def _cycles(layer: LayerSpec, pe: int, simd: int) -> int:
    if layer.kind == "pool":
        return layer.in_pixels * (layer.in_ch // pe)
    if layer.kind == "depthwise":
        return layer.out_pixels * (layer.out_ch // pe) * (layer.k2 // simd)
    return layer.out_pixels * (layer.mh // pe) * (layer.mw // simd)


def fold_for_target(layer: LayerSpec, target_cycles: int, framework: str = "finn") -> LayerFold:
    """The cheapest valid folding of ``layer`` with at most ``target_cycles`` per frame."""
    if framework == "hls4ml" and layer.kind != "pool":
        n_in, n_out = hls4ml_dims(layer)
        per_px = max(1, target_cycles // max(layer.out_pixels, 1))
        ok = [rf for rf in valid_reuse_factors(n_in, n_out) if rf <= per_px]
        return LayerFold(reuse_factor=max(ok) if ok else 1)
    pes, simds = divisors(layer.out_ch), divisors(simd_limit(layer))
    order = ([(pe, s) for s in simds for pe in pes] if layer.kind in ("depthwise", "pool")
             else [(pe, s) for pe in pes for s in simds])
    for pe, s in order:  # SIMD first (FINN SetFolding), PE once SIMD is exhausted
        if _cycles(layer, pe, s) <= target_cycles:
            return LayerFold(pe=pe, simd=s)
    return LayerFold(pe=pes[-1], simd=simds[-1])


def fold_all(layers: Sequence[LayerSpec], target_cycles: int, framework: str = "finn") -> list[LayerFold]:
    return [fold_for_target(l, target_cycles, framework) for l in layers]


@dataclass(frozen=True, slots=True, kw_only=True)
class FoldingResult:
    """The chosen design, whether it fits, and what limits it."""

    design: DataflowResult
    folds: tuple[LayerFold, ...]
    target_cycles: int | None
    fits: bool
    utilisation: dict[str, float | None]
    limited_by: str

    def to_dict(self) -> dict:
        return {"target_cycles": self.target_cycles, "fits": self.fits,
                "utilisation": self.utilisation, "limited_by": self.limited_by,
                "folds": [f.to_dict() for f in self.folds], "design": self.design.to_dict()}


def _fits(util: dict[str, float | None]) -> bool:
    return all(v is None or v <= 1.0 for v in util.values())


def worst_resource(util: dict[str, float | None]) -> str:
    """``"LUT 132% of budget"`` for the most over-used resource with a known budget."""
    known = {k: v for k, v in util.items() if v is not None}
    if not known:
        return "no resource budget known"
    k, v = max(known.items(), key=lambda kv: kv[1])
    return f"{k.upper()} {v:.0%} of budget"


def fold_to_target(layers: Sequence[LayerSpec], opts: DesignOptions, budget: R.Budget,
                   target_fps: float) -> FoldingResult:
    """Fold for ``target_fps`` and check the fit (``fits=False`` says which resource)."""
    if target_fps <= 0:
        raise ConfigError(f"target fps must be positive, got {target_fps}")
    target = max(1, math.floor(opts.clock_hz / target_fps))
    folds = fold_all(layers, target, opts.framework)
    design = dataflow(layers, folds, opts)
    util = budget.fractions(design.resources)
    fits = _fits(util)
    if design.ii_cycles > target:
        limited = (f"target not reachable: {design.bottleneck} cannot go below "
                   f"{design.ii_cycles} cycles/frame ({design.throughput_fps:,.0f} fps)")
    elif not fits:
        limited = f"does not fit: {worst_resource(util)}"
    else:
        limited = f"meets the target; highest use {worst_resource(util)}"
    return FoldingResult(design=design, folds=tuple(folds), target_cycles=target, fits=fits,
                         utilisation=util, limited_by=limited)


def fastest_that_fits(layers: Sequence[LayerSpec], opts: DesignOptions,
                      budget: R.Budget) -> FoldingResult:
    """Smallest cycles/frame whose folded design fits ``budget`` (bisection on the target)."""
    def build(t: int):
        folds = fold_all(layers, t, opts.framework)
        d = dataflow(layers, folds, opts)
        u = budget.fractions(d.resources)
        return folds, d, u

    slow_folds, slow, slow_util = build(10**15)  # fully folded: the cheapest design
    if not _fits(slow_util):
        return FoldingResult(design=slow, folds=tuple(slow_folds), target_cycles=None, fits=False,
                             utilisation=slow_util,
                             limited_by=f"does not fit even fully folded: {worst_resource(slow_util)}")
    fast_folds, fast, fast_util = build(1)
    if _fits(fast_util):
        return FoldingResult(design=fast, folds=tuple(fast_folds), target_cycles=fast.ii_cycles, fits=True,
                             utilisation=fast_util,
                             limited_by=f"structure, not resources: {fast.bottleneck} is as parallel as "
                                        f"it can be; highest use {worst_resource(fast_util)}")
    lo, hi = fast.ii_cycles, slow.ii_cycles  # lo does not fit, hi fits
    best = (slow_folds, slow, slow_util)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        f, d, u = build(mid)
        if _fits(u):
            hi, best = min(mid, d.ii_cycles), (f, d, u)
        else:
            lo = mid
    folds, design, util = best
    _, d_next, u_next = build(max(1, design.ii_cycles - 1))
    if d_next.ii_cycles >= design.ii_cycles:
        limit = (f"structure, not resources: {design.bottleneck} cannot go faster; "
                 f"highest use {worst_resource(util)}")
    else:
        limit = (f"{worst_resource(u_next)} at the next faster folding "
                 f"({d_next.ii_cycles} cycles/frame)")
    return FoldingResult(design=design, folds=tuple(folds), target_cycles=design.ii_cycles, fits=True,
                         utilisation=util, limited_by=limit)
