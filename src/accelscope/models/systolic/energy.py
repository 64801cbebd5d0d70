"""Energy and area of a systolic-array accelerator from per-action costs.

The model (every constant is in ``data/energy_area.toml`` with its source):

* **MAC**: a multiplier at the operand precision and an adder at the accumulator precision
  (int8 -> int32 accumulator; fp16/bf16 -> fp32; fp32 -> fp32), Horowitz 45 nm. bf16 uses the
  fp16 figures (Horowitz gives none for bf16; its 8-bit mantissa multiplier is smaller, so this
  overestimates).
* **Registers**: every MAC reads its two operand registers and reads and writes its
  accumulator: ``2 * word_bits + 2 * acc_bits`` bits at Aladdin's 0.009 pJ/bit (40 nm).
* **SRAM**: Horowitz's read energy per 64-bit access for 8 kB, 32 kB and 1 MB arrays,
  interpolated log-log in size (extrapolated with the end slopes), taken at the size of one
  half of the double buffer (the bank being accessed), scaled linearly to the word width.
  Writes cost the same as reads (an assumption: no write figure is in the sources).
* **DRAM**: Horowitz's 1.3 nJ per 64-bit access (the low end of his 1.3-2.6 nJ range), not
  scaled with the logic node (it is an off-chip interface).
* **Technology scaling**: Stillmaker & Baas energy and area factors from 45 nm to 65, 32, 16 and
  7 nm, interpolated log-log between those nodes (monotonic in the node); Aladdin's 40 nm
  figures are first brought to 45 nm with the same interpolation. Nodes outside 7-65 nm are
  rejected rather than extrapolated.
* **Area**: per PE a multiplier (Aladdin's 32-bit multiplier area scaled with the square of
  the width), an accumulator adder (scaled linearly) and ``2 * word_bits + acc_bits`` register
  bits; SRAM as bit cells (Intel 45 nm 6T cell, 0.346 um^2) over an assumed 70% array
  efficiency.

Not modelled: leakage and clock-tree power (energy is per action only, so idle cycles cost
nothing), control logic, interconnect between SRAM and array, DRAM background power.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from accelscope.errors import ConfigError

PRECISIONS = ("int8", "fp16", "bf16", "fp32")
_ACC_BITS = {"int8": 32, "fp16": 32, "bf16": 32, "fp32": 32}
_WORD_BITS = {"int8": 8, "fp16": 16, "bf16": 16, "fp32": 32}


@lru_cache(maxsize=1)
def constants() -> dict:
    """The data file, parsed (sources included)."""
    text = resources.files("accelscope.models.systolic").joinpath("data/energy_area.toml").read_text()
    return tomllib.loads(text)


def _scaling(kind: str):
    sb = constants()["stillmaker_baas"]
    nodes = np.log(np.array(sb["nodes_nm"], dtype=float))
    factors = np.log(np.array(sb[f"{kind}_factor"], dtype=float))
    return nodes[::-1], factors[::-1]  # ascending node for np.interp


def scale_factor(node_nm, kind: str = "energy"):
    """Stillmaker-Baas factor from 45 nm to ``node_nm`` (energy or area); arrays accepted."""
    if kind not in ("energy", "area"):
        raise ConfigError(f"scaling kind must be 'energy' or 'area', got {kind!r}.")
    node = np.asarray(node_nm, dtype=float)
    lo, hi = min(constants()["stillmaker_baas"]["nodes_nm"]), max(constants()["stillmaker_baas"]["nodes_nm"])
    if np.any(node < lo) or np.any(node > hi):
        raise ConfigError(
            f"technology node {node_nm} nm is outside {lo}-{hi} nm, the range of the "
            "Stillmaker-Baas factors in the data file; pick a node in that range."
        )
    x, y = _scaling(kind)
    out = np.exp(np.interp(np.log(node), x, y))
    return float(out) if out.ndim == 0 else out


def precision_for_word_bytes(word_bytes: int) -> str:
    return {1: "int8", 2: "fp16", 4: "fp32"}.get(word_bytes, "int8")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyModel:
    """Per-action energies at one node and precision (joules), and areas (m^2)."""

    node_nm: float = 45.0
    precision: str = "int8"
    dram_pj_per_64bit: float | None = None  # default: Horowitz's low end

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision {self.precision!r} is not one of {', '.join(PRECISIONS)}.")
        scale_factor(self.node_nm)  # validates the node

    @property
    def word_bits(self) -> int:
        return _WORD_BITS[self.precision]

    @property
    def acc_bits(self) -> int:
        return _ACC_BITS[self.precision]

    @property
    def _e(self) -> float:
        return scale_factor(self.node_nm, "energy")

    @property
    def _aladdin_to_45(self) -> float:
        return 1.0 / scale_factor(constants()["aladdin_40nm"]["node_nm"], "energy")

    @property
    def mac_energy_j(self) -> float:
        h = constants()["horowitz_45nm"]
        p = "fp16" if self.precision == "bf16" else self.precision
        mult = h[f"{p}_mult_pj"]
        add = h["int32_add_pj"] if p == "int8" else h["fp32_add_pj"]
        return (mult + add) * 1e-12 * self._e

    @property
    def register_energy_per_mac_j(self) -> float:
        bits = 2 * self.word_bits + 2 * self.acc_bits
        pj = constants()["aladdin_40nm"]["register_pj_per_bit"] * self._aladdin_to_45
        return bits * pj * 1e-12 * self._e

    def sram_energy_per_word_j(self, size_bytes):
        """Energy of reading (or writing) one word from a buffer of ``size_bytes`` (both halves)."""
        h = constants()["horowitz_45nm"]
        xs = np.log(np.array(h["sram_sizes_bytes"], dtype=float))
        ys = np.log(np.array(h["sram_read_pj_per_64bit"], dtype=float))
        bank = np.log(np.maximum(np.asarray(size_bytes, dtype=float) / 2, 1.0))
        lo_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
        hi_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        y = np.interp(bank, xs, ys)
        y = np.where(bank < xs[0], ys[0] + lo_slope * (bank - xs[0]), y)
        y = np.where(bank > xs[-1], ys[-1] + hi_slope * (bank - xs[-1]), y)
        out = np.exp(y) * (self.word_bits / 64) * 1e-12 * self._e
        return float(out) if np.ndim(out) == 0 else out

    @property
    def dram_energy_per_word_j(self) -> float:
        pj = self.dram_pj_per_64bit or constants()["horowitz_45nm"]["dram_pj_per_64bit_min"]
        return pj * (self.word_bits / 64) * 1e-12

    # -- area ----------------------------------------------------------------------------
    @property
    def pe_area_m2(self) -> float:
        a = constants()["aladdin_40nm"]
        to45 = 1.0 / scale_factor(a["node_nm"], "area")
        mult = a["multiplier32_area_um2"] * (self.word_bits / 32) ** 2
        add = a["adder32_area_um2"] * (self.acc_bits / 32)
        regs = a["register_area_um2_per_bit"] * (2 * self.word_bits + self.acc_bits)
        return (mult + add + regs) * to45 * scale_factor(self.node_nm, "area") * 1e-12

    def sram_area_m2(self, size_bytes):
        c = constants()["sram_cell_45nm"]
        um2 = np.asarray(size_bytes, dtype=float) * 8 * c["cell_area_um2"] / c["array_efficiency"]
        out = um2 * scale_factor(self.node_nm, "area") * 1e-12
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyBreakdown:
    """Joules per component for one layer (or a sum of layers)."""

    mac_j: float
    register_j: float
    sram_j: float
    dram_j: float

    @property
    def total_j(self) -> float:
        return self.mac_j + self.register_j + self.sram_j + self.dram_j

    def __add__(self, other: EnergyBreakdown) -> EnergyBreakdown:
        return EnergyBreakdown(mac_j=self.mac_j + other.mac_j,
                               register_j=self.register_j + other.register_j,
                               sram_j=self.sram_j + other.sram_j, dram_j=self.dram_j + other.dram_j)

    def scaled(self, k: float) -> EnergyBreakdown:
        return EnergyBreakdown(mac_j=self.mac_j * k, register_j=self.register_j * k,
                               sram_j=self.sram_j * k, dram_j=self.dram_j * k)

    def to_dict(self) -> dict[str, float]:
        return {"mac_j": self.mac_j, "register_j": self.register_j, "sram_j": self.sram_j,
                "dram_j": self.dram_j, "total_j": self.total_j}


def layer_energy(result, cfg, model: EnergyModel) -> EnergyBreakdown:
    """Energy of one occurrence of a simulated layer (a :class:`LayerResult`)."""
    sram = 0.0
    for op, size in (("ifmap", cfg.ifmap_sram_bytes), ("filter", cfg.filter_sram_bytes),
                     ("ofmap", cfg.ofmap_sram_bytes)):
        words = getattr(result.sram_reads, op) + getattr(result.sram_writes, op)
        sram += words * model.sram_energy_per_word_j(size)
    return EnergyBreakdown(
        mac_j=result.macs * model.mac_energy_j,
        register_j=result.macs * model.register_energy_per_mac_j,
        sram_j=sram,
        dram_j=result.dram_words * model.dram_energy_per_word_j,
    )


def accelerator_area_m2(cfg, model: EnergyModel) -> dict[str, float]:
    """Area of the PE array and of the three scratchpads (m^2)."""
    out = {"array_m2": cfg.num_pes * model.pe_area_m2,
           "sram_m2": float(model.sram_area_m2(cfg.ifmap_sram_bytes + cfg.filter_sram_bytes
                                               + cfg.ofmap_sram_bytes))}
    out["total_m2"] = out["array_m2"] + out["sram_m2"]
    return out


__all__ = ["EnergyModel", "EnergyBreakdown", "layer_energy", "accelerator_area_m2",
           "scale_factor", "constants", "PRECISIONS", "precision_for_word_bytes"]
