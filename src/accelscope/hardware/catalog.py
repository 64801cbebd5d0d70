"""The hardware catalog: TOML files -> validated :class:`HardwareSpec` objects.

Built-in devices live in ``accelscope/hardware/data/<kind>/<name>.toml``, one file per
device; the file name (without ``.toml``) is the device's canonical name. Users add devices
from their own directories, given as ``paths=`` or in the environment variable
``ACCELSCOPE_HARDWARE_PATH`` (directories separated by ``os.pathsep``); every ``*.toml``
below such a directory is read.

Names are matched case-insensitively, with spaces and underscores read as hyphens, against
the canonical name, the ``aliases`` list of each file and the ``display_name``. So
``"h100"``, ``"H100 SXM"`` and ``"nvidia-h100-sxm5-80gb"`` all find ``h100-sxm``.

**Overrides.** A user file whose name, or one of whose aliases, is already taken by a
built-in device is an error, unless the file says ``override = true``: it then replaces the
built-in device *of the same file name* completely (no field-by-field merging). An
``override = true`` file that matches no built-in is an error too (it is almost always a
typo). Two user files may not claim the same name.

Validation happens on load and stops at the first problem, naming the file, the field and
what was expected: units must be SI (a bandwidth of ``3350`` is rejected because it cannot
be bytes/s of a real device; write ``3.35e12``), every known figure needs a ``source``,
prices need a ``date``, unknown keys are rejected with the list of valid ones.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from accelscope.errors import CatalogError, UnknownNameError
from accelscope.hardware.schema import (
    KINDS,
    AchievableTable,
    PEAK_COLUMNS,
    UNKNOWN,
    CloudOffering,
    Figure,
    FpgaResources,
    HardwareSpec,
    Interconnect,
    PeakTable,
    PurchasePrice,
    SystolicArray,
)

ENV_VAR = "ACCELSCOPE_HARDWARE_PATH"
SCHEMA_VERSION = 1

__all__ = ["ENV_VAR", "Catalog", "list_hardware", "load_hardware", "load_spec_file",
           "normalize_name"]


# --------------------------------------------------------------------------------------
# Field rules: what each numeric or text figure must look like.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    type: str  # "float", "int" or "str"
    unit: str = ""
    lo: float = 0.0
    hi: float = math.inf
    example: str = ""


_FLOPS = _Rule("float", "FLOP/s", 1e8, 1e18, "989.4 TFLOP/s is written 989.4e12")
_BYTES = _Rule("int", "bytes", 1e3, 1e16, "80 GB is written 80e9; 32 GiB is 34359738368")
_BW = _Rule("float", "bytes/s", 1e6, 1e17, "3.35 TB/s is written 3.35e12")
_HZ = _Rule("float", "Hz", 1e7, 1e10, "1410 MHz is written 1.41e9")
_WATT = _Rule("float", "W", 0.1, 1e5, "700 W is written 700")
_COUNT = _Rule("int", "count", 1, 1e8, "132 SMs is written 132")
_FPGA_COUNT = _Rule("int", "count", 0, 1e8, "2520 DSP slices is written 2520")
_YEAR = _Rule("int", "year", 1970, 2100, "2022")
_TEXT = _Rule("str", "text", example='"TSMC 4N"')
_SECONDS = _Rule("float", "s", 1e-8, 1e-2, "2.6 us is written 2.6e-6")

_SECTIONS: dict[str, dict[str, _Rule]] = {
    "peak_flops_per_s": {c: _FLOPS for c in PEAK_COLUMNS},
    "memory": {"mem_bytes": _BYTES, "mem_bandwidth_bytes_per_s": _BW, "mem_type": _TEXT,
               "onchip_mem_bytes": _BYTES},
    "compute": {"compute_units": _COUNT, "matrix_units": _COUNT, "clock_hz": _HZ,
                "base_clock_hz": _HZ},
    "power": {"tdp_w": _WATT, "idle_power_w": _WATT},
    "release": {"launch_year": _YEAR, "process_node": _TEXT},
    #: measured ceilings (``hardware/achievable.py``): dense GEMM FLOP/s per precision and
    #: memory bandwidth a tuned library or a STREAM-like kernel reaches on the device
    "achievable": {**{c: _FLOPS for c in PEAK_COLUMNS}, "mem_bandwidth_bytes_per_s": _BW,
                   "kernel_launch_s": _SECONDS, "graph_kernel_s": _SECONDS},
}
_TOP_KEYS = {"schema_version", "kind", "vendor", "display_name", "aliases", "notes",
             "override", "model", "architecture", "host", "sources", "purchase_price", "cloud", "interconnects", "systolic",
             "fpga", *_SECTIONS}
_FIGURE_KEYS = {"value", "source", "note", "derived", "unknown", "unsupported"}
_DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?|-Q[1-4])?$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_PRICING = ("on-demand", "reserved-1y", "reserved-3y", "capacity-block", "spot", "marketplace",
            "market-median")
_BASIS = ("msrp", "list", "street-estimate", "used-market", "kit-share")


def normalize_name(name: str) -> str:
    """Lower-case, spaces/underscores -> hyphens, runs of hyphens collapsed."""
    return re.sub(r"-{2,}", "-", re.sub(r"[\s_/]+", "-", name.strip().lower())).strip("-")


class _Ctx:
    """Where we are in a file, for error messages, plus its ``[sources]`` table."""

    def __init__(self, file: Path | str, sources: Mapping[str, str]):
        self.file = str(file)
        self.sources = sources

    def fail(self, where: str, expected: str, got: Any = None, todo: str = "") -> CatalogError:
        got_text = "" if got is None else f", got {got!r}"
        todo = todo or "Fix the field, or remove it to leave the figure unknown."
        return CatalogError(
            f"hardware file {self.file}: field '{where}': expected {expected}{got_text}. {todo}"
        )

    def source(self, where: str, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(where, "a non-empty source (a URL, a citation, or a key of "
                            "[sources])", raw)
        raw = raw.strip()
        if raw in self.sources:
            return self.sources[raw]
        if re.fullmatch(r"[A-Za-z0-9_.-]+", raw) and "." not in raw:
            valid = ", ".join(sorted(self.sources)) or "none defined"
            raise self.fail(where, f"a URL, a citation, or one of the [sources] keys ({valid})",
                            raw, "Define the key under [sources] or write the citation out.")
        return raw

    def text(self, where: str, raw: Any, *, optional: bool = False) -> str | None:
        if raw is None and optional:
            return None
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(where, "a non-empty string", raw)
        return raw.strip()

    def date(self, where: str, raw: Any) -> str:
        if not isinstance(raw, str) or not _DATE_RE.match(raw):
            raise self.fail(where, "a date 'YYYY', 'YYYY-MM', 'YYYY-MM-DD' or 'YYYY-Qn' "
                            "(prices always carry the date they were seen)", raw)
        return raw

    def number(self, where: str, raw: Any, rule: _Rule) -> float | int | str:
        if rule.type == "str":
            return self.text(where, raw)  # type: ignore[return-value]
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise self.fail(where, f"a number in {rule.unit} (SI units; {rule.example})", raw)
        if raw < 0:
            raise self.fail(where, f"a non-negative number in {rule.unit}", raw,
                            "Figures are magnitudes; an unknown figure is written "
                            "{ unknown = \"why\" }.")
        if not rule.lo <= raw <= rule.hi:
            raise self.fail(
                where, f"a value in {rule.unit} between {rule.lo:g} and {rule.hi:g} "
                f"({rule.example})", raw, "Check the unit: values are SI, not GB or MHz.")
        if rule.type == "int":
            if float(raw) != int(raw):
                raise self.fail(where, f"a whole number of {rule.unit}", raw)
            return int(raw)
        return float(raw)

    def figure(self, where: str, raw: Any, rule: _Rule) -> Figure:
        if not isinstance(raw, dict):
            raise self.fail(where, "an inline table such as { value = ..., source = \"...\" } "
                            "or { unknown = \"why\" }", raw)
        extra = set(raw) - _FIGURE_KEYS
        if extra:
            raise self.fail(where, f"only the keys {sorted(_FIGURE_KEYS)}", sorted(extra))
        note = self.text(f"{where}.note", raw.get("note"), optional=True)
        if "unknown" in raw or "unsupported" in raw:
            if "value" in raw:
                raise self.fail(where, "either value or unknown/unsupported, not both",
                                sorted(raw))
            key = "unsupported" if "unsupported" in raw else "unknown"
            reason = self.text(f"{where}.{key}", raw[key])
            return Figure(reason=reason, note=note, supported=(key == "unknown"),
                          source=(self.source(f"{where}.source", raw["source"])
                                  if "source" in raw else None))
        if "value" not in raw:
            raise self.fail(where, "a 'value' (or 'unknown = \"why\"')", sorted(raw))
        value = self.number(f"{where}.value", raw["value"], rule)
        if "source" not in raw:
            raise self.fail(f"{where}.source", "a source for every known figure (URL or "
                            "citation)", None, "Add source = \"...\" or mark the figure "
                            "{ unknown = \"why\" }.")
        return Figure(value=value, source=self.source(f"{where}.source", raw["source"]),
                      note=note,
                      derived=self.text(f"{where}.derived", raw.get("derived"), optional=True))

    def table(self, where: str, raw: Any, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, "a table", raw)
        allowed = set(allowed)
        extra = set(raw) - allowed
        if extra:
            bad = sorted(extra)[0]
            close = difflib.get_close_matches(bad, sorted(allowed), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise self.fail(f"{where}.{bad}" if where else bad,
                            f"one of the known keys {sorted(allowed)}", None,
                            f"Remove or rename the key (units go in names: mem_bytes, "
                            f"clock_hz, tdp_w).{hint}")
        return raw


# --------------------------------------------------------------------------------------
# One file -> one HardwareSpec
# --------------------------------------------------------------------------------------


def load_spec_file(path: str | os.PathLike[str], *, origin: str = "user") -> HardwareSpec:
    """Parse and validate one hardware TOML file.

    Raises :class:`~accelscope.errors.CatalogError` naming the file and the field when the
    file is not valid TOML or breaks a rule of the schema.
    """
    return _parse_file(Path(path), origin)[0]


def _parse_file(path: Path, origin: str) -> tuple[HardwareSpec, bool]:
    """The spec of one file, and whether the file asks to override a built-in device."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"hardware file {path}: not valid TOML ({exc}). Fix the syntax; "
                           "the README's `accelscope hardware` section shows the file format.") from None
    except OSError as exc:
        raise CatalogError(f"hardware file {path}: cannot be read ({exc}).") from None
    return _spec_from_dict(data, path, origin=origin)


