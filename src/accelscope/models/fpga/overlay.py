"""Overlay processors (DPU style): a fixed MAC array that runs a network layer by layer.

A DPUCZDX8G core (AMD PG338) has a convolution array of ``PP`` pixels x ``ICP`` input
channels x ``OCP`` output channels: each clock it does ``PP*ICP*OCP`` MACs, i.e.
``2*PP*ICP*OCP`` ops (B512 ... B4096, :data:`CONFIGS`, from ``data/dpu.toml``). Several cores
share the board's DDR.

Per layer (per frame, batch 1), on one core::

    cycles  = ceil(W_out/PP) * H_out * ceil(C_in/ICP) * ceil(C_out/OCP) * k_h * k_w / conv_efficiency
    mem_s   = (weights + input + output bytes, int8) / min(core rate, DDR bandwidth * ddr_efficiency / sharing)
    time_s  = max(cycles / clock, mem_s) + LAYER_OVERHEAD_CYCLES / clock

A DPUCZDX8G core's rate is what its two 128-bit data ports sustained on DDR-bound layers (0.55 of
``2 x 16 B x clock``) and its convolution engine's ceiling 0.912 of peak on layers its PP, ICP and
OCP divide exactly, both from DNNDK's per-layer profiles of other networks (``data/dpu.toml
[measured]``). The other families have no such measurement: their engines at their full rate,
their cores limited only by the board's memory.

Depthwise convolutions and pooling run on the ALU, element-wise adds and multiplies of two
feature maps (residual adds) on the element-wise engine, each ``ICP`` channels x ``ALU_PP =
PP/2`` pixels per clock (PG338's recommended ALU parallelism, the Vitis AI runtime's B4096
target: ``data/dpu.toml``; the other families take their targets' figures), with no
output-channel reuse::

    cycles  = ceil(W_out/ALU_PP) * H_out * ceil(C/ICP) * k_h * k_w    (depthwise, pool)
    cycles  = ceil(W/ALU_PP) * H * ceil(C/ICP)                        (element-wise; reads two maps)

A dense layer at batch 1 has one "pixel", so ``PP - 1`` of the ``PP`` lanes idle. Efficiency
(useful MACs over array MACs times time) therefore falls as the array grows: channel counts
that are not multiples of ICP/OCP, rows narrower than PP, and memory-bound layers waste a
larger fraction of a larger array, as published DPU results show (a network's efficiency is
an output here; the one measured constant is the engine's ceiling on exactly divided layers).

Throughput: single-threaded (one frame at a time on one core) ``1 / latency``; multi-threaded
(every core busy on its own frame, DDR bandwidth shared by all cores)
``cores / latency_shared``. Assumptions: feature maps and weights stream from DDR for every
layer (no on-chip reuse across layers), int8 everywhere, host pre/post-processing excluded.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as ir
from typing import Any, Sequence

from accelscope.errors import ConfigError
from accelscope.models.fpga.dataflow import LayerSpec
from accelscope.models.fpga.resources import Resources

#: Setting up a layer (instruction fetch, parameter load, pipeline ramp) in DPU cycles. An
#: assumption of this model, not a PG338 figure: ~1.7 us at 300 MHz.
LAYER_OVERHEAD_CYCLES = 500
#: Achieved / peak DDR bandwidth of the Zynq UltraScale+ PS memory controller under DPU
#: traffic (an assumption; streaming DMA typically sustains 60-80%).
DDR_EFFICIENCY = 0.7
#: PS DDR4 of Zynq UltraScale+ MPSoC: 64-bit at 2400 MT/s (AMD DS925) = 19.2 GB/s; used
#: when the catalog has no bandwidth for the board.
ZYNQ_US_DDR4_BYTES_PER_S = 64 / 8 * 2400e6


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    text = ir.files("accelscope.models.fpga").joinpath("data/dpu.toml").read_text()
    return tomllib.loads(text)


def configs() -> dict[str, tuple[int, int, int]]:
    """``{"B4096": (PP, ICP, OCP), ...}`` from PG338."""
    return {k: (v["pp"], v["icp"], v["ocp"]) for k, v in _data()["configs"].items()}


def peak_ops_per_clock(arch: str) -> int:
    """``2 * PP * ICP * OCP`` (one MAC = 2 ops), e.g. 4096 for B4096."""
    pp, icp, ocp = _arch(arch)
    return 2 * pp * icp * ocp


@dataclass(frozen=True, slots=True)
class Engines:
    """One core's (or batch handler's, or batch engine's) engines: the convolution array's
    PP x ICP x OCP, and pixels per clock of the ALU (pooling), the element-wise engine and the
    depthwise engine (None: no depthwise engine), each ICP channels wide."""

    family: str
    pp: int
    icp: int
    ocp: int
    alu_pp: int
    eltwise_pp: int
    dw_pp: int | None


@lru_cache(maxsize=None)
def engines(arch: str) -> Engines:
    """The engines of a DPU configuration of any modelled family (``data/dpu.toml``)."""
    key = arch.upper()
    if key in configs():
        pp, icp, ocp = configs()[key]
        alu = max(1, pp // 2)  # PG338's recommended ALU parallelism: depthwise and pooling on the ALU
        return Engines(family=MODELLED_FAMILY, pp=pp, icp=icp, ocp=ocp, alu_pp=alu, eltwise_pp=alu, dw_pp=alu)
    for fam, d in _data().get("families", {}).items():
        for name, c in d["configs"].items():
            if name.upper() == key:
                return Engines(family=fam, pp=c["pp"], icp=c["icp"], ocp=c["ocp"], alu_pp=c["alu_pp"],
                               eltwise_pp=c["eltwise_pp"], dw_pp=c.get("dw_pp"))
    names = [*configs(), *(n for d in _data().get("families", {}).values() for n in d["configs"])]
    raise ConfigError(f"unknown DPU size {arch!r}; valid: {', '.join(names)}")


def _arch(arch: str) -> tuple[int, int, int]:
    e = engines(arch)
    return e.pp, e.icp, e.ocp


#: The DPU IP families of AMD's Vitis AI, by the part numbers they run on (each product
#: guide's "supported devices"); DPUCZDX8G, DPUCVDX8G and DPUCAHX8H are modelled here.
DPU_FAMILIES = (("XCZU", "DPUCZDX8G"),  # PG338: Zynq UltraScale+ MPSoCs (ZCU102, ZCU104; K26 as XCK26)
                ("XCK26", "DPUCZDX8G"),
                ("XCVC", "DPUCVDX8G"),  # PG389: Versal AI Core (VCK190), its AI Engines
                ("XCVE", "DPUCV2DX8G"),  # Versal AI Edge (V70)
                ("XCU50", "DPUCAHX8H"), ("XCU55C", "DPUCAHX8H"), ("XCU280", "DPUCAHX8H"),  # PG367: Alveo HBM
                ("XCU200", "DPUCADF8H"), ("XCU250", "DPUCADF8H"))  # Alveo U200/U250
MODELLED_FAMILY = "DPUCZDX8G"
MODELLED_FAMILIES = ("DPUCZDX8G", "DPUCVDX8G", "DPUCAHX8H")


def dpu_family(part: str | None) -> str | None:
    """The current Vitis AI DPU family a part carries (None: none, e.g. Intel parts, or a
    Zynq-7000, which only older DPU releases supported: PG338 v1.2-v3.2)."""
    p = (part or "").upper().replace("-", "")
    return next((fam for prefix, fam in DPU_FAMILIES if p.startswith(prefix)), None)


def check_board(name: str, part: str | None, arch: str | None = None) -> None:
    """Refuse a board whose part carries no modelled DPU family, or a DPU ``arch`` of another
    family than the board's (never assume another family's numbers)."""
    fam = dpu_family(part)
    if fam is None:
        raise ConfigError(f"{name} ({part or 'part unknown'}) carries no current Vitis AI DPU: DPUCZDX8G (AMD PG338 "
                          "v4) runs on Zynq UltraScale+ MPSoCs only (Zynq-7000 support ended with PG338 v3.2, whose "
                          "figures are not modelled); estimate a dataflow design (--style dataflow)")
    if fam not in MODELLED_FAMILIES:
        raise ConfigError(f"{name} ({part}) carries a {fam} DPU, whose architecture is not modelled (DPUCZDX8G, "
                          "DPUCVDX8G and DPUCAHX8H are); another family's figures would not apply. Use --style "
                          "dataflow")
    if arch is not None and engines(arch).family != fam:
        raise ConfigError(f"{name} ({part}) carries a {fam} DPU; {arch} is a {engines(arch).family} configuration, "
                          f"which does not run on it")


def host_ops(profile) -> list[str]:
    """The forward ops of ``profile`` a DPU cannot run (``data/dpu.toml`` ``host_ops``): the host
    CPU would run them between DPU subgraphs."""
    names = set(_data()["host_ops"])
    found = {op.name for op in profile.ops if op.phase == "forward"
             and (op.name.split(".")[1] if op.name.startswith("aten.") else op.name) in names}
    return sorted(found)


def board_default(device: str) -> dict[str, Any] | None:
    """The reference DPU integration of a board (arch, cores, clock), if one is recorded."""
    return _data().get("boards", {}).get(device)


def ram_banks(arch: str, uram_banks: Sequence[int] | None = None) -> tuple[float, int]:
    """(BRAM36, URAM) of one core by the DPU IP's RAM formula (``data/dpu.toml [ram_formula]``),
    with ``uram_banks`` (image, weight, bias) of its banks in UltraRAM."""
    f = _data()["ram_formula"]
    pp, icp, ocp = _arch(arch)
    banks = (f["image_bank_groups"] * pp, ocp + f["depthwise_weight_banks"], f["bias_banks"])
    u = tuple(uram_banks) if uram_banks else (0, 0, 0)
    if any(x < 0 or x > b for x, b in zip(u, banks)):
        raise ConfigError(f"URAM banks {list(u)} exceed the {arch} core's image/weight/bias banks {list(banks)}")
    bram36 = sum(b - x for b, x in zip(banks, u)) * math.ceil(icp * 8 / 9) / 2
    return bram36, sum(u) * math.ceil(icp * 8 / 72)


def core_resources(arch: str, uram_banks: Sequence[int] | None = None) -> Resources | None:
    """One core's logic (PG338's table) and RAM: the table's block RAM, or with ``uram_banks``
    in UltraRAM, the IP's RAM formula."""
    r = _data().get("resources", {}).get(arch.upper())
    if r is None:
        return None
    bram36, uram = (r["bram36"], r["uram"]) if not uram_banks else ram_banks(arch, uram_banks)
    return Resources(lut=r["lut"], dsp=r["dsp"], bram18=int(round(2 * bram36)), uram=uram,
                     multipliers=peak_ops_per_clock(arch) // 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlayConfig:
    arch: str = "B4096"
    cores: int = 1
    clock_hz: float = 300e6
    ddr_bandwidth_bytes_per_s: float = ZYNQ_US_DDR4_BYTES_PER_S
    ddr_efficiency: float = DDR_EFFICIENCY
    #: the clock of the ALU, element-wise and depthwise engines when it is not the convolution
    #: array's (DPUCVDX8G: AI Engines at 1.25 GHz, its programmable-logic engines at 333 MHz)
    alu_clock_hz: float | None = None

    def __post_init__(self) -> None:
        _arch(self.arch)
        if self.cores < 1:
            raise ConfigError(f"cores must be >= 1, got {self.cores}")
        if self.clock_hz <= 0 or self.ddr_bandwidth_bytes_per_s <= 0 or (self.alu_clock_hz or 1) <= 0:
            raise ConfigError("clock_hz, alu_clock_hz and ddr_bandwidth_bytes_per_s must be positive")

    @property
    def peak_ops_per_clock(self) -> int:
        return peak_ops_per_clock(self.arch)

    @property
    def peak_ops_per_s(self) -> float:
        return self.cores * self.peak_ops_per_clock * self.clock_hz

    def to_dict(self) -> dict[str, Any]:
        pp, icp, ocp = _arch(self.arch)
        core_bw, conv_eff = core_rates(self.arch, self.clock_hz)
        return {"arch": self.arch, "pp": pp, "icp": icp, "ocp": ocp, "cores": self.cores,
                "clock_hz": self.clock_hz, "peak_ops_per_clock": self.peak_ops_per_clock,
                "ddr_bandwidth_bytes_per_s": self.ddr_bandwidth_bytes_per_s,
                "ddr_efficiency": self.ddr_efficiency, "family": engines(self.arch).family,
                "alu_clock_hz": self.alu_clock_hz or self.clock_hz,
                "layer_overhead_cycles": LAYER_OVERHEAD_CYCLES, "core_bandwidth_bytes_per_s": core_bw,
                "conv_efficiency": conv_eff}


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlayLayer:
    layer: LayerSpec
    cycles: int
    compute_s: float
    memory_s: float
    time_s: float
    efficiency: float
    bound: str

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer.to_dict(), "cycles": self.cycles, "compute_s": self.compute_s,
                "memory_s": self.memory_s, "time_s": self.time_s, "efficiency": self.efficiency,
                "bound": self.bound}


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlayResult:
    config: OverlayConfig
    layers: tuple[OverlayLayer, ...]
    latency_s: float
    latency_shared_s: float

    @property
    def fps_single_thread(self) -> float:
        return 1.0 / self.latency_s

    @property
    def fps_multi_thread(self) -> float:
        return self.config.cores / self.latency_shared_s

    @property
    def macs(self) -> int:
        return sum(l.layer.macs for l in self.layers)

    @property
    def efficiency(self) -> float:
        """Useful MACs / (array MACs per second x latency), one core, batch 1."""
        pp, icp, ocp = _arch(self.config.arch)
        return self.macs / (pp * icp * ocp * self.config.clock_hz * self.latency_s)

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "latency_s": self.latency_s,
                "fps_single_thread": self.fps_single_thread, "fps_multi_thread": self.fps_multi_thread,
                "efficiency": self.efficiency, "macs": self.macs,
                "layers": [l.to_dict() for l in self.layers]}


