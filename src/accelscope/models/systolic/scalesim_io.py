"""SCALE-Sim files: read its ``.cfg`` and topology CSVs, write its configuration and reports.

Formats as SCALE-Sim 3.0.0 reads them (``scale_config.py``, ``topology_utils.py``):

* ``.cfg``: an INI file with ``[general] run_name``, ``[architecture_presets]`` (ArrayHeight,
  ArrayWidth, IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, offsets, Dataflow, Bandwidth,
  request buffer sizes), ``[run_presets] InterfaceBandwidth = CALC | USER``, ``[layout]`` and
  ``[sparsity]``. Sizes are kB of 1024 bytes. In USER mode SCALE-Sim 3.0.0 takes the ifmap and
  filter DRAM bandwidths from ``[layout] IfmapSRAMBankBandwidth`` / ``FilterSRAMBankBandwidth``
  and only the ofmap one from ``Bandwidth`` (``single_layer_sim.py``); this reader does the same.
* Convolution topology: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
  Channels, Num Filter, Strides,`` (one stride for both directions), an optional sparsity
  ratio ``N:M``. A layer whose name contains ``DP`` is depthwise and becomes one single-channel
  layer per channel, as SCALE-Sim does.
* GEMM topology: ``Layer, M, N, K,``.

SCALE-Sim drops the last field of every row (it expects a trailing comma); this reader only
drops a trailing empty field, so rows without the comma are read whole.
"""

from __future__ import annotations

import configparser
import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from accelscope.errors import ConfigError
from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.engine import LayerResult
from accelscope.models.systolic.layers import Layer

KIB = 1024  # SCALE-Sim's kB


def _get(cp: configparser.ConfigParser, section: str, key: str, default=None, path=""):
    if cp.has_option(section, key):
        return cp.get(section, key).strip()
    if default is None:
        raise ConfigError(f"{path}: [{section}] {key} is missing; SCALE-Sim configs need it.")
    return default


def read_config(path: str | Path, *, word_bytes: int = 1, clock_hz: float = 1e9) -> tuple[ArrayConfig, str]:
    """Parse a SCALE-Sim ``.cfg``; returns the config and the topology path it names ("" if none)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"SCALE-Sim config {str(path)!r} does not exist; give the path of a .cfg file.")
    cp = configparser.ConfigParser()
    try:
        cp.read(path)
    except configparser.Error as exc:
        raise ConfigError(f"{path}: not a valid SCALE-Sim config ({exc}).") from exc
    arch = "architecture_presets"
    p = str(path)
    try:
        rows = int(_get(cp, arch, "ArrayHeight", path=p))
        cols = int(_get(cp, arch, "ArrayWidth", path=p))
        kb = [int(_get(cp, arch, key, path=p))
              for key in ("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB")]
    except ValueError as exc:
        raise ConfigError(f"{path}: array sizes and SRAM sizes must be integers ({exc}).") from exc
    dataflow = _get(cp, arch, "Dataflow", path=p).lower()
    mode = _get(cp, "run_presets", "InterfaceBandwidth", "CALC").upper()
    if mode not in ("CALC", "USER"):
        raise ConfigError(f"{path}: InterfaceBandwidth must be CALC or USER, got {mode!r}.")
    bw = None
    if mode == "USER":
        ofmap_bw = int(_get(cp, arch, "Bandwidth", path=p).split(",")[0])
        ifmap_bw = int(_get(cp, "layout", "IfmapSRAMBankBandwidth", "10"))
        filter_bw = int(_get(cp, "layout", "FilterSRAMBankBandwidth", "10"))
        bw = (ifmap_bw, filter_bw, ofmap_bw)
    if _get(cp, "sparsity", "SparsitySupport", "false").lower() == "true":
        raise ConfigError(f"{path}: sparsity support is not modelled; set SparsitySupport = false.")
    for section, key, what in (("layout", "IfmapCustomLayout", "custom memory layouts"),
                               ("layout", "FilterCustomLayout", "custom memory layouts"),
                               ("run_presets", "UseRamulatorTrace", "Ramulator DRAM traces")):
        if _get(cp, section, key, "false").lower() == "true":
            raise ConfigError(f"{path}: {what} ({key} = True) are not modelled; set {key} = False "
                              "to simulate the rest of the configuration.")
    topo = ""
    if cp.has_option("network_presets", "TopologyCsvLoc"):
        topo = cp.get("network_presets", "TopologyCsvLoc").strip().strip('"')
    name = _get(cp, "general", "run_name", "scale_run")
    cfg = ArrayConfig(rows=rows, cols=cols, dataflow=dataflow, ifmap_sram_bytes=kb[0] * KIB,
                      filter_sram_bytes=kb[1] * KIB, ofmap_sram_bytes=kb[2] * KIB,
                      word_bytes=word_bytes, clock_hz=clock_hz, dram_bw_words_per_cycle=bw,
                      name=name)
    return cfg, topo


def config_text(cfg: ArrayConfig) -> str:
    """A SCALE-Sim 3.0.0 ``.cfg`` for ``cfg`` (sizes must be whole kB of 1024 bytes)."""
    sizes = []
    for field in ("ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes"):
        value = getattr(cfg, field) * 1  # bytes; SCALE-Sim words are bytes
        if cfg.word_bytes != 1 or value % KIB:
            raise ConfigError(f"{field}={value} with word_bytes={cfg.word_bytes} has no SCALE-Sim "
                              "equivalent; it needs one-byte words and whole kB (1024 B).")
        sizes.append(value // KIB)
    if cfg.dram_bw_words_per_cycle is None:
        mode, ifb, fib, ofb = "CALC", 10, 10, 10
    else:
        mode = "USER"
        ifb, fib, ofb = cfg.dram_bw_words_per_cycle
    return f"""[general]