def _spec_from_dict(data: dict[str, Any], path: Path, *, origin: str
                    ) -> tuple[HardwareSpec, bool]:
    name = path.stem
    pre = _Ctx(path, {})
    if not _NAME_RE.match(name):
        raise pre.fail("(file name)", "a lower-case name of letters, digits, '.', '+' and "
                       "'-' (the file name is the device name)", name,
                       "Rename the file, e.g. my-gpu.toml.")
    pre.table("", data, _TOP_KEYS)
    raw_sources = data.get("sources", {})
    pre.table("sources", raw_sources, raw_sources.keys() if isinstance(raw_sources, dict) else ())
    for key, val in raw_sources.items():
        pre.text(f"sources.{key}", val)
    ctx = _Ctx(path, {k: v.strip() for k, v in raw_sources.items()})

    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ctx.fail("schema_version", f"{SCHEMA_VERSION}", version)
    for key in ("kind", "vendor", "display_name"):
        if key not in data:
            raise ctx.fail(key, "this required key to be present", None,
                           f"Add {key} = \"...\" at the top of the file.")
    kind = ctx.text("kind", data["kind"])
    if kind not in KINDS:
        raise ctx.fail("kind", f"one of {', '.join(KINDS)}", kind)
    folder = path.parent.name
    if origin == "builtin" and folder in KINDS and folder != kind:
        raise ctx.fail("kind", f"'{folder}' (the folder the file is in)", kind,
                       "Move the file or fix its kind.")

    aliases_raw = data.get("aliases", [])
    if not isinstance(aliases_raw, list):
        raise ctx.fail("aliases", "a list of strings", aliases_raw)
    aliases = tuple(normalize_name(ctx.text(f"aliases[{i}]", a)) for i, a in enumerate(aliases_raw))
    notes_raw = data.get("notes", [])
    notes_list = [notes_raw] if isinstance(notes_raw, str) else notes_raw
    if not isinstance(notes_list, list):
        raise ctx.fail("notes", "a string or a list of strings", notes_raw)
    notes = tuple(ctx.text(f"notes[{i}]", n) for i, n in enumerate(notes_list))
    override = data.get("override", False)
    if not isinstance(override, bool):
        raise ctx.fail("override", "true or false", override)
    performance_model = ctx.text("model", data.get("model"), optional=True)
    architecture = ctx.text("architecture", data.get("architecture"), optional=True)
    host = ctx.text("host", data.get("host"), optional=True)

    figs: dict[str, Figure] = {}
    peaks: dict[str, Figure] = {}
    achievable: dict[str, Figure] = {}
    extra_text: dict[str, str | None] = {"compute_unit_kind": None}
    for section, rules in _SECTIONS.items():
        allowed = set(rules) | ({"compute_unit_kind"} if section == "compute" else set())
        sec = ctx.table(section, data.get(section, {}), allowed)
        for key, raw in sec.items():
            if key == "compute_unit_kind":
                extra_text[key] = ctx.text(f"{section}.{key}", raw)
                continue
            fig = ctx.figure(f"{section}.{key}", raw, rules[key])
            {"peak_flops_per_s": peaks, "achievable": achievable}.get(section, figs)[key] = fig

    spec = HardwareSpec(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        vendor=ctx.text("vendor", data["vendor"]),  # type: ignore[arg-type]
        display_name=ctx.text("display_name", data["display_name"]),  # type: ignore[arg-type]
        aliases=aliases,
        notes=notes,
        dense_peaks=PeakTable(**peaks),
        measured_ceilings=AchievableTable(**achievable),
        architecture=architecture,
        host=host,
        compute_unit_kind=extra_text["compute_unit_kind"],
        systolic=_systolic(ctx, data.get("systolic")),
        interconnects=_interconnects(ctx, data.get("interconnects", [])),
        purchase_price=_purchase(ctx, data.get("purchase_price")),
        cloud=_cloud(ctx, data.get("cloud", [])),
        fpga=_fpga(ctx, data.get("fpga")),
        performance_model=performance_model,
        file=str(path),
        origin=origin,
        **figs,
    )
    return spec, override