def alu_pixel_parallel(arch: str) -> int:
    """Pixels per clock of the ALU (pooling) of ``arch`` (DPUCZDX8G: PP/2, ``data/dpu.toml``)."""
    return engines(arch).alu_pp


#: layer kinds that run on the ALU, element-wise or depthwise engines (the ALU clock)
ALU_KINDS = ("depthwise", "pool", "eltwise")


def layer_cycles(layer: LayerSpec, arch: str) -> int:
    """Engine cycles of one layer on one core (module docstring)."""
    e = engines(arch)
    (oh, ow), (kh, kw) = layer.out_hw, layer.kernel
    ch = math.ceil(layer.in_ch / e.icp)
    if layer.kind == "conv":
        return math.ceil(ow / e.pp) * oh * ch * math.ceil(layer.out_ch / e.ocp) * kh * kw
    if layer.kind == "depthwise":
        if e.dw_pp is None:
            raise ConfigError(f"layer {layer.name!r}: the {arch} DPU has no depthwise-convolution engine (its DWC "
                              "variant has); choose a configuration with one or a model without depthwise layers")
        return math.ceil(ow / e.dw_pp) * oh * ch * kh * kw
    if layer.kind == "pool":
        return math.ceil(ow / e.alu_pp) * oh * ch * kh * kw
    if layer.kind == "eltwise":
        return math.ceil(ow / e.eltwise_pp) * oh * ch
    return math.ceil(layer.vectors / e.pp) * ch * math.ceil(layer.out_ch / e.ocp)


