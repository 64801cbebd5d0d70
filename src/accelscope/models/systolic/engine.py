"""Cycle and access counts of one layer on a systolic array, SCALE-Sim 3.0.0's model, vectorised.

How SCALE-Sim models a layer (read in ``scalesim/compute/systolic_compute_{os,ws,is}.py`` and
``scalesim/memory/*``), and how this module reproduces it without a Python loop per cycle:

1. **Operand matrices.** The layer is lowered to ``I`` (M x K, im2col input), ``F`` (K x N) and
   ``O`` (M x N) holding word addresses (``layers.py``).
2. **Folds.** The dataflow maps two GEMM dimensions onto the array and streams the third
   (``T``): OS maps (M, N) and streams K; WS maps (K, N) and streams M; IS maps (K, M) and
   streams N. The mapped dimensions are cut into ``ceil(Sr/rows) x ceil(Sc/cols)`` folds, run one
   after the other (column folds outer, row folds inner).
3. **Demand matrices.** Each fold is a fixed number of cycles ``L`` (OS: ``T + rows + cols - 2``;
   WS and IS: ``T + 2 rows + cols - 2``); in every cycle the array asks the ifmap and filter
   scratchpads for some words and writes some outputs. Which words, in which cycle, follows from
   the skew of the systolic pipeline. Here each fold's pattern is generated once per fold shape
   (at most four shapes per layer) and broadcast over all folds.
4. **Memory.** In ``CALC`` mode (``InterfaceBandwidth: CALC``) reads never stall: the read
   scratchpads only count DRAM traffic. Each is a double buffer of 100 sets; SCALE-Sim keeps a
   window of 50 sets (half the buffer) of distinct addresses, counts every address not in the
   window as a DRAM read, and starts a new window when the current one holds
   ``50 * floor(words / 100)`` distinct addresses. This module computes, for the address stream,
   each element's previous occurrence and walks the windows with cumulative sums, so the work
   is proportional to the stream, with no per-element Python. Previous occurrences come from
   the fold structure where it determines them (filters, and inputs whose convolution windows
   do not overlap: the same element of the last fold that read the same block), from one sort
   of the first sweep when the stream repeats whole sweeps (OS and WS inputs), and otherwise
   from one sort per chunk of the stream. Operands whose distinct words fit in the window skip
   all of this: they are read once.
   The output scratchpad is a double buffer that drains ``ceil(half / bw)`` lines of ``bw`` words
   (``bw`` = array columns in CALC mode) to DRAM whenever more than half of it is full, and stalls
   the array when it fills up during a drain; it is simulated event by event (one event per
   drain or stall, found with ``searchsorted`` on the cumulative output counts).

Compatibility (``ArrayConfig.compat=True``, the default) keeps three SCALE-Sim 3.0.0 quirks:

* OS dataflow: the SRAM ofmap write count adds ``rows + cols`` per fold
  (``systolic_compute_os.py`` adds ``shape[0] + shape[1]`` of the padded fold to
  ``ofmap_writes`` after counting its elements).
* The output buffer counts a drained chunk as full lines except for the last line, so a partly
  filled line flushed early and drained in the middle of a later chunk counts its empty slots
  as DRAM writes (``write_buffer.empty_drain_buf``).
* Cycle counts: "compute cycles" is the cycle of the last demand row (rows - 1 + stalls).

With ``compat=False`` the first two are counted as the hardware would (ofmap words written;
words actually drained).

``USER`` bandwidth mode (a fixed DRAM bandwidth with prefetch stalls) is SCALE-Sim's other read
model; it is not reproduced here and raises :class:`ConfigError` (see docs/systolic.md).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from accelscope.errors import ConfigError
from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.layers import Layer

OPERANDS = ("ifmap", "filter", "ofmap")

#: CALC mode: the read scratchpads assume 10 words per cycle from DRAM for the first prefetch
#: (``single_layer_sim.py``: "The number 10 elems per cycle is arbitrary").
_CALC_READ_BW = 10
#: Read scratchpads: 100 sets, the active half is 50 of them (``active_buf_frac = 0.5``).
_SETS = 100
_ACTIVE_SETS = 50
#: Latency of a DRAM read port and of a scratchpad hit, in cycles (``read_port.latency = 1``,
#: ``hit_latency = 1``); the write port has latency 0.
_READ_PORT_LATENCY = 1
_HIT_LATENCY = 1

_CHUNK_ELEMS = 1 << 21  # stream elements processed per sort (memory bound, not a model figure)


@dataclass(frozen=True, slots=True, kw_only=True)
class OperandCounts:
    """One count per operand: input feature map, filter (weights), output feature map."""

    ifmap: int = 0
    filter: int = 0
    ofmap: int = 0

    @property
    def total(self) -> int:
        return self.ifmap + self.filter + self.ofmap

    def __add__(self, other: OperandCounts) -> OperandCounts:
        return OperandCounts(ifmap=self.ifmap + other.ifmap, filter=self.filter + other.filter,
                             ofmap=self.ofmap + other.ofmap)

    def scaled(self, k: int) -> OperandCounts:
        return OperandCounts(ifmap=self.ifmap * k, filter=self.filter * k, ofmap=self.ofmap * k)

    def to_dict(self) -> dict[str, int]:
        return {"ifmap": self.ifmap, "filter": self.filter, "ofmap": self.ofmap}


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerResult:
    """Counts for one layer (one occurrence; ``layer.count`` says how many there are).

    Cycle names follow SCALE-Sim's console output: ``total_cycles`` is its "Total Cycles (incl.
    prefetch)" (first DRAM prefetch to last DRAM write), ``compute_cycles`` its "Total Cycles"
    (first array demand to the last output written to SRAM, stalls included), ``stall_cycles``
    the cycles the array waited for memory. Utilisations are fractions (SCALE-Sim prints %).

    ``sram_reads``/``dram_reads`` per operand: for ``ofmap`` the SRAM is read when it drains to
    DRAM, so ``sram_reads.ofmap == dram_writes.ofmap``; likewise ``sram_writes.ifmap`` and
    ``.filter`` are the words filled from DRAM, and ``sram_writes.ofmap`` the array's writes.
    """

    name: str
    layer: Layer
    dataflow: str
    rows: int
    cols: int
    total_cycles: int
    compute_cycles: int
    stall_cycles: int
    overall_util: float
    mapping_eff: float
    compute_util: float
    sram_reads: OperandCounts
    sram_writes: OperandCounts
    dram_reads: OperandCounts
    dram_writes: OperandCounts
    sram_cycles: dict[str, tuple[int, int]] = field(default_factory=dict)
    dram_cycles: dict[str, tuple[int, int]] = field(default_factory=dict)
    peak_dram_bw_words_per_cycle: OperandCounts | None = None
    folds: int = 1

    @property
    def macs(self) -> int:
        return self.layer.macs

    @property
    def dram_words(self) -> int:
        return self.dram_reads.total + self.dram_writes.total

    @property
    def avg_dram_bw_words_per_cycle(self) -> dict[str, float]:
        """Words per cycle over each operand's DRAM activity window (SCALE-Sim's BW report)."""
        out = {}
        for op in OPERANDS:
            start, stop = self.dram_cycles[op]
            words = self.dram_writes.ofmap if op == "ofmap" else getattr(self.dram_reads, op)
            out[op] = words / (stop - start + 1)
        return out

    @property
    def avg_sram_bw_words_per_cycle(self) -> dict[str, float]:
        return {"ifmap": self.sram_reads.ifmap / self.compute_cycles,
                "filter": self.sram_reads.filter / self.compute_cycles,
                "ofmap": self.sram_writes.ofmap / self.compute_cycles}

    @property
    def avg_dram_bw_total_words_per_cycle(self) -> float:
        """All DRAM words over the layer's total cycles."""
        return self.dram_words / self.total_cycles

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "count": self.layer.count,
            "m": self.layer.m, "n": self.layer.n, "k": self.layer.k,
            "macs": self.macs,
            "folds": self.folds,
            "total_cycles": self.total_cycles,
            "compute_cycles": self.compute_cycles,
            "stall_cycles": self.stall_cycles,
            "overall_util": self.overall_util,
            "compute_util": self.compute_util,
            "mapping_eff": self.mapping_eff,
            "sram_reads": self.sram_reads.to_dict(),
            "sram_writes": self.sram_writes.to_dict(),
            "dram_reads": self.dram_reads.to_dict(),
            "dram_writes": self.dram_writes.to_dict(),
            "avg_dram_bw_words_per_cycle": self.avg_dram_bw_words_per_cycle,
            "avg_dram_bw_total_words_per_cycle": self.avg_dram_bw_total_words_per_cycle,
            "peak_dram_bw_words_per_cycle": (self.peak_dram_bw_words_per_cycle.to_dict()
                                             if self.peak_dram_bw_words_per_cycle else None),
            "sram_cycles": {k: list(v) for k, v in self.sram_cycles.items()},
            "dram_cycles": {k: list(v) for k, v in self.dram_cycles.items()},
        }