_SRAM = _Rule("int", "bytes", 100, 1e12, "64 KiB is written 65536")
_OPERANDS = ("ifmap", "filter", "ofmap")


def _systolic(ctx: _Ctx, raw: Any) -> SystolicArray | None:
    if raw is None:
        return None
    t = ctx.table("systolic", raw, {"rows", "cols", "count", "dtype", "source", "note", "dataflow",
                                    "ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes",
                                    "offchip_operands"})
    for key in ("rows", "cols", "count", "dtype", "source"):
        if key not in t:
            raise ctx.fail(f"systolic.{key}", "this required key", None)
    sram = {k: ctx.number(f"systolic.{k}", t[k], _SRAM) if k in t else None
            for k in ("ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes")}
    operands = t.get("offchip_operands")
    if operands is not None:
        if not isinstance(operands, list) or not operands or any(o not in _OPERANDS for o in operands):
            raise ctx.fail("systolic.offchip_operands", f"a list of {', '.join(_OPERANDS)}", operands)
        operands = tuple(operands)
    return SystolicArray(
        rows=ctx.number("systolic.rows", t["rows"], _COUNT),  # type: ignore[arg-type]
        cols=ctx.number("systolic.cols", t["cols"], _COUNT),  # type: ignore[arg-type]
        count=ctx.number("systolic.count", t["count"], _COUNT),  # type: ignore[arg-type]
        dtype=ctx.text("systolic.dtype", t["dtype"]),  # type: ignore[arg-type]
        source=ctx.source("systolic.source", t["source"]),
        note=ctx.text("systolic.note", t.get("note"), optional=True),
        dataflow=ctx.text("systolic.dataflow", t.get("dataflow"), optional=True),
        offchip_operands=operands,
        **sram,  # type: ignore[arg-type]
    )


