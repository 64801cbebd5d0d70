"""A whole workload (a list of layers) on one accelerator: per-layer results, totals, time, energy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.energy import (
    EnergyBreakdown,
    EnergyModel,
    accelerator_area_m2,
    layer_energy,
    precision_for_word_bytes,
)
from accelscope.models.systolic.engine import LayerResult, OperandCounts, simulate_layer
from accelscope.models.systolic.layers import Layer


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkResult:
    """Layer results (one occurrence each) and totals weighted by each layer's ``count``.

    Layers run one after another (SCALE-Sim's assumption): the workload takes the sum of the
    layers' ``total_cycles``.
    """

    config: ArrayConfig
    energy_model: EnergyModel
    layers: tuple[LayerResult, ...]
    energies: tuple[EnergyBreakdown, ...]

    @property
    def total_cycles(self) -> int:
        return sum(r.total_cycles * r.layer.count for r in self.layers)

    @property
    def compute_cycles(self) -> int:
        return sum(r.compute_cycles * r.layer.count for r in self.layers)

    @property
    def stall_cycles(self) -> int:
        return sum(r.stall_cycles * r.layer.count for r in self.layers)

    @property
    def macs(self) -> int:
        return sum(r.macs * r.layer.count for r in self.layers)

    def layer_time_s(self, r: LayerResult) -> float:
        """Seconds for one occurrence of a layer.

        Without a DRAM bandwidth: ``compute_cycles / clock`` (SCALE-Sim's "Total Cycles", which
        counts the array from its first demand to its last write, stalls included; its
        "incl. prefetch" figure adds a first prefetch at an arbitrary 10 words/cycle and is
        not used for time). With ``dram_bandwidth_bytes_per_s``: the folds form a two-stage
        pipeline (fetch the next fold's off-chip data while computing this one, as the double
        buffers allow), so with ``F`` folds, compute time ``C`` and transfer time ``D``
        (off-chip words of ``offchip_operands`` times ``word_bytes`` over the bandwidth) the
        layer takes ``max(C, D) + min(C, D) / F``.
        """
        cfg = self.config
        compute = r.compute_cycles / cfg.clock_hz
        if cfg.dram_bandwidth_bytes_per_s is None:
            return compute
        words = sum(getattr(r.dram_reads, op) + getattr(r.dram_writes, op)
                    for op in cfg.offchip_operands)
        transfer = words * cfg.word_bytes / cfg.dram_bandwidth_bytes_per_s
        return max(compute, transfer) + min(compute, transfer) / r.folds

    @property
    def time_s(self) -> float:
        return sum(self.layer_time_s(r) * r.layer.count for r in self.layers)

    @property
    def macs_per_s(self) -> float:
        return self.macs / self.time_s

    @property
    def utilisation(self) -> float:
        """MACs done over MACs the array could have done in ``time_s``."""
        return self.macs / (self.time_s * self.config.peak_macs_per_s)

    def _sum(self, attr: str) -> OperandCounts:
        total = OperandCounts()
        for r in self.layers:
            total = total + getattr(r, attr).scaled(r.layer.count)
        return total

    @property
    def dram_reads(self) -> OperandCounts:
        return self._sum("dram_reads")

    @property
    def dram_writes(self) -> OperandCounts:
        return self._sum("dram_writes")

    @property
    def sram_reads(self) -> OperandCounts:
        return self._sum("sram_reads")

    @property
    def sram_writes(self) -> OperandCounts:
        return self._sum("sram_writes")

    @property
    def energy(self) -> EnergyBreakdown:
        total = EnergyBreakdown(mac_j=0.0, register_j=0.0, sram_j=0.0, dram_j=0.0)
        for r, e in zip(self.layers, self.energies):
            total = total + e.scaled(r.layer.count)
        return total

    @property
    def area_m2(self) -> dict[str, float]:
        return accelerator_area_m2(self.config, self.energy_model)

    def to_dict(self) -> dict:
        layers = []
        for r, e in zip(self.layers, self.energies):
            d = r.to_dict()
            d["energy"] = e.to_dict()
            d["time_s"] = self.layer_time_s(r)
            layers.append(d)
        return {
            "config": self.config.to_dict(),
            "energy_model": {"node_nm": self.energy_model.node_nm,
                             "precision": self.energy_model.precision},
            "layers": layers,
            "total_cycles": self.total_cycles,
            "compute_cycles": self.compute_cycles,
            "stall_cycles": self.stall_cycles,
            "macs": self.macs,
            "time_s": self.time_s,
            "utilisation": self.utilisation,
            "sram_reads": self.sram_reads.to_dict(),
            "sram_writes": self.sram_writes.to_dict(),
            "dram_reads": self.dram_reads.to_dict(),
            "dram_writes": self.dram_writes.to_dict(),
            "energy": self.energy.to_dict(),
            "area_m2": self.area_m2,
        }


def simulate(layers: Sequence[Layer], config: ArrayConfig,
             energy_model: EnergyModel | None = None) -> NetworkResult:
    """Simulate every layer of a workload on ``config`` (SCALE-Sim 3.0.0's model, vectorised).

    Identical layer shapes are simulated once. ``energy_model`` defaults to 45 nm at the
    precision implied by ``config.word_bytes`` (1 byte: int8, 2: fp16, 4: fp32).
    """
    model = energy_model or EnergyModel(precision=precision_for_word_bytes(config.word_bytes))
    cache: dict[tuple, LayerResult] = {}
    results = []
    for layer in layers:
        key = (layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
               layer.num_filters, layer.stride_h, layer.stride_w)
        if key not in cache:
            cache[key] = simulate_layer(layer, config)
        base = cache[key]
        results.append(base if base.layer == layer else _rename(base, layer))
    energies = tuple(layer_energy(r, config, model) for r in results)
    return NetworkResult(config=config, energy_model=model, layers=tuple(results),
                         energies=energies)


def _rename(result: LayerResult, layer: Layer) -> LayerResult:
    from dataclasses import replace

    return replace(result, name=layer.name, layer=layer)