# ---------------------------------------------------------------------------------------
# Fold geometry and per-fold demand patterns
# ---------------------------------------------------------------------------------------
def _band(width: int, shift: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a skewed band, in the order the array asks for them.

    Column ``c`` (< width) requests element ``t`` (< length) of its lane in cycle
    ``d = c + shift + t``; returns ``(d, c, t)`` sorted by cycle, then column.
    """
    x = np.arange(width + length - 1, dtype=np.int64)  # d - shift
    lo = np.maximum(0, x - length + 1)
    counts = np.minimum(width - 1, x) - lo + 1
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    d = np.repeat(x, counts)
    c = np.repeat(lo - first, counts) + np.arange(total, dtype=np.int64)
    return d + shift, c, d - c


def _band_counts(width: int, shift: int, length: int, n_rows: int) -> np.ndarray:
    """Number of band cells in each of ``n_rows`` cycles (see :func:`_band`)."""
    x = np.arange(n_rows, dtype=np.int64) - shift
    lo = np.maximum(0, x - length + 1)
    hi = np.minimum(width - 1, x)
    return np.maximum(hi - lo + 1, 0)


def _block(height: int, width: int, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a block loaded bottom row first: cycle ``d = rows - 1 - p`` loads row ``p``."""
    p = np.repeat(np.arange(height - 1, -1, -1, dtype=np.int64), width)
    c = np.tile(np.arange(width, dtype=np.int64), height)
    return rows - 1 - p, p, c


@dataclass(frozen=True, slots=True)
class _Geometry:
    sr: int  # mapped onto array rows
    sc: int  # mapped onto array columns
    t: int  # streamed
    row_fold: int
    col_fold: int
    fold_rows: int  # demand rows (cycles) per fold

    @property
    def folds(self) -> int:
        return self.row_fold * self.col_fold

    @property
    def n_rows(self) -> int:
        return self.folds * self.fold_rows


def _geometry(layer: Layer, cfg: ArrayConfig) -> _Geometry:
    m, n, k, r, c = layer.m, layer.n, layer.k, cfg.rows, cfg.cols
    if cfg.dataflow == "os":
        sr, sc, t, fold_rows = m, n, k, k + r + c - 2
    elif cfg.dataflow == "ws":
        sr, sc, t, fold_rows = k, n, m, m + 2 * r + c - 2
    else:
        sr, sc, t, fold_rows = k, m, n, n + 2 * r + c - 2
    return _Geometry(sr, sc, t, math.ceil(sr / r), math.ceil(sc / c), fold_rows)


def _used(total: int, size: int, fold: np.ndarray) -> np.ndarray:
    return np.minimum(size, total - fold * size)


class _Stream:
    """The address stream one read operand sends its scratchpad, generated fold by fold.

    ``pattern(key)`` gives, for a fold shape, the cycle within the fold, and the row and column
    offsets into the operand matrix; ``bases`` the operand-matrix origin of every fold.
    """

    def __init__(self, layer: Layer, cfg: ArrayConfig, geo: _Geometry, operand: str):
        self.geo, self.operand = geo, operand
        r, c, df = cfg.rows, cfg.cols, cfg.dataflow
        f = np.arange(geo.folds, dtype=np.int64)
        fc, fr = f // geo.row_fold, f % geo.row_fold
        m, k, n = layer.m, layer.k, layer.n
        self.k = k
        if operand == "ifmap":
            self._matrix = layer.ifmap_matrix().ravel()
            self.n_ids = layer.ifmap_words
        else:
            self._matrix = None
            self.n_ids = layer.filter_words
        # keys[f]: the fold's shape; base_r/base_c: origin in the operand matrix (I or F).
        if df == "os" and operand == "ifmap":
            self.keys = _used(m, r, fr)
            self.base_r, self.base_c = fr * r, np.zeros_like(f)
            self._pat = lambda w: _band(int(w), 0, k)  # I[e0 + c, t]
        elif df == "os":
            self.keys = _used(n, c, fc)
            self.base_r, self.base_c = np.zeros_like(f), fc * c
            self._pat = lambda w: _band_tc(int(w), 0, k)  # F[t, n0 + c]
        elif df == "ws" and operand == "ifmap":
            self.keys = _used(k, r, fr)
            self.base_r, self.base_c = np.zeros_like(f), fr * r
            self._pat = lambda w: _band_tc(int(w), r, m)  # I[t, k0 + c]
        elif df == "ws":
            nk, nn = _used(k, r, fr), _used(n, c, fc)
            self.keys = nk * (c + 1) + nn
            self.base_r, self.base_c = fr * r, fc * c
            self._pat = lambda key: _block(int(key) // (c + 1), int(key) % (c + 1), r)
        elif operand == "ifmap":  # is
            nk, ne = _used(k, r, fr), _used(m, c, fc)
            self.keys = nk * (c + 1) + ne
            self.base_r, self.base_c = fc * c, fr * r
            self._pat = lambda key: _swap_block(_block(int(key) // (c + 1), int(key) % (c + 1), r))
        else:  # is, filter: F[k0 + c, t]
            self.keys = _used(k, r, fr)
            self.base_r, self.base_c = fr * r, np.zeros_like(f)
            self._pat = lambda w: _band(int(w), r, n)
        # The previous fold that reads the same block of the operand (-1: none). When the
        # operand has no repeated address inside a block and distinct blocks are disjoint
        # (filters always; inputs when convolution windows do not overlap), an element's
        # previous occurrence is the same element of that fold: no sort is needed.
        repeat_across_fc = (df in ("os", "ws") and operand == "ifmap") or \
            (df == "is" and operand == "filter")
        # Folds repeat as whole sweeps (all row folds, once per column fold) for these:
        self.sweeps = geo.col_fold if repeat_across_fc else 1
        if repeat_across_fc:
            self.prev_fold = np.where(fc >= 1, f - geo.row_fold, -1)
        elif df == "os" and operand == "filter":
            self.prev_fold = np.where(fr >= 1, f - 1, -1)
        else:
            self.prev_fold = np.full(geo.folds, -1, dtype=np.int64)
        no_overlap = ((layer.stride_h >= layer.filter_h or layer.ofmap_h == 1)
                      and (layer.stride_w >= layer.filter_w or layer.ofmap_w == 1))
        self.distinct = operand == "filter" or no_overlap
        self.has_empty = operand == "ifmap" and bool((self._matrix < 0).any())
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        uniq = np.unique(self.keys)
        length_of = {int(key): len(self.pattern(int(key))[0]) for key in uniq}
        self.lengths = np.array([length_of[int(key)] for key in self.keys], dtype=np.int64) \
            if len(uniq) > 1 else np.full(geo.folds, length_of[int(uniq[0])], dtype=np.int64)

    def pattern(self, key: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cycle in fold, operand-matrix row offset, column offset) for a fold shape."""
        key = int(key)
        if key not in self._cache:
            self._cache[key] = self._pat(key)
        return self._cache[key]

    def ids(self, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
        if self._matrix is not None:
            return self._matrix[rr * self.k + cc]
        return cc * self.k + rr  # filter F[k, n] is word n * K + k

    def chunks(self, max_elems: int = _CHUNK_ELEMS, with_ids: bool = True):
        """Yield ``(ids, row_of, f0, f1)`` for folds ``f0 <= f < f1``, in demand order, -1 kept.

        ``row_of(i)`` is the demand row of element ``i`` of the chunk (computed on demand:
        only window closes need it).
        """
        geo, L = self.geo, self.geo.fold_rows
        starts = np.concatenate(([0], np.cumsum(self.lengths)))
        f0 = 0
        while f0 < geo.folds:
            f1 = int(np.searchsorted(starts, starts[f0] + max_elems, side="right")) - 1
            f1 = min(max(f1, f0 + 1), geo.folds)
            base = starts[f0]
            size = int(starts[f1] - base)
            ids = np.empty(size, dtype=np.int64) if with_ids else None
            keys = self.keys[f0:f1]
            for key in (np.unique(keys) if with_ids else ()):
                sel = np.nonzero(keys == key)[0] + f0
                _, pr, pc = self.pattern(int(key))
                pos = (starts[sel] - base)[:, None] + np.arange(len(pr))[None, :]
                rr = self.base_r[sel][:, None] + pr[None, :]
                cc = self.base_c[sel][:, None] + pc[None, :]
                ids[pos] = self.ids(rr, cc)
            rel = starts[f0:f1 + 1] - base

            def row_of(i: int, f0=f0, rel=rel) -> int:
                j = int(np.searchsorted(rel, i, side="right")) - 1
                f = f0 + j
                d = self.pattern(int(self.keys[f]))[0]
                return f * L + int(d[i - rel[j]])

            yield ids, row_of, f0, f1
            f0 = f1


def _swap_block(cells):
    d, p, c = cells
    return d, c, p  # I[e0 + c, k0 + p]


# Non-swapped patterns: OS filter F[t, n0 + c] and WS ifmap I[t, k0 + c] -> (t, c).
def _band_tc(width: int, shift: int, length: int):
    d, c, t = _band(width, shift, length)
    return d, t, c


# ---------------------------------------------------------------------------------------
# Output buffer (write_buffer.py): event-driven
# ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _WriteResult:
    stall_rows: np.ndarray
    stall_amounts: np.ndarray
    dram_writes: int
    dram_start: int
    dram_stop: int
    peak_bw: int
    last_cycle: int


def _simulate_write_buffer(counts: np.ndarray, size_words: int, bw: int,
                           compat: bool) -> _WriteResult:
    cum = np.cumsum(counts)
    total = int(cum[-1]) if len(cum) else 0
    n_rows = len(counts)
    active = math.ceil(size_words * 0.5)
    drain_size = size_words - active
    lines_per_drain = math.ceil(drain_size / bw)

    free = size_words
    drain_end = 0
    g = 0  # elements stored
    s = 0  # stall cycles so far
    cur = 0  # words in the open line
    queue: deque[list[int]] = deque()  # runs of [n_lines, fill]
    stall_rows: list[int] = []
    stall_amounts: list[int] = []
    state = {"access": 0, "start": None, "stop": None, "peak": 0}

    def store(x: int) -> None:
        nonlocal cur
        full, cur = divmod(cur + x, bw)
        if full:
            if queue and queue[-1][1] == bw:
                queue[-1][0] += full
            else:
                queue.append([full, bw])

    def flush() -> None:
        nonlocal cur
        if cur:
            queue.append([1, cur])
            cur = 0

    def drain(cycle: int) -> int:
        nonlocal free
        flush()
        taken, last_fill, words = 0, 0, 0
        while queue and taken < lines_per_drain:
            run = queue[0]
            take = min(run[0], lines_per_drain - taken)
            taken += take
            last_fill = run[1]
            words += take * run[1]
            run[0] -= take
            if run[0] == 0:
                queue.popleft()
        data = (taken - 1) * bw + last_fill if compat else words
        state["access"] += data
        free += data
        end = cycle + taken - 1
        if state["start"] is None:
            state["start"] = cycle
        state["stop"] = end if state["stop"] is None else max(state["stop"], end)
        state["peak"] = max(state["peak"], math.ceil(data / taken))
        return end

    def row_of(element_index: int) -> int:  # 0-based element index -> demand row
        return int(np.searchsorted(cum, element_index, side="right"))

    while g < total:
        i = row_of(g)
        cc = i + s
        if cc < drain_end:
            i_max = min(drain_end - s - 1, n_rows - 1)
            avail = int(cum[i_max]) - g
            x = max(free, 1)
            if x <= avail:
                g += x
                free -= x
                store(x)
                r = row_of(g - 1)
                stall_rows.append(r)
                stall_amounts.append(drain_end - (r + s))
                s = drain_end - r
            else:
                g += avail
                free -= avail
                store(avail)
        else:
            x = max(free - active + 1, 1)
            if x <= total - g:
                g += x
                free -= x
                store(x)
                r = row_of(g - 1)
                drain_end = drain(r + s)
            else:
                rest = total - g
                g = total
                free -= rest
                store(rest)
    last_cycle = n_rows - 1 + s
    flush()
    cycle = last_cycle
    while queue:
        drain_end = drain(cycle)
        cycle = drain_end + 1
    return _WriteResult(np.array(stall_rows, dtype=np.int64),
                        np.array(stall_amounts, dtype=np.int64), state["access"],
                        int(state["start"] if state["start"] is not None else 0),
                        int(state["stop"] if state["stop"] is not None else 0),
                        state["peak"], last_cycle)


class _Cycles:
    """Demand row -> cycle at which it is issued (row + stalls of earlier rows)."""

    def __init__(self, stall_rows: np.ndarray, stall_amounts: np.ndarray):
        self.rows = stall_rows
        self.cum = np.concatenate(([0], np.cumsum(stall_amounts)))

    def issue(self, rows):
        return np.asarray(rows) + self.cum[np.searchsorted(self.rows, rows, side="left")]

    def serviced(self, rows):
        """Cycle at which the row's writes finished (stalls in the row included)."""
        return np.asarray(rows) + self.cum[np.searchsorted(self.rows, rows, side="right")]


# ---------------------------------------------------------------------------------------
# Read scratchpads in CALC mode (read_buffer_estimate_bw.py)
# ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _ReadResult:
    dram_reads: int
    dram_start: int
    dram_stop: int
    peak_bw: int
    sram_first_row: int
    sram_last_row: int


def _unique_ifmap_words(layer: Layer) -> int:
    """Input words some convolution window touches (all of them unless stride > filter)."""
    def covered(size: int, filt: int, stride: int, out: int) -> int:
        mask = np.zeros(size, dtype=bool)
        starts = np.arange(out) * stride
        for j in range(filt):
            idx = starts + j
            mask[idx[idx < size]] = True
        return int(mask.sum())

    return (covered(layer.ifmap_h, layer.filter_h, layer.stride_h, layer.ofmap_h)
            * covered(layer.ifmap_w, layer.filter_w, layer.stride_w, layer.ofmap_w)
            * layer.channels)


def _first_last_valid_rows(stream: _Stream) -> tuple[int, int]:
    """First and last demand rows with a real (not -1) request, scanning folds from each end."""
    geo = stream.geo

    def valid_rows(f: int) -> np.ndarray:
        d, pr, pc = stream.pattern(int(stream.keys[f]))
        ids = stream.ids(stream.base_r[f] + pr, stream.base_c[f] + pc)
        return d[ids >= 0]

    first = next(f * geo.fold_rows + int(v.min()) for f in range(geo.folds)
                 if len(v := valid_rows(f)))
    last = next(f * geo.fold_rows + int(v.max()) for f in range(geo.folds - 1, -1, -1)
                if len(v := valid_rows(f)))
    return first, last


_NEVER = np.iinfo(np.int64).max


def _chunks_with_sweeps(stream: _Stream, need_ids: bool):
    """``stream.chunks()``, except that a stream made of identical sweeps with repeated
    addresses inside a sweep is sorted once: later sweeps come as ``((prev_rel, j), ...)``
    where ``prev_rel`` is each element's previous occurrence relative to its sweep's start
    (negative: in the previous sweep; ``_NEVER`` for empty requests)."""
    if stream.distinct or stream.sweeps == 1:
        yield from stream.chunks(with_ids=need_ids)
        return
    geo = stream.geo
    sweep_len = int(stream.lengths[:geo.row_fold].sum())
    ids, row_of, f0, f1 = next(stream.chunks(max_elems=sweep_len))
    assert (f0, f1) == (0, geo.row_fold)
    n = len(ids)
    valid = ids >= 0
    pos = np.arange(n, dtype=np.int64)
    vid, vpos = ids[valid], pos[valid]
    bits = max(int(n).bit_length(), 1)
    key = (vid << bits) | vpos
    key.sort()
    sid, spos = key >> bits, key & ((1 << bits) - 1)
    same = sid[1:] == sid[:-1]
    prev_rel = np.full(n, _NEVER, dtype=np.int64)
    prev_rel[spos[1:]] = np.where(same, spos[:-1], 0)
    firsts = np.flatnonzero(np.concatenate(([True], ~same)))
    lasts = np.flatnonzero(np.concatenate((~same, [True])))
    # an address's first occurrence in a sweep follows its last one in the previous sweep
    prev_rel[spos[firsts]] = spos[lasts] - n
    L = geo.fold_rows
    for j in range(stream.sweeps):
        def row_j(i: int, j=j) -> int:
            return row_of(i) + j * geo.row_fold * L

        yield (prev_rel, j), row_j, j * geo.row_fold, (j + 1) * geo.row_fold


def _simulate_read_buffer(stream: _Stream, unique_words: int, size_words: int,
                          cycles: _Cycles) -> _ReadResult:
    items = size_words // _SETS
    window = _ACTIVE_SETS * items
    first_row, last_row = _first_last_valid_rows(stream)
    first_cycle = int(cycles.issue(first_row))
    closes: list[int] = []  # demand rows at which a window closed
    window_words: list[int] = []
    if unique_words < window:
        total, tail = unique_words, unique_words
    else:
        total, tail = 0, 0
        last = None if stream.distinct else np.full(stream.n_ids, -1, dtype=np.int64)
        start = 0  # global stream position where the current window starts
        count = 0  # distinct words in the current window
        base = 0
        starts = np.concatenate(([0], np.cumsum(stream.lengths)))
        need_ids = not stream.distinct or stream.has_empty
        for ids, row_of, f0, f1 in _chunks_with_sweeps(stream, need_ids):
            if isinstance(ids, tuple):  # a repeated sweep: previous occurrences by arithmetic
                prev_rel, j = ids
                n = len(prev_rel)
                prev = prev_rel + (base - 0)
                prev[prev_rel == _NEVER] = _NEVER
                kept = None
            elif stream.distinct:
                # positions are in the unfiltered stream; empty (-1) requests are never new
                n = int(starts[f1] - starts[f0])
                pf = stream.prev_fold[f0:f1]
                shift = np.where(pf >= 0, starts[f0:f1] - starts[np.maximum(pf, 0)], -1)
                gpos = np.arange(base, base + n, dtype=np.int64)
                delta = np.repeat(shift, stream.lengths[f0:f1])
                prev = np.where(delta >= 0, gpos - delta, -1)
                if ids is not None and ids.min() < 0:
                    prev[ids < 0] = np.iinfo(np.int64).max
                kept = None
            else:
                kept = None
                if ids.min() < 0:
                    kept = np.flatnonzero(ids >= 0)
                    ids = ids[kept]
                n = len(ids)
                if n == 0:
                    continue
                bits = max(int(n).bit_length(), 1)
                key = (ids << bits) | np.arange(n, dtype=np.int64)
                key.sort()
                sid, spos = key >> bits, key & ((1 << bits) - 1)
                same = sid[1:] == sid[:-1]
                prev = np.empty(n, dtype=np.int64)
                prev[spos[1:]] = np.where(same, spos[:-1] + base, -1)
                first = np.concatenate(([True], ~same))
                prev[spos[first]] = last[sid[first]]
                lastm = np.concatenate((~same, [True]))
                last[sid[lastm]] = spos[lastm] + base
            pos = 0
            while pos < n:
                need = window - count
                blk = max(2 * need, 4096)
                found = -1
                while pos < n:
                    seg = prev[pos:pos + blk] < start
                    cs = np.cumsum(seg)
                    got = int(cs[-1])
                    if got >= need:
                        found = pos + int(np.searchsorted(cs, need))
                        break
                    need -= got
                    count += got
                    total += got
                    pos += len(seg)
                    blk *= 2
                if found < 0:
                    break
                total += need
                count = 0
                window_words.append(window)
                closes.append(row_of(int(found if kept is None else kept[found])))
                start = base + found + 1
                pos = found + 1
            base += n
        tail = count
    if closes:
        close_cycles = [int(x) for x in cycles.issue(np.array(closes))]
        first_len = math.ceil(_ACTIVE_SETS * items / _CALC_READ_BW)
        dram_start = first_cycle - 1 - _READ_PORT_LATENCY - first_len + 1 + _READ_PORT_LATENCY
        dram_stop = close_cycles[-1] + _READ_PORT_LATENCY
        # Peak: the first window at the default 10 words/cycle, later ones spread over the
        # previous window's span, the tail over the last span.
        spans = [first_len] + [b - a for a, b in
                               zip([first_cycle - 2] + close_cycles[:-1], close_cycles)]
        peak = _CALC_READ_BW
        for words, span in zip(window_words[1:] + [tail], spans[1:]):
            peak = max(peak, math.ceil(words / span) if span > 0 else words)
    else:
        n_sets = math.ceil(total / items)
        length = math.ceil(n_sets * items / _CALC_READ_BW)
        dram_start = -length
        dram_stop = -1
        peak = _CALC_READ_BW
    return _ReadResult(total, dram_start, dram_stop, peak, first_row, last_row)


# ---------------------------------------------------------------------------------------
# The layer
# ---------------------------------------------------------------------------------------
def _ofmap_counts(layer: Layer, cfg: ArrayConfig, geo: _Geometry) -> np.ndarray:
    r, c, L = cfg.rows, cfg.cols, geo.fold_rows
    f = np.arange(geo.folds, dtype=np.int64)
    fc, fr = f // geo.row_fold, f % geo.row_fold
    if cfg.dataflow == "os":
        ne, nn = _used(layer.m, r, fr), _used(layer.n, c, fc)
        keys = np.stack([nn, layer.k - 1 + r - ne, ne], axis=1)
    elif cfg.dataflow == "ws":
        nn = _used(layer.n, c, fc)
        keys = np.stack([nn, np.full_like(nn, 2 * r - 1), np.full_like(nn, layer.m)], axis=1)
    else:
        ne = _used(layer.m, c, fc)
        keys = np.stack([ne, np.full_like(ne, 2 * r - 1), np.full_like(ne, layer.n)], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    table = np.stack([_band_counts(int(w), int(sh), int(ln), L) for w, sh, ln in uniq])
    return table[inverse.ravel()].ravel()


def simulate_layer(layer: Layer, cfg: ArrayConfig) -> LayerResult:
    """Cycles and SRAM/DRAM accesses of one occurrence of ``layer`` (SCALE-Sim 3.0.0's model)."""
    if cfg.dram_bw_words_per_cycle is not None:
        raise ConfigError(
            "USER bandwidth mode (a fixed DRAM bandwidth with prefetch stalls) is not "
            "implemented; use dram_bw_words_per_cycle=None (SCALE-Sim's CALC mode, which "
            "reports the bandwidth the array needs)."
        )
    geo = _geometry(layer, cfg)
    r, c = cfg.rows, cfg.cols
    m, n, k = layer.m, layer.n, layer.k

    # Array-side counts (systolic_compute_*.py)
    if cfg.dataflow == "os":
        ifmap_sram = geo.col_fold * m * k
        filter_sram = geo.row_fold * k * n
        ofmap_sram = m * n + (geo.folds * (r + c) if cfg.compat else 0)
        cycles_per_fold = geo.t + r + c - 2
    else:
        if cfg.dataflow == "ws":
            ifmap_sram, filter_sram = geo.col_fold * m * k, k * n
        else:
            ifmap_sram, filter_sram = m * k, geo.col_fold * k * n
        ofmap_sram = geo.row_fold * m * n
        cycles_per_fold = geo.t + 2 * r + 2 * c - 3
    mapping_eff = (geo.sr * geo.sc) / (geo.folds * r * c)
    compute_util = mapping_eff * geo.t / cycles_per_fold

    # Output scratchpad: stalls and DRAM writes
    counts = _ofmap_counts(layer, cfg, geo)
    wr = _simulate_write_buffer(counts, cfg.ofmap_sram_words, c, cfg.compat)
    cycles = _Cycles(wr.stall_rows, wr.stall_amounts)
    stall_cycles = int(wr.stall_amounts.sum())
    compute_cycles = wr.last_cycle

    # Read scratchpads: DRAM reads
    reads = {}
    for operand, size, unique in (
        ("ifmap", cfg.ifmap_sram_words, None),
        ("filter", cfg.filter_sram_words, layer.filter_words),
    ):
        stream = _Stream(layer, cfg, geo, operand)
        if unique is None:
            unique = _unique_ifmap_words(layer)
        reads[operand] = _simulate_read_buffer(stream, unique, size, cycles)

    nz = np.nonzero(counts)[0]
    of_first, of_last = int(nz[0]), int(nz[-1])
    sram_cycles = {
        op: (int(cycles.issue(reads[op].sram_first_row)) + _HIT_LATENCY,
             int(cycles.issue(reads[op].sram_last_row)) + _HIT_LATENCY)
        for op in ("ifmap", "filter")
    }
    sram_cycles["ofmap"] = (int(cycles.serviced(of_first)), int(cycles.serviced(of_last)))
    dram_cycles = {op: (reads[op].dram_start, reads[op].dram_stop) for op in ("ifmap", "filter")}
    dram_cycles["ofmap"] = (wr.dram_start, wr.dram_stop)
    total_cycles = wr.dram_stop - min(reads["ifmap"].dram_start, reads["filter"].dram_start)

    return LayerResult(
        name=layer.name, layer=layer, dataflow=cfg.dataflow, rows=r, cols=c,
        total_cycles=int(total_cycles), compute_cycles=int(compute_cycles),
        stall_cycles=stall_cycles,
        overall_util=layer.macs / (compute_cycles * cfg.num_pes),
        mapping_eff=mapping_eff, compute_util=compute_util,
        sram_reads=OperandCounts(ifmap=ifmap_sram, filter=filter_sram, ofmap=wr.dram_writes),
        sram_writes=OperandCounts(ifmap=reads["ifmap"].dram_reads,
                                  filter=reads["filter"].dram_reads, ofmap=ofmap_sram),
        dram_reads=OperandCounts(ifmap=reads["ifmap"].dram_reads,
                                 filter=reads["filter"].dram_reads, ofmap=0),
        dram_writes=OperandCounts(ofmap=wr.dram_writes),
        sram_cycles=sram_cycles, dram_cycles=dram_cycles,
        peak_dram_bw_words_per_cycle=OperandCounts(ifmap=reads["ifmap"].peak_bw,
                                                   filter=reads["filter"].peak_bw,
                                                   ofmap=wr.peak_bw),
        folds=geo.folds,
    )