def _interconnects(ctx: _Ctx, raw: Any) -> tuple[Interconnect, ...]:
    if not isinstance(raw, list):
        raise ctx.fail("interconnects", "an array of tables ([[interconnects]])", raw)
    out = []
    for i, item in enumerate(raw):
        where = f"interconnects[{i}]"
        t = ctx.table(where, item, {"name", "bandwidth_bytes_per_s", "bidirectional", "note"})
        if "name" not in t:
            raise ctx.fail(f"{where}.name", "the link's name", None)
        bidir = t.get("bidirectional")
        if bidir is not None and not isinstance(bidir, bool):
            raise ctx.fail(f"{where}.bidirectional", "true or false", bidir)
        bw = (ctx.figure(f"{where}.bandwidth_bytes_per_s", t["bandwidth_bytes_per_s"], _BW)
              if "bandwidth_bytes_per_s" in t else UNKNOWN)
        out.append(Interconnect(name=ctx.text(f"{where}.name", t["name"]),  # type: ignore[arg-type]
                                bandwidth_bytes_per_s=bw, bidirectional=bidir,
                                note=ctx.text(f"{where}.note", t.get("note"), optional=True)))
    return tuple(out)


_USD = _Rule("float", "USD", 0, 1e8, "1599")
_USD_H = _Rule("float", "USD per hour", 0, 1e4, "98.32")


