"""The row-stationary (RS) dataflow of Eyeriss: a mapping search and per-level access counts.

Chen, Krishna, Emer and Sze, "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for Deep
Convolutional Neural Networks", IEEE JSSC 52(1), 2017 (section IV-A), and Chen, Emer and Sze,
"Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for CNNs", ISCA 2016. The
mapping, in the paper's terms (N images, M filters, C channels, R x S filters, E x F ofmaps,
stride U):

* **1-D primitive**: one PE convolves one filter row (S weights) with one ifmap row and makes
  one row of partial sums; the filter row stays in the PE's filter scratchpad, the ifmap row
  slides through its ifmap scratchpad (S words), the psums accumulate in its psum scratchpad.
* **PE set**: R x e PEs compute e ofmap rows (e <= E: "strip-mined" when the R x E set does not
  fit): filter rows are reused horizontally, ifmap rows diagonally, psums accumulate
  vertically. A set wider than the array is split into segments stacked vertically (AlexNet
  CONV2's 5 x 27 as 5 x 14 and 5 x 13). Filters taller than the array are not supported.
* **Per PE**: p filters x q channels interleaved (scratchpads: filter p q S, ifmap q S, psum p).
* **Per array**: r x t sets, r taking different channels (their psums added in the array), t
  different filters (sharing the ifmap).
* **Processing pass**: q r channels of p t filters for n images over one strip of e rows. The
  global buffer (GLB) holds the pass's ifmaps (n q r channels of the strip's input rows) and the
  psums of m filters (a multiple of p t) across the C / (q r) channel passes, so ifmaps are read
  from DRAM once per m filters and psums leave for DRAM once, complete. Filters go from DRAM to
  the array directly (the GLB's filter region is a prefetch buffer; counted as bypassed).

Counts per layer (``RSCounts``), each a number of words moved, with multicast counted once per
receiving PE at the array level (the ISCA 2016 energy analysis counts per access):

* DRAM: ifmap reads = (input rows of every strip) x ceil(M / m); filter reads = filter words x
  ceil(N / n) x strips; ofmap writes = N M E F.
* GLB: ifmap writes = the DRAM ifmap reads, ifmap reads = (input rows of every strip) x
  ceil(M / (p t)); psum writes = N M E F x ceil(C / (q r)), reads = N M E F x (ceil(C / (q r)) - 1).
* Array (inter-PE network): filters = filter words x ceil(N / n) x E (each weight to the e PEs of
  its set row); ifmaps = N C R E W x ceil(M / p) (each PE of each set receives its ifmap row, W
  words, per channel and image); psums = N M E F x (R ceil(C / q) - ceil(C / (q r))) (R - 1 hops
  up each set's columns and on through the pass's sets: r R - 1 per output per pass).
* Register files: every MAC reads its filter and ifmap scratchpads and reads and writes its psum
  scratchpad; the filter and ifmap scratchpads are written what the array delivers.

Cycles: each PE does one MAC per cycle, n F p q S MACs per pass (fewer in partial passes), so a
layer takes about passes x n F p q S cycles, passes = ceil(N / n) x strips x ceil(M / (p t)) x
ceil(C / (q r)); a DRAM interface of finite words per cycle bounds each layer from below. Energy is the ISCA 2016
normalised costs per access (MAC 1, register file 1, array 2, GLB 6, DRAM 200, in
``data/eyeriss.toml`` with their source) times a MAC's energy at the node and precision
(``EnergyModel``, Horowitz scaled by Stillmaker-Baas). The mapping is found by search over every
valid (n, e, p, q, r, t) with the largest m that fits (Eyeriss's come from an offline energy
optimisation, ISCA 2016 ref. [32]): by default the least normalised energy x cycles
(``objective="edp"``; or least energy, or fewest cycles), or one given (:class:`Mapping`). A
pure energy objective picks slow mappings at nearly equal energy (AlexNet CONV1: 0.7% less
energy than the paper's 11 x 7, t = 2 mapping, at 57% of its speed).

Not modelled: Eyeriss's run-length compression of ifmaps and ofmaps in DRAM (which cuts fmap
DRAM traffic by 30-75% on AlexNet), zero skipping (its clock gating of zero ifmaps), the
network's delivery bandwidth, and the idle time of partial strips and passes beyond whole-pass
cycles.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from accelscope.errors import ConfigError
from accelscope.models.systolic.energy import EnergyModel
from accelscope.models.systolic.layers import Layer

LEVELS = ("rf", "array", "glb", "dram")


@lru_cache(maxsize=1)
def constants() -> dict:
    """``data/eyeriss.toml``: the JSSC 2017 chip and the ISCA 2016 normalised costs, with sources."""
    text = resources.files("accelscope.models.systolic").joinpath("data/eyeriss.toml").read_text()
    return tomllib.loads(text)


def normalised_costs() -> dict[str, float]:
    c = constants()["normalised_energy"]
    return {k: float(c[k]) for k in ("mac", "rf", "array", "glb", "dram")}


@dataclass(frozen=True, slots=True, kw_only=True)
class RSConfig:
    """A row-stationary accelerator. Defaults: the Eyeriss chip of JSSC 2017 (``data/eyeriss.toml``):
    a 12 x 14 PE array, scratchpads of 12 ifmap, 224 filter and 24 psum words per PE, 100 kB of the
    108 kB GLB for ifmaps and psums, 16-bit words, 200 MHz."""

    rows: int = 12
    cols: int = 14
    ifmap_spad_words: int = 12
    filter_spad_words: int = 224
    psum_spad_words: int = 24
    glb_bytes: int = 100 * 1024
    word_bytes: int = 2
    clock_hz: float = 200e6
    #: words per core cycle the DRAM interface moves (None: unbounded, cycles are compute only)
    dram_words_per_cycle: float | None = None
    name: str = "eyeriss"

    def __post_init__(self) -> None:
        for f in ("rows", "cols", "ifmap_spad_words", "filter_spad_words", "psum_spad_words", "glb_bytes",
                  "word_bytes"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"row-stationary array: {f} must be a positive integer, got {v!r}")
        if not self.clock_hz > 0:
            raise ConfigError(f"row-stationary array: clock_hz must be positive, got {self.clock_hz!r}")
        if self.dram_words_per_cycle is not None and not self.dram_words_per_cycle > 0:
            raise ConfigError("row-stationary array: dram_words_per_cycle must be positive (or None for unbounded)")

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def glb_words(self) -> int:
        return self.glb_bytes // self.word_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Mapping:
    """A row-stationary mapping in the paper's parameters (JSSC 2017 Table II): ``n`` images per
    pass, ``e`` ofmap rows per PE set, ``p`` filters and ``q`` channels per PE, ``r`` sets over
    channels and ``t`` over filters, ``m`` filters whose psums stay in the GLB."""

    n: int
    e: int
    p: int
    q: int
    r: int
    t: int
    m: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class RSCounts:
    """Words moved at each level by data type, cycles and active PEs of one layer (one occurrence)."""

    layer: str
    batch: int
    macs: int
    mapping: Mapping
    active_pes: int
    cycles: int
    compute_cycles: int
    #: level -> data type -> words: rf/array/glb/dram x ifmap/filter/psum, reads and writes summed
    #: (the read/write split is in ``reads`` and ``writes``)
    reads: dict[str, dict[str, int]] = field(default_factory=dict)
    writes: dict[str, dict[str, int]] = field(default_factory=dict)
    count: int = 1

    def accesses(self, level: str) -> int:
        return sum(self.reads[level].values()) + sum(self.writes[level].values())

    def normalised_energy(self, costs: dict[str, float] | None = None) -> float:
        """Energy in MAC units (ISCA 2016's normalised costs)."""
        c = costs or normalised_costs()
        return self.macs * c["mac"] + sum(self.accesses(lv) * c[lv] for lv in LEVELS)

    def energy_by_level_j(self, model: EnergyModel) -> dict[str, float]:
        c = normalised_costs()
        e = model.mac_energy_j
        out = {"mac": self.macs * c["mac"] * e}
        out.update({lv: self.accesses(lv) * c[lv] * e for lv in LEVELS})
        return out

    def utilisation(self, cfg: RSConfig) -> float:
        return self.macs / (self.cycles * cfg.pes) if self.cycles else 0.0

    def to_dict(self, cfg: RSConfig | None = None, model: EnergyModel | None = None) -> dict[str, Any]:
        d = {"layer": self.layer, "batch": self.batch, "count": self.count, "macs": self.macs,
             "mapping": self.mapping.to_dict(), "active_pes": self.active_pes, "cycles": self.cycles,
             "compute_cycles": self.compute_cycles, "reads": self.reads, "writes": self.writes,
             "accesses": {lv: self.accesses(lv) for lv in LEVELS},
             "normalised_energy": self.normalised_energy()}
        if cfg is not None:
            d["utilisation"] = self.utilisation(cfg)
            d["time_s"] = self.cycles / cfg.clock_hz
        if model is not None:
            d["energy_j"] = self.energy_by_level_j(model)
        return d


def is_gemm(layer: Layer) -> bool:
    """A GEMM in SCALE-Sim's form: an m x k one-channel image under 1 x k filters."""
    return layer.filter_h == 1 and layer.channels == 1 and layer.filter_w == layer.ifmap_w and layer.filter_w > 1


def as_conv(layer: Layer) -> Layer:
    """A GEMM (:func:`is_gemm`) as the 1 x 1 convolution row stationary runs it: m pixels of k
    channels under n filters (same MACs)."""
    if is_gemm(layer):
        return Layer(name=layer.name, ifmap_h=layer.ifmap_h, ifmap_w=1, filter_h=1, filter_w=1,
                     channels=layer.filter_w, num_filters=layer.num_filters, count=layer.count)
    return layer


def _check_layer(layer: Layer, cfg: RSConfig) -> None:
    if layer.filter_w > cfg.ifmap_spad_words:
        raise ConfigError(f"layer {layer.name!r}: a {layer.filter_w}-wide filter row does not fit the "
                          f"{cfg.ifmap_spad_words}-word ifmap scratchpad (row stationary slides an S-word window "
                          "of the ifmap row through it); use a larger ifmap scratchpad or another dataflow")
    if layer.filter_h > cfg.rows:
        raise ConfigError(f"layer {layer.name!r}: a {layer.filter_h}-row filter is taller than the {cfg.rows}-row "
                          "array; row stationary maps each filter row to a PE row, so no filter may be taller "
                          "than the array; use an array with more rows or another dataflow")


def _strip_rows(layer: Layer, e: np.ndarray) -> np.ndarray:
    """Input rows read over all strips of ``e`` ofmap rows (overlapping windows read again)."""
    E, U, R, H = layer.ofmap_h, layer.stride_h, layer.filter_h, layer.ifmap_h
    full, last = np.divmod(E, e)
    rows_full = np.minimum((e - 1) * U + R, H)
    rows_last = np.where(last > 0, np.minimum((np.maximum(last, 1) - 1) * U + R, H), 0)
    return full * rows_full + rows_last


def _footprint(layer: Layer, cfg: RSConfig, e: np.ndarray) -> np.ndarray:
    """How many PE sets of width ``e`` the array holds (0: none fits)."""
    segments = -(-e // cfg.cols)
    height = layer.filter_h * segments
    width = -(-e // segments)
    return np.where(height <= cfg.rows, (cfg.rows // height) * (cfg.cols // width), 0)


def _filter_loads(M: int, m, p, t):
    """Sum over the layer's filter passes of the largest number of filters one PE takes (p,
    fewer in the last pass of the last GLB block): the pass time's filter factor."""
    full_blocks, rem = np.divmod(M, m)
    k = -(-rem // (p * t))
    last = np.where(rem > 0, p * np.maximum(k - 1, 0) + np.minimum(p, rem - np.maximum(k - 1, 0) * p * t), 0)
    return full_blocks * (m // t) + last


def _evaluate(layer: Layer, batch: int, cfg: RSConfig, n, e, p, q, r, t, m) -> dict[str, np.ndarray]:
    """Counts for arrays of mappings (broadcast); see the module docstring for each formula.
    Partial passes (the last images, strip, filters or channels) move and take only what they
    hold: the sums over passes close to ceilings of the totals."""
    N, M, C = batch, layer.num_filters, layer.channels
    R, S, E, F, W = layer.filter_h, layer.filter_w, layer.ofmap_h, layer.ofmap_w, layer.ifmap_w
    strips = -(-E // e)
    ifmap_strips = N * C * W * _strip_rows(layer, e)
    filters = M * C * R * S
    ofmap = N * M * E * F
    channel_passes = -(-C // (q * r))
    image_passes = -(-N // n)
    full_c, rem_c = np.divmod(C, q * r)
    channel_loads = full_c * q + np.minimum(q, rem_c)
    shape = np.broadcast(n, e, p, q, r, t, m).shape
    return {
        "dram_ifmap": ifmap_strips * -(-M // m),
        "dram_filter": filters * image_passes * strips,
        "dram_psum": np.broadcast_to(np.int64(ofmap), shape),
        "glb_ifmap_w": ifmap_strips * -(-M // m),
        "glb_ifmap_r": ifmap_strips * -(-M // (p * t)),
        "glb_psum_w": ofmap * channel_passes,
        "glb_psum_r": ofmap * (channel_passes - 1),
        "array_filter": filters * image_passes * E,
        "array_ifmap": N * C * R * E * W * -(-M // p),
        "array_psum": ofmap * (R * -(-C // q) - channel_passes),
        "compute_cycles": F * S * N * strips * _filter_loads(M, m, p, t) * channel_loads,
        "active": R * np.minimum(e, E) * r * t,
    }


def _cycles(counts: dict[str, Any], cfg: RSConfig):
    cyc = counts["compute_cycles"]
    if cfg.dram_words_per_cycle is None:
        return cyc
    dram = counts["dram_ifmap"] + counts["dram_filter"] + counts["dram_psum"]
    return np.maximum(cyc, np.ceil(dram / cfg.dram_words_per_cycle).astype(np.int64))


def _levels(c: dict[str, Any], macs: int) -> tuple[dict, dict]:
    """(reads, writes): level -> data type -> words, from ``_evaluate``'s counts. Every MAC reads
    its filter and ifmap scratchpads and reads and writes its psum; the scratchpads are written
    what the array delivers."""
    reads = {
        "rf": {"ifmap": macs, "filter": macs, "psum": macs},
        "array": {"ifmap": c["array_ifmap"], "filter": c["array_filter"], "psum": c["array_psum"]},
        "glb": {"ifmap": c["glb_ifmap_r"], "filter": 0, "psum": c["glb_psum_r"]},
        "dram": {"ifmap": c["dram_ifmap"], "filter": c["dram_filter"], "psum": 0},
    }
    writes = {
        "rf": {"ifmap": c["array_ifmap"], "filter": c["array_filter"], "psum": macs},
        "array": {"ifmap": 0, "filter": 0, "psum": 0},
        "glb": {"ifmap": c["glb_ifmap_w"], "filter": 0, "psum": c["glb_psum_w"]},
        "dram": {"ifmap": 0, "filter": 0, "psum": c["dram_psum"]},
    }
    return reads, writes


def _energy(counts: dict[str, Any], macs: int) -> Any:
    """Normalised energy of ``_evaluate``'s counts (arrays of mappings)."""
    c = normalised_costs()
    reads, writes = _levels(counts, macs)
    return macs * c["mac"] + sum((sum(reads[lv].values()) + sum(writes[lv].values())) * c[lv] for lv in LEVELS)


def _glb_ifmap_words(layer: Layer, n, e, q, r):
    """GLB words a pass's ifmaps take: n images x q r channels x the strip's input rows."""
    rows = np.minimum((e - 1) * layer.stride_h + layer.filter_h, layer.ifmap_h)
    return n * q * r * rows * layer.ifmap_w


def _glb_psum_words_per_filter(layer: Layer, n, e):
    """GLB words one filter's psums take over a strip of n images."""
    return n * np.minimum(e, layer.ofmap_h) * layer.ofmap_w


def _glb_need(layer: Layer, n, e, q, r, m):
    return _glb_ifmap_words(layer, n, e, q, r) + m * _glb_psum_words_per_filter(layer, n, e)


def _counts(layer: Layer, batch: int, cfg: RSConfig, mp: Mapping) -> RSCounts:
    c = _evaluate(layer, batch, cfg, *(np.int64(getattr(mp, k)) for k in ("n", "e", "p", "q", "r", "t", "m")))
    c = {k: int(v) for k, v in c.items()}
    macs = batch * layer.macs
    reads, writes = _levels(c, macs)
    return RSCounts(layer=layer.name, batch=batch, macs=macs, mapping=mp, active_pes=c["active"],
                    cycles=int(_cycles(c, cfg)), compute_cycles=c["compute_cycles"], reads=reads, writes=writes,
                    count=layer.count)


def check_mapping(layer: Layer, batch: int, cfg: RSConfig, mp: Mapping) -> None:
    """ConfigError naming the first constraint ``mp`` breaks on ``cfg`` (see the module docstring)."""
    _check_layer(layer, cfg)
    S = layer.filter_w
    for k in ("n", "e", "p", "q", "r", "t", "m"):
        v = getattr(mp, k)
        if not isinstance(v, int) or v < 1:
            raise ConfigError(f"mapping {k} must be a positive integer, got {v!r}")
    problems = [
        (mp.n > batch, f"n = {mp.n} images per pass, but the batch is {batch}"),
        (mp.e > layer.ofmap_h, f"e = {mp.e} rows per set, but the ofmap has {layer.ofmap_h}"),
        (mp.q * S > cfg.ifmap_spad_words, f"q S = {mp.q * S} ifmap words per PE > the {cfg.ifmap_spad_words}-word "
                                          "ifmap scratchpad"),
        (mp.p * mp.q * S > cfg.filter_spad_words, f"p q S = {mp.p * mp.q * S} weights per PE > the "
                                                  f"{cfg.filter_spad_words}-word filter scratchpad"),
        (mp.p > cfg.psum_spad_words, f"p = {mp.p} psums per PE > the {cfg.psum_spad_words}-word psum scratchpad"),
        (mp.m % (mp.p * mp.t) != 0, f"m = {mp.m} must be a multiple of p t = {mp.p * mp.t}"),
        (mp.m > layer.num_filters + mp.p * mp.t - 1, f"m = {mp.m} exceeds the layer's {layer.num_filters} filters"),
        (mp.r * mp.t > int(_footprint(layer, cfg, np.int64(mp.e))),
         f"{mp.r * mp.t} sets of {layer.filter_h} x {mp.e} PEs do not fit the {cfg.rows} x {cfg.cols} array"),
        (int(_glb_need(layer, mp.n, mp.e, mp.q, mp.r, mp.m)) > cfg.glb_words,
         f"the pass needs {int(_glb_need(layer, mp.n, mp.e, mp.q, mp.r, mp.m))} GLB words for ifmaps and "
         f"psums, the GLB holds {cfg.glb_words}"),
    ]
    for bad, why in problems:
        if bad:
            raise ConfigError(f"layer {layer.name!r}: mapping {mp.to_dict()} does not fit: {why}")


#: What the mapping search minimises: normalised energy x cycles, energy, or cycles.
OBJECTIVES = ("edp", "energy", "delay")


def simulate_layer(layer: Layer, cfg: RSConfig | None = None, *, batch: int = 1,
                   mapping: Mapping | None = None, objective: str = "edp") -> RSCounts:
    """Counts of ``layer`` at ``batch`` on ``cfg``: with ``mapping``, or the best by ``objective``."""
    cfg = cfg or RSConfig()
    if not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")
    layer = as_conv(layer)
    if mapping is not None:
        check_mapping(layer, batch, cfg, mapping)
        return _counts(layer, batch, cfg, mapping)
    return _counts(layer, batch, cfg, best_mapping(layer, batch, cfg, objective=objective))


def best_mapping(layer: Layer, batch: int, cfg: RSConfig, *, objective: str = "edp") -> Mapping:
    """The valid mapping that minimises ``objective``: ``edp`` (normalised energy x cycles, the
    default), ``energy`` or ``delay`` (cycles); ties go to the other term, then to more filters
    kept in the GLB. ConfigError when none fits."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"mapping objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    _check_layer(layer, cfg)
    S, M, C, E = layer.filter_w, layer.num_filters, layer.channels, layer.ofmap_h
    macs = batch * layer.macs
    best: tuple | None = None
    es = np.arange(1, E + 1, dtype=np.int64)
    sets = _footprint(layer, cfg, es)
    qs = np.arange(1, max(1, min(C, cfg.ifmap_spad_words // S)) + 1, dtype=np.int64)
    ps = np.arange(1, min(M, cfg.psum_spad_words) + 1, dtype=np.int64)
    ns = np.arange(1, batch + 1, dtype=np.int64)
    max_sets = int(sets.max()) if sets.size else 0
    grid_n, grid_e, grid_p, grid_q = np.meshgrid(ns, es, ps, qs, indexing="ij")
    spad_ok = grid_p * grid_q * S <= cfg.filter_spad_words
    grid_sets = _footprint(layer, cfg, grid_e)
    for r in range(1, max_sets + 1):
        for t in range(1, max_sets // r + 1):
            if r > C or t > M:
                continue
            n, e, p, q = grid_n, grid_e, grid_p, grid_q
            ok = spad_ok & (grid_sets >= r * t) & (q * r <= C) & (p * t <= M)
            if not ok.any():
                continue
            n, e, p, q = n[ok], e[ok], p[ok], q[ok]
            # m: the most filters (a multiple of p t, at most ceil(M / (p t)) groups) whose psums fit
            pt = p * t
            room = cfg.glb_words - _glb_ifmap_words(layer, n, e, q, r)
            groups = np.minimum(np.maximum(room, 0) // (_glb_psum_words_per_filter(layer, n, e) * pt), -(-M // pt))
            keep = groups >= 1
            if not keep.any():
                continue
            n, e, p, q, m = n[keep], e[keep], p[keep], q[keep], (groups * pt)[keep]
            c = _evaluate(layer, batch, cfg, n, e, p, q, np.int64(r), np.int64(t), m)
            energy = _energy(c, macs).astype(float)
            cycles = _cycles(c, cfg).astype(float)
            first, second = {"edp": (energy * cycles, energy), "energy": (energy, cycles),
                             "delay": (cycles, energy)}[objective]
            i = np.lexsort((-m, second, first))[0]
            key = (float(first[i]), float(second[i]), -int(m[i]))
            if best is None or key < best[0]:
                best = (key, Mapping(n=int(n[i]), e=int(e[i]), p=int(p[i]), q=int(q[i]), r=r, t=t, m=int(m[i])))
    if best is None:
        raise ConfigError(f"layer {layer.name!r}: no row-stationary mapping fits the {cfg.rows} x {cfg.cols} array "
                          f"with a {cfg.glb_bytes}-byte GLB (one input strip and one filter's psums must fit); "
                          "enlarge the GLB or use another dataflow")
    return best[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class RSNetworkResult:
    """Every layer's counts on one row-stationary accelerator, with totals, time and energy."""

    config: RSConfig
    energy_model: EnergyModel
    layers: tuple[RSCounts, ...]

    @property
    def cycles(self) -> int:
        return sum(c.cycles * c.count for c in self.layers)

    @property
    def macs(self) -> int:
        return sum(c.macs * c.count for c in self.layers)

    @property
    def time_s(self) -> float:
        return self.cycles / self.config.clock_hz

    def accesses(self, level: str) -> int:
        return sum(c.accesses(level) * c.count for c in self.layers)

    def energy_by_level_j(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for c in self.layers:
            for k, v in c.energy_by_level_j(self.energy_model).items():
                out[k] = out.get(k, 0.0) + v * c.count
        return out

    @property
    def energy_j(self) -> float:
        return sum(self.energy_by_level_j().values())

    @property
    def utilisation(self) -> float:
        return self.macs / (self.cycles * self.config.pes) if self.cycles else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"dataflow": "rs", "config": asdict(self.config), "node_nm": self.energy_model.node_nm,
                "precision": self.energy_model.precision, "cycles": self.cycles, "macs": self.macs,
                "time_s": self.time_s, "utilisation": self.utilisation,
                "accesses": {lv: self.accesses(lv) for lv in LEVELS},
                "energy_j": self.energy_by_level_j() | {"total": self.energy_j},
                "normalised_costs": normalised_costs(),
                "layers": [c.to_dict(self.config, self.energy_model) for c in self.layers]}


def simulate(layers: Sequence[Layer], cfg: RSConfig | None = None, energy: EnergyModel | None = None, *,
             batch: int = 1, objective: str = "edp") -> RSNetworkResult:
    """Each layer on ``cfg`` (default: Eyeriss) at its best mapping by ``objective``, priced at
    ``energy`` (default: 65 nm, Eyeriss's node, 16-bit words as fp16 MACs: Horowitz has no 16-bit
    integer MAC)."""
    cfg = cfg or RSConfig()
    energy = energy or EnergyModel(node_nm=65.0, precision="fp16")
    if not layers:
        raise ConfigError("no layers to simulate")
    return RSNetworkResult(config=cfg, energy_model=energy,
                           layers=tuple(simulate_layer(layer, cfg, batch=batch, objective=objective)
                                        for layer in layers))


def eyeriss() -> RSConfig:
    """The JSSC 2017 chip (``data/eyeriss.toml``)."""
    c = constants()["chip"]
    return RSConfig(rows=c["rows"], cols=c["cols"], ifmap_spad_words=c["ifmap_spad_words"],
                    filter_spad_words=c["filter_spad_words"], psum_spad_words=c["psum_spad_words"],
                    glb_bytes=c["glb_fmap_bytes"], word_bytes=c["word_bytes"], clock_hz=c["clock_hz"],
                    dram_words_per_cycle=c["dram_bus_bits"] / (8 * c["word_bytes"]) * c["link_clock_hz"] / c["clock_hz"])