run_name = {cfg.name}

[architecture_presets]
ArrayHeight : {cfg.rows}
ArrayWidth : {cfg.cols}
IfmapSramSzkB : {sizes[0]}
FilterSramSzkB : {sizes[1]}
OfmapSramSzkB : {sizes[2]}
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Dataflow : {cfg.dataflow}
Bandwidth : {ofb}
ReadRequestBuffer : 32
WriteRequestBuffer : 32

[layout]
IfmapCustomLayout : False
IfmapSRAMBankBandwidth : {ifb}
IfmapSRAMBankNum : 1
IfmapSRAMBankPort : 2
FilterCustomLayout : False
FilterSRAMBankBandwidth : {fib}
FilterSRAMBankNum : 1
FilterSRAMBankPort : 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : {mode}
UseRamulatorTrace : False
"""


def _rows(text: str) -> list[list[str]]:
    out = []
    for line in text.splitlines()[1:]:  # the first line is a header
        if not line.strip():
            continue
        fields = [f.strip() for f in next(csv.reader([line]))]
        if fields and fields[-1] == "":
            fields = fields[:-1]
        out.append(fields)
    return out


def _sparsity_check(fields: Sequence[str], where: str) -> None:
    if fields and ":" in fields[-1]:
        a, b = fields[-1].split(":")
        if a.strip() != b.strip():
            raise ConfigError(f"{where}: sparsity ratio {fields[-1]} is not modelled; use 1:1.")


def parse_topology(text: str, kind: str | None = None, where: str = "topology") -> list[Layer]:
    """Layers from the text of a SCALE-Sim topology CSV (``kind`` "conv", "gemm" or auto)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ConfigError(f"{where}: empty topology; expected a header line and one row per layer.")
    header = [h.strip().lower() for h in lines[0].split(",") if h.strip()]
    if kind is None:
        kind = "gemm" if header[1:4] == ["m", "n", "k"] else "conv"
    if kind not in ("conv", "gemm"):
        raise ConfigError(f"topology kind must be 'conv' or 'gemm', got {kind!r}.")
    layers: list[Layer] = []
    for i, fields in enumerate(_rows(text), start=2):
        here = f"{where} line {i}"
        _sparsity_check(fields, here)
        nums = [f for f in fields[1:] if ":" not in f]
        try:
            vals = [int(x) for x in nums]
        except ValueError as exc:
            raise ConfigError(f"{here}: expected integers after the layer name ({exc}).") from exc
        name = fields[0]
        if kind == "gemm":
            if len(vals) < 3:
                raise ConfigError(f"{here}: a GEMM row is 'name, M, N, K'; got {fields}.")
            m, n, k = vals[:3]
            layers.append(Layer.gemm(name, m, n, k))
            continue
        if len(vals) < 7:
            raise ConfigError(
                f"{here}: a convolution row is 'name, IFMAP H, IFMAP W, Filter H, Filter W, "
                f"Channels, Num Filter, Stride'; got {fields}."
            )
        h, w, fh, fw, ch, nf, stride = vals[:7]
        if "DP" in name:
            layers.extend(Layer(name=f"{name}Channel_{c}", ifmap_h=h, ifmap_w=w, filter_h=fh,
                                filter_w=fw, channels=1, num_filters=nf, stride_h=stride,
                                stride_w=stride) for c in range(ch))
        else:
            layers.append(Layer(name=name, ifmap_h=h, ifmap_w=w, filter_h=fh, filter_w=fw,
                                channels=ch, num_filters=nf, stride_h=stride, stride_w=stride))
    return layers