def _purchase(ctx: _Ctx, raw: Any) -> PurchasePrice:
    if raw is None:
        return PurchasePrice(reason="not in the catalog file")
    t = ctx.table("purchase_price", raw,
                  {"usd", "usd_max", "date", "basis", "source", "note", "unknown"})
    note = ctx.text("purchase_price.note", t.get("note"), optional=True)
    if "unknown" in t:
        if "usd" in t:
            raise ctx.fail("purchase_price", "either usd or unknown, not both", sorted(t))
        return PurchasePrice(reason=ctx.text("purchase_price.unknown", t["unknown"]), note=note)
    for key in ("usd", "date", "basis", "source"):
        if key not in t:
            raise ctx.fail(f"purchase_price.{key}", "this key for a known price (a price "
                           "needs its date, basis and source)", None)
    usd = ctx.number("purchase_price.usd", t["usd"], _USD)
    usd_max = ctx.number("purchase_price.usd_max", t["usd_max"], _USD) if "usd_max" in t else None
    if usd_max is not None and usd_max < usd:  # type: ignore[operator]
        raise ctx.fail("purchase_price.usd_max", f"a value >= usd ({usd})", usd_max)
    basis = ctx.text("purchase_price.basis", t["basis"])
    if basis not in _BASIS:
        raise ctx.fail("purchase_price.basis", f"one of {', '.join(_BASIS)}", basis)
    return PurchasePrice(usd=usd, usd_max=usd_max,  # type: ignore[arg-type]
                         date=ctx.date("purchase_price.date", t["date"]), basis=basis,
                         source=ctx.source("purchase_price.source", t["source"]), note=note)


