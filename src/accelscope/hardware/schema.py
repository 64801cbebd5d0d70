"""Hardware specifications as frozen, sourced data.

A :class:`HardwareSpec` is what the catalog (``catalog.py``) builds from one TOML file under
``hardware/data/<kind>/``. Every number in it is a :class:`Figure`: a value in SI units
together with the citation it came from. A figure nobody could source is *unknown*
(``value is None``) and says why in ``reason``; a capability the device does not have (BF16
on a V100, TF32 on a TPU) is *unsupported* (``supported is False``). Nothing is guessed.

Units are in the field names and are SI: ``mem_bytes`` (decimal bytes, ``80e9`` for
"80 GB"; ``32 * 2**30`` for "32 GiB"), ``mem_bandwidth_bytes_per_s``, ``clock_hz``,
``tdp_w``, ``usd_per_hour``. Peak throughputs are **dense** (no 2:4 structured sparsity)
and are counted the ``torch.utils.flop_counter`` way: one fused multiply-add is 2 FLOPs. The
``int8`` column counts integer operations per second (TOPS), the same way.

The predictor asks one question of a spec more than any other: *what is the peak for this
precision?* :meth:`HardwareSpec.peak` answers it for accelscope's precision names and says
in the answer which column it used and whether it had to fall back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

KINDS: tuple[str, ...] = ("cpu", "gpu", "tpu", "asic", "fpga")
Kind = Literal["cpu", "gpu", "tpu", "asic", "fpga"]

#: Columns of :class:`PeakTable`: the precisions a spec sheet quotes.
PEAK_COLUMNS: tuple[str, ...] = ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8")

#: accelscope precision names -> the :class:`PeakTable` column that bounds them.
#: ``amp-*`` is autocast mixed precision: the matrix multiplies, which dominate the FLOPs,
#: run at the 16-bit tensor rate; the ops autocast keeps in fp32 do not (the predictor deals
#: with that per op).
PRECISION_TO_COLUMN: dict[str, str] = {
    "fp64": "fp64",
    "fp32": "fp32",
    "tf32": "tf32",
    "bf16": "bf16",
    "fp16": "fp16",
    "amp-fp16": "fp16",
    "amp-bf16": "bf16",
    "amp-fp8": "fp8",
    "bf16-fp8": "fp8",
    "w8a8": "int8",
    "fp8": "fp8",
    "int8": "int8",
}
PRECISIONS: tuple[str, ...] = tuple(PRECISION_TO_COLUMN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """One sourced figure.

    ``value`` is in the SI unit named by the field that holds the figure (a float, an int,
    or a string for names such as ``process_node``). ``source`` is a URL or a citation and is
    required whenever ``value`` is set. ``derived`` explains arithmetic on sourced numbers
    ("8 channels x 38.4 GB/s"). When ``value`` is ``None`` the figure is unknown and
    ``reason`` may say why; ``supported=False`` means the device lacks the feature.
    """

    value: float | int | str | None = None
    source: str | None = None
    note: str | None = None
    derived: str | None = None
    reason: str | None = None
    supported: bool = True

    @property
    def known(self) -> bool:
        return self.value is not None

    @property
    def number(self) -> float | None:
        """The value as a float, or None when it is unknown or not a number (a name)."""
        v = self.value
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value}
        for key in ("source", "note", "derived", "reason"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if not self.supported:
            out["supported"] = False
        return out


UNKNOWN = Figure(reason="not in the catalog file")


@dataclass(frozen=True, slots=True, kw_only=True)
class PeakTable:
    """Dense peak throughput per precision, FLOP/s (``int8``: integer op/s)."""

    fp64: Figure = UNKNOWN
    fp32: Figure = UNKNOWN
    tf32: Figure = UNKNOWN
    bf16: Figure = UNKNOWN
    fp16: Figure = UNKNOWN
    fp8: Figure = UNKNOWN
    int8: Figure = UNKNOWN

    def column(self, name: str) -> Figure:
        return getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        return {c: self.column(c).to_dict() for c in PEAK_COLUMNS}


@dataclass(frozen=True, slots=True, kw_only=True)
class AchievableTable(PeakTable):
    """Measured ceilings from a file's ``[achievable]`` table: the dense GEMM throughput per
    precision a tuned library reaches (FLOP/s) and the memory bandwidth a STREAM-like kernel
    reaches (bytes/s), each with the microbenchmark it comes from. Figures a file does not
    give are derived by :mod:`accelscope.hardware.achievable`."""

    mem_bandwidth_bytes_per_s: Figure = UNKNOWN
    #: shortest time per kernel of back-to-back tiny kernels: launched one by one from the
    #: host, and replayed from a CUDA/HIP graph
    kernel_launch_s: Figure = UNKNOWN
    graph_kernel_s: Figure = UNKNOWN

    def to_dict(self) -> dict[str, Any]:
        return {**PeakTable.to_dict(self), **{k: getattr(self, k).to_dict() for k in ACHIEVABLE_EXTRA}}


#: The ``[achievable]`` figures beyond the precision columns.
ACHIEVABLE_EXTRA = ("mem_bandwidth_bytes_per_s", "kernel_launch_s", "graph_kernel_s")


@dataclass(frozen=True, slots=True, kw_only=True)
class Peak:
    """The answer of :meth:`HardwareSpec.peak`: a peak plus how it was chosen.

    ``column`` is the :class:`PeakTable` column used; ``fallback`` is True when that is not
    the precision's own column (for example TF32 on a GPU without TF32 runs at the FP32
    rate), and ``note`` says why. ``flops_per_s`` is ``None`` when the catalog cannot bound
    the precision; ``reason`` then says what is missing.
    """

    precision: str
    column: str
    flops_per_s: float | None
    source: str | None
    note: str | None = None
    reason: str | None = None
    fallback: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Interconnect:
    """A device-to-device (or host) link and its bandwidth as the source states it."""

    name: str
    bandwidth_bytes_per_s: Figure = UNKNOWN
    bidirectional: bool | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s.to_dict(),
            "bidirectional": self.bidirectional,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SystolicArray:
    """Matrix-unit geometry: ``count`` arrays of ``rows x cols`` multiply-accumulate cells.

    A device simulated by the systolic engine (``model = "systolic"``) also says how the
    array is fed, in SCALE-Sim's terms: the ``dataflow`` (``os``, ``ws`` or ``is``: output-,
    weight- or input-stationary), the three scratchpads in bytes, and which operands come
    from off-chip memory (``offchip_operands``; the catalog's memory bandwidth bounds them).
    """

    rows: int
    cols: int
    count: int
    dtype: str
    source: str
    note: str | None = None
    dataflow: str | None = None
    ifmap_sram_bytes: int | None = None
    filter_sram_bytes: int | None = None
    ofmap_sram_bytes: int | None = None
    offchip_operands: tuple[str, ...] | None = None

    @property
    def macs(self) -> int:
        return self.rows * self.cols * self.count

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "cols": self.cols, "count": self.count, "dtype": self.dtype,
                "source": self.source, "note": self.note, "dataflow": self.dataflow,
                "ifmap_sram_bytes": self.ifmap_sram_bytes, "filter_sram_bytes": self.filter_sram_bytes,
                "ofmap_sram_bytes": self.ofmap_sram_bytes,
                "offchip_operands": list(self.offchip_operands) if self.offchip_operands else None}


@dataclass(frozen=True, slots=True, kw_only=True)
class FpgaResources:
    """Programmable-logic resources of an FPGA part (counts, not bytes).

    ``bram`` counts 36 Kb block RAMs (Intel parts: M20K blocks, said in the note); ``uram``
    counts 288 Kb UltraRAM blocks; ``ai_engines`` counts Versal AI Engine tiles.
    """

    part: str
    dsp: Figure = UNKNOWN
    lut: Figure = UNKNOWN
    ff: Figure = UNKNOWN
    bram: Figure = UNKNOWN
    uram: Figure = UNKNOWN
    ai_engines: Figure = UNKNOWN
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"part": self.part}
        for key in ("dsp", "lut", "ff", "bram", "uram", "ai_engines"):
            out[key] = getattr(self, key).to_dict()
        out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class PurchasePrice:
    """What buying one device costs, in USD, on a date; ``usd_max`` when a source gives a range.

    ``basis`` says what kind of price it is: ``msrp``, ``list``, ``street-estimate``,
    ``used-market`` or ``kit-share`` (a multi-device kit price divided by its devices).
    """

    usd: float | None = None
    usd_max: float | None = None
    date: str | None = None
    basis: str | None = None
    source: str | None = None
    note: str | None = None
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.usd is not None

    @property
    def usd_mid(self) -> float | None:
        """Midpoint of the range (or the single price)."""
        if self.usd is None:
            return None
        return self.usd if self.usd_max is None else (self.usd + self.usd_max) / 2

    def to_dict(self) -> dict[str, Any]:
        return {"usd": self.usd, "usd_max": self.usd_max, "date": self.date, "basis": self.basis,
                "source": self.source, "note": self.note, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudOffering:
    """One way to rent the device: an instance type at a provider, priced on a date.

    ``usd_per_hour`` is for the whole instance; :attr:`usd_per_device_hour` divides it by
    ``devices_per_instance``. ``pricing`` is ``on-demand``, ``reserved-1y``,
    ``capacity-block``, ``spot``, ``marketplace`` or ``market-median``. ``stale`` is set when the source is
    known to predate a price change: the figure is kept for the record, and the reason says
    what changed.
    """

    provider: str
    instance: str
    devices_per_instance: int
    usd_per_hour: float
    pricing: str
    date: str
    source: str
    region: str | None = None
    note: str | None = None
    stale: str | None = None

    @property
    def usd_per_device_hour(self) -> float:
        return self.usd_per_hour / self.devices_per_instance

    @property
    def is_stale(self) -> bool:
        return self.stale is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider, "instance": self.instance,
            "devices_per_instance": self.devices_per_instance,
            "usd_per_hour": self.usd_per_hour,
            "usd_per_device_hour": self.usd_per_device_hour,
            "pricing": self.pricing, "region": self.region, "date": self.date,
            "source": self.source, "note": self.note, "stale": self.stale,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class HardwareSpec:
    """Everything the catalog knows about one device, each figure with its source.

    Fields holding :class:`Figure` carry their unit in their name. ``compute_units`` counts
    what ``compute_unit_kind`` names (SMs, CUs, cores, TensorCores, NeuronCores);
    ``matrix_units`` counts tensor cores / matrix cores / MXUs. ``clock_hz`` is the clock
    the peaks assume (usually the maximum boost clock; sustained clocks can be lower).
    ``onchip_mem_bytes`` is the largest on-chip SRAM level that could be sourced (L2, L3,
    unified buffer); the note says which.
    """

    name: str
    kind: Kind
    vendor: str
    display_name: str
    aliases: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    dense_peaks: PeakTable = PeakTable()
    #: the file's ``[achievable]`` table (measured ceilings); see ``hardware.achievable``
    measured_ceilings: AchievableTable = AchievableTable()
    #: the chip's architecture ("Volta", "Ampere", "Hopper", "CDNA3", ...): ceilings a file
    #: does not measure are derived from measured cards of the same architecture
    architecture: str | None = None
    #: the host the device is usually driven from: a system or host CPU of ``hosts.toml``
    #: (``accelscope hardware hosts``); None: the default host
    host: str | None = None
    mem_bytes: Figure = UNKNOWN
    mem_bandwidth_bytes_per_s: Figure = UNKNOWN
    mem_type: Figure = UNKNOWN
    onchip_mem_bytes: Figure = UNKNOWN
    compute_units: Figure = UNKNOWN
    compute_unit_kind: str | None = None
    matrix_units: Figure = UNKNOWN
    clock_hz: Figure = UNKNOWN
    base_clock_hz: Figure = UNKNOWN
    systolic: SystolicArray | None = None
    interconnects: tuple[Interconnect, ...] = ()
    tdp_w: Figure = UNKNOWN
    idle_power_w: Figure = UNKNOWN
    launch_year: Figure = UNKNOWN
    process_node: Figure = UNKNOWN
    purchase_price: PurchasePrice = PurchasePrice(reason="not in the catalog file")
    cloud: tuple[CloudOffering, ...] = ()
    fpga: FpgaResources | None = None
    #: the performance model the file asks for (``model = "systolic"``); None: its kind's default
    performance_model: str | None = None
    file: str | None = field(default=None, compare=False)
    origin: str = field(default="builtin", compare=False)

    # -- peaks -------------------------------------------------------------------------

    def peak(self, precision: str) -> Peak:
        """The dense peak that bounds ``precision`` on this device, with provenance.

        Mapping (accelscope precision -> column): ``fp32``/``fp64``/``bf16``/``fp16``/
        ``fp8``/``int8`` -> their own column; ``tf32`` -> ``tf32``; ``amp-fp16`` -> ``fp16``
        and ``amp-bf16`` -> ``bf16`` (the tensor-core rate that autocast's matrix
        multiplies run at).

        One documented fallback only: a device that does not support TF32 (marked
        ``unsupported`` in its file: pre-Ampere NVIDIA GPUs, CPUs, TPUs) runs a "tf32"
        workload in plain FP32, because TF32 is an opt-in tensor-core mode (PyTorch's
        ``allow_tf32``) that has no effect where the hardware lacks it. The answer then
        uses the ``fp32`` column and says so (``fallback=True``). Everything else that is
        unknown or unsupported answers ``flops_per_s=None`` with a reason; nothing is
        guessed (BF16 on a V100 is emulated by software at no documented rate).

        Raises :class:`~accelscope.errors.ConfigError` for a precision accelscope does not
        know.
        """
        column = PRECISION_TO_COLUMN.get(precision)
        if column is None:
            from accelscope.errors import ConfigError

            raise ConfigError(
                f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}. "
                "Pass one of these names (amp-fp16 / amp-bf16 are autocast mixed precision)."
            )
        fig = self.dense_peaks.column(column)
        amp = (f"{precision} is bounded by the dense {column} tensor peak (autocast runs matrix "
               "multiplies in 16 bit)") if precision.startswith("amp-") else None
        if fig.known:
            return Peak(precision=precision, column=column, flops_per_s=float(fig.value),
                        source=fig.source, note=_join(amp, fig.note))
        if column == "tf32" and not fig.supported:
            fp32 = self.dense_peaks.fp32
            why = (f"{self.display_name} has no TF32 mode ({fig.reason or 'unsupported'}); "
                   "tf32 runs at the fp32 rate")
            if fp32.known:
                return Peak(precision=precision, column="fp32", flops_per_s=float(fp32.value),
                            source=fp32.source, note=_join(why, fp32.note), fallback=True)
            return Peak(precision=precision, column="fp32", flops_per_s=None, source=None,
                        note=why, reason=f"fp32 peak unknown: {fp32.reason or 'no source'}",
                        fallback=True)
        state = "not supported" if not fig.supported else "unknown"
        return Peak(precision=precision, column=column, flops_per_s=None, source=None,
                    note=amp, reason=f"{column} peak {state} on {self.display_name}"
                    + (f": {fig.reason}" if fig.reason else ""))

    def peak_flops_per_s(self, precision: str) -> float | None:
        """Shorthand for ``self.peak(precision).flops_per_s`` (see :meth:`peak`)."""
        return self.peak(precision).flops_per_s

    def ridge_point_flops_per_byte(self, precision: str) -> float | None:
        """Roofline ridge point: dense peak / memory bandwidth (None if either is unknown)."""
        peak = self.peak_flops_per_s(precision)
        bw = self.mem_bandwidth_bytes_per_s.value
        if peak is None or not isinstance(bw, (int, float)) or bw <= 0:
            return None
        return peak / bw

    # -- prices ------------------------------------------------------------------------

    def cheapest_offering(self, *, include_stale: bool = False, include_spot: bool = False) -> CloudOffering | None:
        """The offering with the lowest USD per device-hour (stale prices, and spot capacity,
        which can be taken back at any time, skipped by default)."""
        offers = [o for o in self.cloud if (include_stale or not o.is_stale)
                  and (include_spot or o.pricing != "spot")]
        return min(offers, key=lambda o: o.usd_per_device_hour, default=None)

    # -- serialisation -----------------------------------------------------------------

    def figures(self) -> dict[str, Figure]:
        """Every :class:`Figure` of the spec by dotted path (for checks and listings)."""
        out: dict[str, Figure] = {}
        for c in PEAK_COLUMNS:
            out[f"dense_peaks.{c}"] = self.dense_peaks.column(c)
        for c in (*PEAK_COLUMNS, *ACHIEVABLE_EXTRA):
            fig = getattr(self.measured_ceilings, c)
            if fig is not UNKNOWN:
                out[f"achievable.{c}"] = fig
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Figure):
                out[f.name] = v
        for i, link in enumerate(self.interconnects):
            out[f"interconnects[{i}].bandwidth_bytes_per_s"] = link.bandwidth_bytes_per_s
        if self.fpga is not None:
            for key in ("dsp", "lut", "ff", "bram", "uram", "ai_engines"):
                out[f"fpga.{key}"] = getattr(self.fpga, key)
        return out

    def summary(self) -> dict[str, Any]:
        """The main figures as plain values (what ``hardware list --json`` prints)."""
        cheapest = self.cheapest_offering()
        return {
            "name": self.name,
            "kind": self.kind,
            "vendor": self.vendor,
            "display_name": self.display_name,
            "origin": self.origin,
            "peak_fp32_flops_per_s": self.peak_flops_per_s("fp32"),
            "peak_bf16_flops_per_s": self.peak_flops_per_s("bf16"),
            "peak_fp16_flops_per_s": self.peak_flops_per_s("fp16"),
            "peak_int8_ops_per_s": self.peak_flops_per_s("int8"),
            "mem_bytes": self.mem_bytes.value,
            "mem_bandwidth_bytes_per_s": self.mem_bandwidth_bytes_per_s.value,
            "compute_units": self.compute_units.value,
            "clock_hz": self.clock_hz.value,
            "tdp_w": self.tdp_w.value,
            "launch_year": self.launch_year.value,
            "cheapest_usd_per_device_hour": cheapest.usd_per_device_hour if cheapest else None,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, each figure with its source (what ``hardware show --json`` prints)."""
        out: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "vendor": self.vendor,
            "display_name": self.display_name, "aliases": list(self.aliases),
            "origin": self.origin, "file": self.file, "notes": list(self.notes),
            "model": self.performance_model, "architecture": self.architecture, "host": self.host,
            "dense_peaks": self.dense_peaks.to_dict(),
        }
        for key in ("mem_bytes", "mem_bandwidth_bytes_per_s", "mem_type", "onchip_mem_bytes",
                    "compute_units"):
            out[key] = getattr(self, key).to_dict()
        out["compute_unit_kind"] = self.compute_unit_kind
        for key in ("matrix_units", "clock_hz", "base_clock_hz"):
            out[key] = getattr(self, key).to_dict()
        out["systolic"] = self.systolic.to_dict() if self.systolic else None
        out["interconnects"] = [i.to_dict() for i in self.interconnects]
        for key in ("tdp_w", "idle_power_w", "launch_year", "process_node"):
            out[key] = getattr(self, key).to_dict()
        out["purchase_price"] = self.purchase_price.to_dict()
        out["cloud"] = [c.to_dict() for c in self.cloud]
        out["fpga"] = self.fpga.to_dict() if self.fpga else None
        return out


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None