def core_rates(arch: str, clock_hz: float) -> tuple[float | None, float]:
    """(bytes/s one core streams from DDR, the convolution engine's fraction of peak) of ``arch``
    at ``clock_hz``: measured for DPUCZDX8G (``data/dpu.toml [measured]``); for the other
    families (None, 1.0), no per-core limit measured."""
    if engines(arch).family != MODELLED_FAMILY:
        return None, 1.0
    m = _data()["measured"]
    return m["data_ports"] * m["data_port_bytes"] * clock_hz * m["data_port_efficiency"], m["conv_efficiency"]


def _layer_bytes(layer: LayerSpec) -> int:
    out_elems = layer.out_pixels * layer.out_ch
    in_elems = layer.in_pixels * layer.in_ch * (2 if layer.kind == "eltwise" else 1)
    return layer.weights + in_elems + out_elems  # int8: one byte each


def overlay(layers: Sequence[LayerSpec], config: OverlayConfig) -> OverlayResult:
    """Latency, throughput and per-layer efficiency of ``layers`` on a DPU configuration."""
    if not layers:
        raise ConfigError("no layers to run: the model has no dense/conv/depthwise/pool/element-wise layers")
    pp, icp, ocp = _arch(config.arch)
    bw = config.ddr_bandwidth_bytes_per_s * config.ddr_efficiency
    core_bw, conv_eff = core_rates(config.arch, config.clock_hz)
    limit = core_bw if core_bw is not None else float("inf")
    alone, sharing = min(limit, bw), min(limit, bw / config.cores)
    out, total, shared = [], 0.0, 0.0
    for layer in layers:
        cyc = layer_cycles(layer, config.arch)
        clock = (config.alu_clock_hz or config.clock_hz) if layer.kind in ALU_KINDS else config.clock_hz
        compute = cyc / clock / (conv_eff if layer.kind in ("conv", "dense") else 1.0)
        nbytes = _layer_bytes(layer)
        mem = nbytes / alone
        over = LAYER_OVERHEAD_CYCLES / config.clock_hz
        t = max(compute, mem) + over
        shared += max(compute, nbytes / sharing) + over
        total += t
        eff = layer.macs / (pp * icp * ocp * config.clock_hz * t) if layer.macs else 0.0
        out.append(OverlayLayer(layer=layer, cycles=cyc, compute_s=compute, memory_s=mem, time_s=t,
                                efficiency=eff, bound="memory" if mem > compute else "compute"))
    return OverlayResult(config=config, layers=tuple(out), latency_s=total, latency_shared_s=shared)