def _cloud(ctx: _Ctx, raw: Any) -> tuple[CloudOffering, ...]:
    if not isinstance(raw, list):
        raise ctx.fail("cloud", "an array of tables ([[cloud]])", raw)
    out = []
    keys = {"provider", "instance", "devices_per_instance", "usd_per_hour", "pricing", "date",
            "source", "region", "note", "stale"}
    for i, item in enumerate(raw):
        where = f"cloud[{i}]"
        t = ctx.table(where, item, keys)
        for key in ("provider", "instance", "devices_per_instance", "usd_per_hour", "pricing",
                    "date", "source"):
            if key not in t:
                raise ctx.fail(f"{where}.{key}", "this required key of a cloud offering", None)
        pricing = ctx.text(f"{where}.pricing", t["pricing"])
        if pricing not in _PRICING:
            raise ctx.fail(f"{where}.pricing", f"one of {', '.join(_PRICING)}", pricing)
        out.append(CloudOffering(
            provider=ctx.text(f"{where}.provider", t["provider"]),  # type: ignore[arg-type]
            instance=ctx.text(f"{where}.instance", t["instance"]),  # type: ignore[arg-type]
            devices_per_instance=ctx.number(f"{where}.devices_per_instance",  # type: ignore[arg-type]
                                            t["devices_per_instance"], _COUNT),
            usd_per_hour=ctx.number(f"{where}.usd_per_hour", t["usd_per_hour"], _USD_H),  # type: ignore[arg-type]
            pricing=pricing,  # type: ignore[arg-type]
            date=ctx.date(f"{where}.date", t["date"]),
            source=ctx.source(f"{where}.source", t["source"]),
            region=ctx.text(f"{where}.region", t.get("region"), optional=True),
            note=ctx.text(f"{where}.note", t.get("note"), optional=True),
            stale=ctx.text(f"{where}.stale", t.get("stale"), optional=True),
        ))
    return tuple(out)


def _fpga(ctx: _Ctx, raw: Any) -> FpgaResources | None:
    if raw is None:
        return None
    res = ("dsp", "lut", "ff", "bram", "uram", "ai_engines")
    t = ctx.table("fpga", raw, {"part", "note", *res})
    if "part" not in t:
        raise ctx.fail("fpga.part", "the FPGA part number (e.g. \"XCZU9EG\")", None)
    figs = {k: ctx.figure(f"fpga.{k}", t[k], _FPGA_COUNT) for k in res if k in t}
    return FpgaResources(part=ctx.text("fpga.part", t["part"]),  # type: ignore[arg-type]
                         note=ctx.text("fpga.note", t.get("note"), optional=True), **figs)


# --------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------


def _builtin_files() -> list[Path]:
    root = resources.files("accelscope.hardware") / "data"
    return sorted(Path(str(root)).glob("*/*.toml"))


def builtin_specs() -> tuple[HardwareSpec, ...]:
    """Every built-in device (parsed once)."""
    return _builtin_specs()


@lru_cache(maxsize=1)
def _builtin_specs() -> tuple[HardwareSpec, ...]:
    return tuple(load_spec_file(p, origin="builtin") for p in _builtin_files())


def _user_dirs(paths: Sequence[str | os.PathLike[str]] | None, use_env: bool) -> list[Path]:
    dirs: list[tuple[Path, str]] = []
    if use_env and os.environ.get(ENV_VAR):
        dirs += [(Path(p), f"{ENV_VAR}") for p in os.environ[ENV_VAR].split(os.pathsep) if p]
    dirs += [(Path(p), "--hardware-path (paths=)") for p in (paths or ())]
    out = []
    for d, via in dirs:
        if not d.is_dir():
            raise CatalogError(f"{via} names {str(d)!r}, which is not a directory; expected a "
                               "directory of hardware *.toml files. Create it or fix the path.")
        out.append(d)
    return out