def read_topology(path: str | Path, kind: str | None = None) -> list[Layer]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"topology {str(path)!r} does not exist; give the path of a SCALE-Sim CSV.")
    return parse_topology(path.read_text(), kind, str(path))


def topology_text(layers: Iterable[Layer], kind: str = "conv") -> str:
    """A SCALE-Sim topology CSV. GEMM format needs GEMM-shaped layers; strides must be equal."""
    buf = io.StringIO()
    if kind == "gemm":
        buf.write("Layer, M, N, K,\n")
        for layer in layers:
            if not (layer.filter_h == 1 and layer.channels == 1 and layer.filter_w == layer.ifmap_w):
                raise ConfigError(f"layer {layer.name!r} is not a GEMM; write a conv topology.")
            buf.write(f"{layer.name}, {layer.m}, {layer.n}, {layer.k},\n")
        return buf.getvalue()
    buf.write("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
              "Num Filter, Strides,\n")
    for layer in layers:
        if layer.stride_h != layer.stride_w:
            raise ConfigError(f"layer {layer.name!r}: SCALE-Sim topologies have one stride.")
        buf.write(f"{layer.name}, {layer.ifmap_h}, {layer.ifmap_w}, {layer.filter_h}, "
                  f"{layer.filter_w}, {layer.channels}, {layer.num_filters}, {layer.stride_h},\n")
    return buf.getvalue()


# -- reports ------------------------------------------------------------------------------
COMPUTE_HEADER = ("LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, "
                  "Overall Util %, Mapping Efficiency %, Compute Util %,")
BANDWIDTH_HEADER = ("LayerID, Avg IFMAP SRAM BW, Avg FILTER SRAM BW, Avg OFMAP SRAM BW, "
                    "Avg IFMAP DRAM BW, Avg FILTER DRAM BW, Avg OFMAP DRAM BW,")
DETAIL_HEADER = (
    "LayerID, SRAM IFMAP Start Cycle, SRAM IFMAP Stop Cycle, SRAM IFMAP Reads, "
    "SRAM Filter Start Cycle, SRAM Filter Stop Cycle, SRAM Filter Reads, "
    "SRAM OFMAP Start Cycle, SRAM OFMAP Stop Cycle, SRAM OFMAP Writes, "
    "DRAM IFMAP Start Cycle, DRAM IFMAP Stop Cycle, DRAM IFMAP Reads, "
    "DRAM Filter Start Cycle, DRAM Filter Stop Cycle, DRAM Filter Reads, "
    "DRAM OFMAP Start Cycle, DRAM OFMAP Stop Cycle, DRAM OFMAP Writes,"
)


#: the report files ``write_reports`` writes (SCALE-Sim's names)
REPORT_FILES = ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv")


