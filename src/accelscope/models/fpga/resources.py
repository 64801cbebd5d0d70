"""FPGA resource primitives: multipliers, memories and device budgets.

Pure arithmetic shared by the dataflow and overlay models. Where a formula comes from a tool
it says so; none of it runs synthesis, so every count is an estimate of what Vivado would
report, good to perhaps 10-30% for LUTs (FINN-R reports its LUT model within that band) and
close to exact for block RAM, whose packing is regular.

Memory primitives (AMD UltraScale+ / 7 series, UG573):

* BRAM: counted in **18 Kb halves** (RAMB18) the way FINN counts them (simple dual port,
  aspect ratios 16K x 1, 8K x 2, 4K x 4, 2K x 9, 1K x 18, 512 x 36); the catalog counts
  36 Kb blocks, so ``bram36 = bram18 / 2``.
* URAM: 4K x 72 blocks of 288 Kb (UltraScale+ only).
* LUTRAM: 64 x 1 bit per LUT (distributed RAM).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelscope.errors import ConfigError

RESOURCE_TYPES = ("auto", "dsp", "lut")
MEM_STYLES = ("auto", "block", "ultra", "distributed")

#: FINN-R LUT model constants (Blott et al., "FINN-R", ACM TRETS 2018; as implemented in
#: FINN's ``MVAU_hls.lut_estimation``): a fixed 300 LUTs of control per unit, 1.1x on the
#: datapath.
FINN_LUT_C0 = 300
FINN_LUT_C1 = 1.1
#: FINN stores weights in LUTs when a memory is at most this deep (``calc_wmem() <= 128``
#: switches ``internal_embedded`` weights to distributed RAM in FINN's estimators).
LUTRAM_MAX_DEPTH = 128
#: DSP multiplier port widths: DSP48E2 (UltraScale+) is 27 x 18 (UG579); DSP48E1 (7 series)
#: is 25 x 18 (UG479); both are covered by 25 x 18, the common subset used here.
DSP_PORT_BITS = (25, 18)
#: A product this small (weight bits x activation bits) is cheaper in LUTs; "auto" resource
#: type picks LUTs below it. Vivado's own choice is design-dependent; this rule (4x4 bits and
#: binary products in LUTs, wider ones in DSPs) is an assumption stated here.
AUTO_LUT_MAX_PRODUCT_BITS = 16


def bram18(depth: int, width_bits: int) -> int:
    """RAMB18 count of a ``depth`` x ``width_bits`` memory (FINN's ``bram_estimation`` table).

    >>> bram18(1024, 18), bram18(512, 36), bram18(513, 36), bram18(16384, 1)
    (1, 1, 2, 1)
    """
    if depth <= 0 or width_bits <= 0:
        return 0
    if width_bits == 1:
        return math.ceil(depth / 16384)
    if width_bits == 2:
        return math.ceil(depth / 8192)
    if width_bits <= 4:
        return math.ceil(depth / 4096) * math.ceil(width_bits / 4)
    if width_bits <= 9:
        return math.ceil(depth / 2048) * math.ceil(width_bits / 9)
    if width_bits <= 18 or depth > 512:
        return math.ceil(depth / 1024) * math.ceil(width_bits / 18)
    return math.ceil(depth / 512) * math.ceil(width_bits / 36)


def uram(depth: int, width_bits: int) -> int:
    """URAM (4K x 72) count (FINN's ``uram_estimation``)."""
    if depth <= 0 or width_bits <= 0:
        return 0
    return math.ceil(width_bits / 72) * math.ceil(depth / 4096)


def lutram_luts(depth: int, width_bits: int) -> int:
    """LUTs of a distributed RAM: one LUT per bit of width per 64 entries (FINN's c2 term)."""
    if depth <= 0 or width_bits <= 0:
        return 0
    return width_bits * math.ceil(depth / 64)


def resolve_resource_type(resource_type: str, w_bits: int, a_bits: int) -> str:
    """``dsp`` or ``lut`` for the multipliers of a layer."""
    if resource_type not in RESOURCE_TYPES:
        raise ConfigError(f"resource type {resource_type!r} is not one of {RESOURCE_TYPES}; "
                          "use dsp, lut or auto")
    if resource_type != "auto":
        return resource_type
    return "lut" if w_bits * a_bits <= AUTO_LUT_MAX_PRODUCT_BITS else "dsp"


def resolve_mem_style(mem_style: str, depth: int) -> str:
    """``block``, ``ultra`` or ``distributed`` for a weight memory of ``depth`` words."""
    if mem_style not in MEM_STYLES:
        raise ConfigError(f"memory style {mem_style!r} is not one of {MEM_STYLES}; "
                          "use block (BRAM), ultra (URAM), distributed (LUTRAM) or auto")
    if mem_style != "auto":
        return mem_style
    return "distributed" if depth <= LUTRAM_MAX_DEPTH else "block"


def dsp_per_multiplier(w_bits: int, a_bits: int) -> int:
    """DSP slices for one ``w_bits`` x ``a_bits`` product: 1 up to 25 x 18, tiled beyond."""
    big, small = max(w_bits, a_bits), min(w_bits, a_bits)
    return math.ceil(big / DSP_PORT_BITS[0]) * math.ceil(small / DSP_PORT_BITS[1])


def lut_per_multiplier(w_bits: int, a_bits: int) -> int:
    """LUTs of one multiplier built in fabric: FINN-R's ``(2*ceil((W+A)/6) - 1) * (W+A)``."""
    s = w_bits + a_bits
    return (2 * math.ceil(s / 6) - 1) * s


def accumulator_bits(fan_in: int, w_bits: int, a_bits: int) -> int:
    """Bits of an accumulator over ``fan_in`` products: ``W + A + ceil(log2(fan_in))``.

    The data-type bound of Colbert et al. (arXiv:2301.13376, used by FINN) is at most one
    bit tighter; this is the plain worst case.
    """
    return w_bits + a_bits + max(1, math.ceil(math.log2(max(fan_in, 2))))


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    """Resource counts of a layer or design (BRAM in 18 Kb halves, URAM in 288 Kb blocks)."""

    lut: float = 0.0
    dsp: int = 0
    bram18: int = 0
    uram: int = 0
    multipliers: int = 0

    @property
    def bram36(self) -> float:
        """BRAM in the catalog's 36 Kb units."""
        return self.bram18 / 2

    def __add__(self, other: "Resources") -> "Resources":
        return Resources(lut=self.lut + other.lut, dsp=self.dsp + other.dsp,
                         bram18=self.bram18 + other.bram18, uram=self.uram + other.uram,
                         multipliers=self.multipliers + other.multipliers)

    def scaled(self, n: int) -> "Resources":
        return Resources(lut=self.lut * n, dsp=self.dsp * n, bram18=self.bram18 * n,
                         uram=self.uram * n, multipliers=self.multipliers * n)

    def to_dict(self) -> dict:
        return {"lut": round(self.lut), "dsp": self.dsp, "bram18": self.bram18,
                "bram36": self.bram36, "uram": self.uram, "multipliers": self.multipliers}


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """What a device offers (None: unknown) and the fraction of it a design may use.

    ``utilisation`` leaves room for the shell, routing and timing closure: FPGA designs
    rarely close timing above 70-85% LUT use; 0.8 is the default, stated here.
    """

    device: str
    lut: int | None
    dsp: int | None
    bram36: int | None
    uram: int | None
    utilisation: float = 0.8

    def usable(self, key: str) -> float | None:
        v = getattr(self, key)
        return None if v is None else v * self.utilisation

    def fractions(self, used: Resources) -> dict[str, float | None]:
        """Used / usable per resource (``None`` where the device figure is unknown)."""
        out: dict[str, float | None] = {}
        for key, value in (("lut", used.lut), ("dsp", used.dsp), ("bram", used.bram36),
                           ("uram", used.uram)):
            cap = self.usable("bram36" if key == "bram" else key)
            if cap is None:
                out[key] = None
            elif cap == 0:
                out[key] = 0.0 if value == 0 else math.inf
            else:
                out[key] = value / cap
        return out


def budget_from_spec(spec, utilisation: float = 0.8) -> Budget:
    """The resource budget of a catalog FPGA spec (``spec.fpga``)."""
    if spec.fpga is None:
        raise ConfigError(f"{spec.name} is a {spec.kind}, not an FPGA: it has no LUT/DSP/BRAM "
                          "figures. Pick one of `accelscope hardware list --kind fpga`.")
    if not 0 < utilisation <= 1:
        raise ConfigError(f"utilisation {utilisation} must be in (0, 1]")

    def val(fig):
        v = fig.value
        return int(v) if isinstance(v, (int, float)) else None

    f = spec.fpga
    return Budget(device=spec.name, lut=val(f.lut), dsp=val(f.dsp), bram36=val(f.bram),
                  uram=val(f.uram), utilisation=utilisation)