class Catalog:
    """Built-in plus user hardware specs, found by name (see the module docstring)."""

    def __init__(self, specs: Iterable[HardwareSpec]):
        self._specs: dict[str, HardwareSpec] = {}
        self._lookup: dict[str, str] = {}
        for spec in specs:
            self._add(spec)

    @classmethod
    def load(cls, paths: Sequence[str | os.PathLike[str]] | None = None, *,
             use_env: bool = True, include_builtin: bool = True) -> Catalog:
        """Built-in devices plus every ``*.toml`` under ``paths`` and ``$ACCELSCOPE_HARDWARE_PATH``."""
        builtin = list(_builtin_specs()) if include_builtin else []
        by_name = {s.name: s for s in builtin}
        user: dict[str, HardwareSpec] = {}
        for d in _user_dirs(paths, use_env):
            for f in sorted(d.rglob("*.toml")):
                spec, wants_override = _parse_file(f, "user")
                if spec.name in user:
                    raise CatalogError(
                        f"hardware file {f}: device name '{spec.name}' is also defined by "
                        f"{user[spec.name].file}; expected each user device once. Rename or "
                        "remove one of the files.")
                if wants_override and spec.name not in by_name:
                    raise CatalogError(
                        f"hardware file {f}: field 'override': expected a built-in device "
                        f"named '{spec.name}' to replace, found none. Remove 'override = "
                        "true', or name the file after the built-in device (see "
                        "`accelscope hardware list`).")
                if spec.name in by_name and not wants_override:
                    raise CatalogError(
                        f"hardware file {f}: device name '{spec.name}' is a built-in device "
                        f"({by_name[spec.name].file}); expected a new name or an explicit "
                        "override. Add 'override = true' to replace the built-in, or rename "
                        "the file.")
                user[spec.name] = spec
        merged = [s for s in builtin if s.name not in user] + list(user.values())
        return cls(merged)

    def _add(self, spec: HardwareSpec) -> None:
        if spec.name in self._specs:
            raise CatalogError(f"hardware file {spec.file}: device name '{spec.name}' is "
                               f"already defined by {self._specs[spec.name].file}.")
        keys = {spec.name, *spec.aliases, normalize_name(spec.display_name)}
        for key in keys:
            owner = self._lookup.get(key)
            if owner is not None and owner != spec.name:
                other = self._specs[owner]
                raise CatalogError(
                    f"hardware file {spec.file}: name or alias '{key}' is already used by "
                    f"'{owner}' ({other.file}); expected names and aliases to be unique. "
                    "Remove the alias from one of the files"
                    + (" (a user file may only reuse a built-in name with override = true)."
                       if "user" in (spec.origin, other.origin) else "."))
        self._specs[spec.name] = spec
        for key in keys:
            self._lookup[key] = spec.name

    def get(self, name: str) -> HardwareSpec:
        """The spec named ``name`` (canonical name, alias or display name, any case)."""
        key = normalize_name(name)
        if key in self._lookup:
            return self._specs[self._lookup[key]]
        raise UnknownNameError("hardware", name, self.suggestion_pool(key))

    def suggestion_pool(self, key: str) -> list[str]:
        """Canonical names, plus the aliases that look like ``key`` (for 'did you mean')."""
        close = difflib.get_close_matches(key, list(self._lookup), n=3, cutoff=0.6)
        return sorted(set(self._specs) | {self._lookup[c] for c in close} | set(close))

    def names(self, kind: str | None = None) -> list[str]:
        return [s.name for s in self.specs(kind)]

    def specs(self, kind: str | None = None) -> list[HardwareSpec]:
        """All specs, sorted by kind (cpu, gpu, tpu, asic, fpga) and name."""
        if kind is not None and kind not in KINDS:
            raise UnknownNameError("hardware kind", kind, list(KINDS))
        order = {k: i for i, k in enumerate(KINDS)}
        return sorted((s for s in self._specs.values() if kind is None or s.kind == kind),
                      key=lambda s: (order[s.kind], s.name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self._lookup

    def __len__(self) -> int:
        return len(self._specs)

    def __iter__(self):
        return iter(self.specs())


def load_hardware(name: str, *, paths: Sequence[str | os.PathLike[str]] | None = None,
                  use_env: bool = True) -> HardwareSpec:
    """Find one device by name, alias or display name (case-insensitive).

    ``name`` may also be the path of a ``.toml`` file, which is loaded on its own. User
    directories come from ``paths`` and ``$ACCELSCOPE_HARDWARE_PATH``. An unknown name
    raises :class:`~accelscope.errors.UnknownNameError` listing the valid names and the
    closest matches.
    """
    if name.endswith(".toml") and Path(name).is_file():
        return load_spec_file(name, origin="user")
    return Catalog.load(paths, use_env=use_env).get(name)


def list_hardware(kind: str | None = None, *,
                  paths: Sequence[str | os.PathLike[str]] | None = None,
                  use_env: bool = True) -> list[HardwareSpec]:
    """Every device (optionally of one ``kind``), sorted by kind and name."""
    return Catalog.load(paths, use_env=use_env).specs(kind)