def report_texts(results: Sequence[LayerResult]) -> dict[str, str]:
    """SCALE-Sim's COMPUTE, BANDWIDTH and DETAILED_ACCESS reports (same columns and units)."""
    comp, bw, det = [COMPUTE_HEADER], [BANDWIDTH_HEADER], [DETAIL_HEADER]
    for i, r in enumerate(results):
        comp.append(f"{i}, {r.total_cycles}, {r.compute_cycles}, {r.stall_cycles}, "
                    f"{r.overall_util * 100}, {r.mapping_eff * 100}, {r.compute_util * 100},")
        s, d = r.avg_sram_bw_words_per_cycle, r.avg_dram_bw_words_per_cycle
        bw.append(f"{i}, {s['ifmap']}, {s['filter']}, {s['ofmap']}, "
                  f"{d['ifmap']}, {d['filter']}, {d['ofmap']},")
        sc, dc = r.sram_cycles, r.dram_cycles
        det.append(
            f"{i}, {sc['ifmap'][0]}, {sc['ifmap'][1]}, {r.sram_reads.ifmap}, "
            f"{sc['filter'][0]}, {sc['filter'][1]}, {r.sram_reads.filter}, "
            f"{sc['ofmap'][0]}, {sc['ofmap'][1]}, {r.sram_writes.ofmap}, "
            f"{dc['ifmap'][0]}, {dc['ifmap'][1]}, {r.dram_reads.ifmap}, "
            f"{dc['filter'][0]}, {dc['filter'][1]}, {r.dram_reads.filter}, "
            f"{dc['ofmap'][0]}, {dc['ofmap'][1]}, {r.dram_writes.ofmap},"
        )
    return dict(zip(REPORT_FILES, ("\n".join(lines) + "\n" for lines in (comp, bw, det))))


def write_reports(results: Sequence[LayerResult], out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in report_texts(results).items():
        p = out / name
        p.write_text(text)
        paths.append(p)
    return paths


#: SCALE-Sim report columns and how to read each off a LayerResult: the counts (compared
#: exactly against scalesim) and the utilisation percentages (compared to rounding).
REPORT_COUNT_FIELDS = {
    "Total Cycles (incl. prefetch)": lambda r: r.total_cycles,
    "Total Cycles": lambda r: r.compute_cycles,
    "Stall Cycles": lambda r: r.stall_cycles,
    "SRAM IFMAP Start Cycle": lambda r: r.sram_cycles["ifmap"][0],
    "SRAM IFMAP Stop Cycle": lambda r: r.sram_cycles["ifmap"][1],
    "SRAM IFMAP Reads": lambda r: r.sram_reads.ifmap,
    "SRAM Filter Start Cycle": lambda r: r.sram_cycles["filter"][0],
    "SRAM Filter Stop Cycle": lambda r: r.sram_cycles["filter"][1],
    "SRAM Filter Reads": lambda r: r.sram_reads.filter,
    "SRAM OFMAP Start Cycle": lambda r: r.sram_cycles["ofmap"][0],
    "SRAM OFMAP Stop Cycle": lambda r: r.sram_cycles["ofmap"][1],
    "SRAM OFMAP Writes": lambda r: r.sram_writes.ofmap,
    "DRAM IFMAP Start Cycle": lambda r: r.dram_cycles["ifmap"][0],
    "DRAM IFMAP Stop Cycle": lambda r: r.dram_cycles["ifmap"][1],
    "DRAM IFMAP Reads": lambda r: r.dram_reads.ifmap,
    "DRAM Filter Start Cycle": lambda r: r.dram_cycles["filter"][0],
    "DRAM Filter Stop Cycle": lambda r: r.dram_cycles["filter"][1],
    "DRAM Filter Reads": lambda r: r.dram_reads.filter,
    "DRAM OFMAP Start Cycle": lambda r: r.dram_cycles["ofmap"][0],
    "DRAM OFMAP Stop Cycle": lambda r: r.dram_cycles["ofmap"][1],
    "DRAM OFMAP Writes": lambda r: r.dram_writes.ofmap,
}
REPORT_PERCENT_FIELDS = {
    "Overall Util %": lambda r: 100 * r.overall_util,
    "Mapping Efficiency %": lambda r: 100 * r.mapping_eff,
    "Compute Util %": lambda r: 100 * r.compute_util,
}
