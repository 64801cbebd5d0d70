"""Cycle and access counts of one layer on a systolic array, SCALE-Sim 3.0.0's model, vectorised.

How SCALE-Sim models a layer (read in ``scalesim/compute/systolic_compute_{os,ws,is}.py`` and
``scalesim/memory/*``), and how this module reproduces it without a Python loop per cycle:

1. **Operand matrices.** The layer is lowered to ``I`` (M x K, im2col input), ``F`` (K x N) and
   ``O`` (M x N) holding word addresses (``layers.py``).
2. **Folds.** The dataflow maps two GEMM dimensions onto the array and streams the third
   (``T``): OS maps (M, N) and streams K; WS maps (K, N) and streams M; IS maps (K, M) and
   streams N. The mapped dimensions (SCALE-Sim's ``Sr``, ``Sc``; ``mapped_rows``,
   ``mapped_cols`` here) are cut into ``ceil(Sr/rows) x ceil(Sc/cols)`` folds, run one after the
   other (column folds outer, row folds inner).
3. **Demand matrices.** Each fold is a fixed number of cycles ``L`` (``rows_per_fold``; OS:
   ``T + rows + cols - 2``; WS and IS: ``T + 2 rows + cols - 2``); in every cycle the array asks
   the ifmap and filter scratchpads for some words and writes some outputs. Which words, in
   which cycle, follows from the skew of the systolic pipeline. Here each fold's pattern is
   generated once per fold shape (at most four shapes per layer) and broadcast over all folds
   (:class:`_Stream`).
4. **Memory.** In ``CALC`` mode (``InterfaceBandwidth: CALC``) reads never stall: the read
   scratchpads only count DRAM traffic. Each is a double buffer of 100 sets; SCALE-Sim keeps a
   window of 50 sets (half the buffer) of distinct addresses, counts every address not in the
   window as a DRAM read, and starts a new window when the current one holds
   ``50 * floor(words / 100)`` distinct addresses. This module computes, for the address stream,
   each element's previous occurrence and walks the windows with cumulative sums
   (:func:`_walk_windows`), so the work is proportional to the stream, with no per-element
   Python. Previous occurrences come from the fold structure where it determines them (filters,
   and inputs whose convolution windows do not overlap: the same element of the last fold that
   read the same block; :func:`_previous_by_fold`), from one sort of the first sweep when the
   stream repeats whole sweeps (OS and WS inputs; :func:`_previous_by_sweep`), and otherwise
   from one sort per chunk of the stream (:func:`_previous_by_sort`). Operands whose distinct
   words fit in the window skip all of this: they are read once.
   The output scratchpad (:class:`_OutputBuffer`) is a double buffer that drains
   ``ceil(half / bw)`` lines of ``bw`` words (``bw`` = array columns in CALC mode) to DRAM
   whenever more than half of it is full, and stalls the array when it fills up during a drain;
   it is simulated event by event (one event per drain or stall, found with ``searchsorted`` on
   the cumulative output counts; :func:`_simulate_write_buffer`).

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

``USER`` bandwidth mode (a fixed DRAM bandwidth per operand, with prefetch stalls) is SCALE-Sim's
other read model; ``prefetch.py`` reproduces its read scratchpads, and the output-buffer walk
here combines their stalls with the output scratchpad's, row by row.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from accelscope.errors import ConfigError
from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.layers import Layer
# Latency of a DRAM read port and of a scratchpad hit, in cycles (the write port has latency 0)
from accelscope.models.systolic.prefetch import HIT_LATENCY as _HIT_LATENCY
from accelscope.models.systolic.prefetch import PORT_LATENCY as _READ_PORT_LATENCY
from accelscope.models.systolic.prefetch import prefetch_events

OPERANDS = ("ifmap", "filter", "ofmap")

#: CALC mode: the read scratchpads assume 10 words per cycle from DRAM for the first prefetch
#: (``single_layer_sim.py``: "The number 10 elems per cycle is arbitrary").
_CALC_READ_BW = 10
#: Read scratchpads: 100 sets, the active half is 50 of them (``active_buf_frac = 0.5``).
_SETS = 100
_ACTIVE_SETS = 50

_CHUNK_ELEMS = 1 << 21  # stream elements processed per sort (memory bound, not a model figure)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-D array: ``np.unique`` without its first call's import of
    ``numpy.ma`` (numpy 2.x checks for a masked array), 16 ms of a 0.3 s ``simulate`` command."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


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
            "sram_cycles": {op: list(span) for op, span in self.sram_cycles.items()},
            "dram_cycles": {op: list(span) for op, span in self.dram_cycles.items()},
        }


# ---------------------------------------------------------------------------------------
# Fold geometry and per-fold demand patterns
# ---------------------------------------------------------------------------------------
# A pattern is a triple of arrays, one entry per request of a fold, in demand order: the
# request's cycle within the fold, and its row and column offsets from the fold's origin in
# the operand matrix.
def _band(width: int, shift: int, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a skewed band, in the order the array asks for them.

    Column ``c`` (< width) requests element ``t`` (< length) of its lane in cycle
    ``d = c + shift + t``; returns ``(d, c, t)`` sorted by cycle, then column.
    """
    unshifted_cycle = np.arange(width + length - 1, dtype=np.int64)  # d - shift
    first_column = np.maximum(0, unshifted_cycle - length + 1)
    cells_per_cycle = np.minimum(width - 1, unshifted_cycle) - first_column + 1
    total = int(cells_per_cycle.sum())
    first_cell = np.cumsum(cells_per_cycle) - cells_per_cycle  # of each cycle
    cycle = np.repeat(unshifted_cycle, cells_per_cycle)
    column = np.repeat(first_column - first_cell, cells_per_cycle) + np.arange(total,
                                                                               dtype=np.int64)
    return cycle + shift, column, cycle - column


def _band_transposed(width: int, shift: int, length: int):
    """:func:`_band` as ``(d, t, c)``: for lanes that run down the operand matrix's columns
    (OS filter ``F[t, n0 + c]``, WS ifmap ``I[t, k0 + c]``)."""
    cycle, column, element = _band(width, shift, length)
    return cycle, element, column


def _band_counts(width: int, shift: int, length: int, n_cycles: int) -> np.ndarray:
    """Number of band cells in each of ``n_cycles`` cycles (see :func:`_band`)."""
    unshifted_cycle = np.arange(n_cycles, dtype=np.int64) - shift
    first_column = np.maximum(0, unshifted_cycle - length + 1)
    last_column = np.minimum(width - 1, unshifted_cycle)
    return np.maximum(last_column - first_column + 1, 0)


def _block(height: int, width: int, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of a block loaded bottom row first: cycle ``d = rows - 1 - p`` loads row ``p``;
    returns ``(d, p, c)`` (WS filter ``F[k0 + p, n0 + c]``)."""
    block_row = np.repeat(np.arange(height - 1, -1, -1, dtype=np.int64), width)
    column = np.tile(np.arange(width, dtype=np.int64), height)
    return rows - 1 - block_row, block_row, column


def _block_transposed(height: int, width: int, rows: int):
    """:func:`_block` as ``(d, c, p)`` (IS ifmap ``I[m0 + c, k0 + p]``)."""
    cycle, block_row, column = _block(height, width, rows)
    return cycle, column, block_row


@dataclass(frozen=True, slots=True)
class _Geometry:
    """How the dataflow cuts the layer's GEMM into folds (SCALE-Sim's names in brackets)."""

    mapped_rows: int  # GEMM dimension mapped onto the array rows [Sr]
    mapped_cols: int  # mapped onto the array columns [Sc]
    streamed: int  # streamed through the array [T]
    row_folds: int  # ceil(Sr / rows) [row_fold]
    col_folds: int  # ceil(Sc / cols) [col_fold]
    rows_per_fold: int  # demand-matrix rows (cycles) of one fold [L in the module docstring]

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds


def _geometry(layer: Layer, cfg: ArrayConfig) -> _Geometry:
    m, n, k, rows, cols = layer.m, layer.n, layer.k, cfg.rows, cfg.cols
    if cfg.dataflow == "os":
        mapped_rows, mapped_cols, streamed, rows_per_fold = m, n, k, k + rows + cols - 2
    elif cfg.dataflow == "ws":
        mapped_rows, mapped_cols, streamed, rows_per_fold = k, n, m, m + 2 * rows + cols - 2
    else:
        mapped_rows, mapped_cols, streamed, rows_per_fold = k, m, n, n + 2 * rows + cols - 2
    return _Geometry(mapped_rows, mapped_cols, streamed, math.ceil(mapped_rows / rows),
                     math.ceil(mapped_cols / cols), rows_per_fold)


def _fold_extent(total: int, size: int, fold_index: np.ndarray) -> np.ndarray:
    """How much of a dimension of ``total`` each fold covers when it is cut into pieces of
    ``size`` (the last piece may be shorter)."""
    return np.minimum(size, total - fold_index * size)


class _Stream:
    """The address stream one read operand sends its scratchpad, generated fold by fold.

    Every fold has a shape key (``fold_shapes[f]``); ``pattern(shape)`` gives, for a fold shape,
    each request's cycle within the fold and its row and column offsets into the operand matrix
    (``I`` or ``F``); ``origin_row[f]``, ``origin_col[f]`` place fold ``f`` in that matrix.
    A stream position counts requests in demand order, empty (-1) requests included: fold ``f``
    holds positions ``fold_starts[f] <= p < fold_starts[f + 1]``.
    """

    def __init__(self, layer: Layer, cfg: ArrayConfig, geo: _Geometry, operand: str):
        self.geo = geo
        rows, cols, dataflow = cfg.rows, cfg.cols, cfg.dataflow
        fold = np.arange(geo.folds, dtype=np.int64)
        col_fold_index, row_fold_index = fold // geo.row_folds, fold % geo.row_folds
        m, k, n = layer.m, layer.k, layer.n
        self._k = k  # GEMM K: the row length of I, the column length of F
        if operand == "ifmap":
            self._matrix = layer.ifmap_matrix().ravel()
            self.n_words = layer.ifmap_words  # addresses are 0 <= a < n_words
        else:
            self._matrix = None
            self.n_words = layer.filter_words
        # Shape keys of band patterns are the band's width; those of blocks pack the block's
        # height and width as height * (cols + 1) + width.
        if dataflow == "os" and operand == "ifmap":  # I[m0 + c, t]
            self.fold_shapes = _fold_extent(m, rows, row_fold_index)
            self.origin_row, self.origin_col = row_fold_index * rows, np.zeros_like(fold)
            self._make_pattern = lambda width: _band(width, 0, k)
        elif dataflow == "os":  # F[t, n0 + c]
            self.fold_shapes = _fold_extent(n, cols, col_fold_index)
            self.origin_row, self.origin_col = np.zeros_like(fold), col_fold_index * cols
            self._make_pattern = lambda width: _band_transposed(width, 0, k)
        elif dataflow == "ws" and operand == "ifmap":  # I[t, k0 + c]
            self.fold_shapes = _fold_extent(k, rows, row_fold_index)
            self.origin_row, self.origin_col = np.zeros_like(fold), row_fold_index * rows
            self._make_pattern = lambda width: _band_transposed(width, rows, m)
        elif dataflow == "ws":  # F[k0 + p, n0 + c]
            k_used = _fold_extent(k, rows, row_fold_index)
            n_used = _fold_extent(n, cols, col_fold_index)
            self.fold_shapes = k_used * (cols + 1) + n_used
            self.origin_row, self.origin_col = row_fold_index * rows, col_fold_index * cols
            self._make_pattern = lambda shape: _block(*divmod(shape, cols + 1), rows)
        elif operand == "ifmap":  # is: I[m0 + c, k0 + p]
            k_used = _fold_extent(k, rows, row_fold_index)
            m_used = _fold_extent(m, cols, col_fold_index)
            self.fold_shapes = k_used * (cols + 1) + m_used
            self.origin_row, self.origin_col = col_fold_index * cols, row_fold_index * rows
            self._make_pattern = lambda shape: _block_transposed(*divmod(shape, cols + 1), rows)
        else:  # is, filter: F[k0 + c, t]
            self.fold_shapes = _fold_extent(k, rows, row_fold_index)
            self.origin_row, self.origin_col = row_fold_index * rows, np.zeros_like(fold)
            self._make_pattern = lambda width: _band(width, rows, n)
        # The previous fold that reads the same block of the operand (-1: none). When the
        # operand has no repeated address inside a block and distinct blocks are disjoint
        # (filters always; inputs when convolution windows do not overlap), an element's
        # previous occurrence is the same element of that fold: no sort is needed.
        repeats_per_col_fold = (dataflow in ("os", "ws") and operand == "ifmap") or \
            (dataflow == "is" and operand == "filter")
        # Folds repeat as whole sweeps (all row folds, once per column fold) for these:
        self.sweeps = geo.col_folds if repeats_per_col_fold else 1
        if repeats_per_col_fold:
            self.previous_fold = np.where(col_fold_index >= 1, fold - geo.row_folds, -1)
        elif dataflow == "os" and operand == "filter":
            self.previous_fold = np.where(row_fold_index >= 1, fold - 1, -1)
        else:
            self.previous_fold = np.full(geo.folds, -1, dtype=np.int64)
        no_overlap = ((layer.stride_h >= layer.filter_h or layer.ofmap_h == 1)
                      and (layer.stride_w >= layer.filter_w or layer.ofmap_w == 1))
        self.distinct = operand == "filter" or no_overlap
        self.has_empty = operand == "ifmap" and bool((self._matrix < 0).any())
        self._patterns: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        shapes = _distinct(self.fold_shapes)
        length_of = {int(shape): len(self.pattern(shape)[0]) for shape in shapes}
        self.fold_lengths = (
            np.array([length_of[int(shape)] for shape in self.fold_shapes], dtype=np.int64)
            if len(shapes) > 1 else np.full(geo.folds, length_of[int(shapes[0])], dtype=np.int64))
        self.fold_starts = np.concatenate(([0], np.cumsum(self.fold_lengths)))

    def pattern(self, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cycle in fold, operand-matrix row offset, column offset) for a fold shape."""
        shape = int(shape)
        if shape not in self._patterns:
            self._patterns[shape] = self._make_pattern(shape)
        return self._patterns[shape]

    def addresses(self, matrix_row: np.ndarray, matrix_col: np.ndarray) -> np.ndarray:
        """Word addresses of operand-matrix cells (-1: an empty request, off the input's edge)."""
        if self._matrix is not None:
            return self._matrix[matrix_row * self._k + matrix_col]
        return matrix_col * self._k + matrix_row  # filter F[k, n] is word n * K + k

    def chunks(self, max_elems: int = _CHUNK_ELEMS, with_addresses: bool = True):
        """Yield ``(addresses, row_of, first_fold, stop_fold)`` for the folds
        ``first_fold <= f < stop_fold``: whole folds, at most ``max_elems`` requests unless one
        fold is longer, in demand order, -1 kept (``addresses`` is None without
        ``with_addresses``).

        ``row_of(i)`` is the demand row of element ``i`` of the chunk (computed on demand:
        only window closes need it).
        """
        geo, rows_per_fold, starts = self.geo, self.geo.rows_per_fold, self.fold_starts
        first_fold = 0
        while first_fold < geo.folds:
            stop_fold = int(np.searchsorted(starts, starts[first_fold] + max_elems,
                                            side="right")) - 1
            stop_fold = min(max(stop_fold, first_fold + 1), geo.folds)
            chunk_start = starts[first_fold]
            addresses = None
            if with_addresses:
                addresses = np.empty(int(starts[stop_fold] - chunk_start), dtype=np.int64)
                shapes = self.fold_shapes[first_fold:stop_fold]
                for shape in _distinct(shapes):
                    folds = np.nonzero(shapes == shape)[0] + first_fold
                    _, row_offsets, col_offsets = self.pattern(shape)
                    positions = ((starts[folds] - chunk_start)[:, None]
                                 + np.arange(len(row_offsets))[None, :])
                    matrix_row = self.origin_row[folds][:, None] + row_offsets[None, :]
                    matrix_col = self.origin_col[folds][:, None] + col_offsets[None, :]
                    addresses[positions] = self.addresses(matrix_row, matrix_col)
            fold_offsets = starts[first_fold:stop_fold + 1] - chunk_start  # within the chunk

            def row_of(i: int, first_fold=first_fold, fold_offsets=fold_offsets) -> int:
                fold_in_chunk = int(np.searchsorted(fold_offsets, i, side="right")) - 1
                fold = first_fold + fold_in_chunk
                cycle_in_fold = self.pattern(self.fold_shapes[fold])[0]
                return fold * rows_per_fold + int(cycle_in_fold[i - fold_offsets[fold_in_chunk]])

            yield addresses, row_of, first_fold, stop_fold
            first_fold = stop_fold


# ---------------------------------------------------------------------------------------
# Output buffer (write_buffer.py): event-driven
# ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _WriteResult:
    stall_rows: np.ndarray
    stall_amounts: np.ndarray
    write_stalls: np.ndarray  # per entry: a write stall (True) or a read stall beyond it
    dram_writes: int
    dram_start: int
    dram_stop: int
    peak_bw: int
    last_cycle: int


class _OutputBuffer:
    """SCALE-Sim's output scratchpad (``write_buffer.py``), kept as runs of lines.

    The array's outputs fill lines of ``line_words`` words (SCALE-Sim's ``req_gen_bandwidth``,
    the array columns in CALC mode); filled lines wait for DRAM in a queue of runs
    ``[lines, words per line]``. A drain (``empty_drain_buf``) sends up to ``lines_per_drain``
    queued lines to DRAM, one per cycle, and frees their words.
    """

    def __init__(self, size_words: int, line_words: int, compat: bool):
        self.line_words = line_words
        self.compat = compat
        # The active half; the rest is the drain buffer [drain_buf_size, lines_to_fill_dbuf].
        self.active_words = math.ceil(size_words * 0.5)
        self.lines_per_drain = math.ceil((size_words - self.active_words) / line_words)
        self.free = size_words  # [free_space]
        self.open_line = 0  # words in the line being filled
        self.queue: deque[list[int]] = deque()  # runs of [lines, words per line]
        self.dram_writes = 0  # [num_access]
        self.first_drain: int | None = None  # cycle the first drain started
        self.last_drain_end: int | None = None  # last cycle of the latest drain
        self.peak_bw = 0  # most words per cycle of one drain

    def store(self, words: int) -> None:
        """The array writes ``words`` outputs."""
        self.free -= words
        full, self.open_line = divmod(self.open_line + words, self.line_words)
        if full:
            if self.queue and self.queue[-1][1] == self.line_words:
                self.queue[-1][0] += full
            else:
                self.queue.append([full, self.line_words])

    def flush(self) -> None:
        """Queue the open line, partly filled [append_to_trace_mat(force=True)]."""
        if self.open_line:
            self.queue.append([1, self.open_line])
            self.open_line = 0

    def drain(self, cycle: int) -> int:
        """Send up to ``lines_per_drain`` lines to DRAM, one per cycle from ``cycle`` (the open
        line is queued first); returns the cycle of the last one."""
        self.flush()
        lines, last_line_words, words = 0, 0, 0
        while self.queue and lines < self.lines_per_drain:
            run = self.queue[0]
            take = min(run[0], self.lines_per_drain - lines)
            lines += take
            last_line_words = run[1]
            words += take * run[1]
            run[0] -= take
            if run[0] == 0:
                self.queue.popleft()
        # compat: SCALE-Sim counts every line but the last as full
        drained = (lines - 1) * self.line_words + last_line_words if self.compat else words
        self.dram_writes += drained
        self.free += drained
        end = cycle + lines - 1
        if self.first_drain is None:
            self.first_drain = cycle
        self.last_drain_end = end if self.last_drain_end is None else max(self.last_drain_end,
                                                                           end)
        self.peak_bw = max(self.peak_bw, math.ceil(drained / lines))
        return end


def _simulate_write_buffer(counts: np.ndarray, size_words: int, line_words: int,
                           compat: bool, read_rows: np.ndarray | None = None,
                           read_stall: Callable[[int, int], int] | None = None
                           ) -> _WriteResult:
    """Stalls and DRAM writes of the output scratchpad; ``counts[row]`` outputs are written in
    demand row ``row``, which is issued in cycle ``row`` plus the stalls before it.

    Event by event: each step stores outputs up to the next drain (the free space falls below
    the active half) or, while a drain runs, up to the drain's end or to a full buffer, where
    the array stalls until the drain ends [``write_buffer.service_writes``].

    USER mode: ``read_rows`` are the demand rows where the read scratchpads prefetch and
    ``read_stall(row, cycle)`` their stall in that row when it is issued in ``cycle``; a row
    stalls by the larger of its read and write stalls [``service_memory_requests``].
    """
    written = np.cumsum(counts)  # outputs written up to and including each demand row
    total = int(written[-1])
    n_rows = len(counts)
    buffer = _OutputBuffer(size_words, line_words, compat)
    stored = 0  # outputs stored so far
    stalls = 0  # stall cycles so far: the current demand row's cycle is row + stalls
    drain_end = 0  # last cycle of the latest drain [drain_end_cycle]
    stall_rows: list[int] = []
    stall_amounts: list[int] = []
    read_entries: list[int] = []  # indices of the entries that are read stalls

    def row_of(output_index: int) -> int:  # 0-based output index -> its demand row
        return int(np.searchsorted(written, output_index, side="right"))

    def store_until(target: int) -> None:
        nonlocal stored, stalls, drain_end
        while stored < target:
            if row_of(stored) + stalls < drain_end:  # a drain is running
                last_row = min(drain_end - stalls - 1, n_rows - 1)  # last row before it ends
                until_drain_end = int(written[last_row]) - stored
                words = max(buffer.free, 1)
                if words <= until_drain_end and words <= target - stored:
                    # the buffer fills up: stall until the drain ends
                    stored += words
                    buffer.store(words)
                    row = row_of(stored - 1)
                    stall_rows.append(row)
                    stall_amounts.append(drain_end - (row + stalls))
                    stalls = drain_end - row
                else:
                    words = min(until_drain_end, target - stored)
                    stored += words
                    buffer.store(words)
            else:
                words = max(buffer.free - buffer.active_words + 1, 1)  # until a drain starts
                if words <= target - stored:
                    stored += words
                    buffer.store(words)
                    row = row_of(stored - 1)
                    drain_end = buffer.drain(row + stalls)
                else:
                    buffer.store(target - stored)
                    stored = target

    if read_rows is not None:
        for row in read_rows[read_rows < n_rows - 1]:  # the last row's stall delays nothing
            row = int(row)
            store_until(int(written[row - 1]) if row else 0)
            stalls_before = stalls
            store_until(int(written[row]))
            extra = stalls_before + read_stall(row, row + stalls_before) - stalls
            if extra > 0:
                read_entries.append(len(stall_rows))
                stall_rows.append(row)
                stall_amounts.append(extra)
                stalls += extra
    store_until(total)
    last_cycle = n_rows - 1 + stalls
    buffer.flush()
    cycle = last_cycle
    while buffer.queue:
        cycle = buffer.drain(cycle) + 1
    write_stalls = np.ones(len(stall_rows), dtype=bool)
    write_stalls[read_entries] = False
    return _WriteResult(np.array(stall_rows, dtype=np.int64),
                        np.array(stall_amounts, dtype=np.int64), write_stalls,
                        buffer.dram_writes,
                        buffer.first_drain, buffer.last_drain_end, buffer.peak_bw, last_cycle)


class _Cycles:
    """Demand row -> cycle at which it is issued (row + stalls of earlier rows)."""

    def __init__(self, stall_rows: np.ndarray, stall_amounts: np.ndarray):
        self.stall_rows = stall_rows
        self.stalls_before = np.concatenate(([0], np.cumsum(stall_amounts)))  # [i]: first i

    def issue(self, rows):
        return np.asarray(rows) + self.stalls_before[np.searchsorted(self.stall_rows, rows,
                                                                     side="left")]

    def serviced(self, rows):
        """Cycle at which the row's writes finished (stalls in the row included)."""
        return np.asarray(rows) + self.stalls_before[np.searchsorted(self.stall_rows, rows,
                                                                     side="right")]


# ---------------------------------------------------------------------------------------
# Read scratchpads in CALC mode (read_buffer_estimate_bw.py)
# ---------------------------------------------------------------------------------------
# The stream is walked chunk by chunk. For every request one of three functions gives its
# previous occurrence: the stream position of the last earlier request for the same address
# (negative: none; _NEVER: an empty request, which is never a DRAM read). A request reads DRAM
# when its previous occurrence lies before the start of the open window; _walk_windows counts
# those and closes a window at the one that fills it.
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
        window_starts = np.arange(out) * stride
        for offset in range(filt):
            touched = window_starts + offset
            mask[touched[touched < size]] = True
        return int(mask.sum())

    return (covered(layer.ifmap_h, layer.filter_h, layer.stride_h, layer.ofmap_h)
            * covered(layer.ifmap_w, layer.filter_w, layer.stride_w, layer.ofmap_w)
            * layer.channels)


def _first_last_valid_rows(stream: _Stream) -> tuple[int, int]:
    """First and last demand rows with a real (not -1) request, scanning folds from each end."""
    geo = stream.geo

    def valid_cycles(fold: int) -> np.ndarray:
        cycle_in_fold, row_offsets, col_offsets = stream.pattern(stream.fold_shapes[fold])
        addresses = stream.addresses(stream.origin_row[fold] + row_offsets,
                                     stream.origin_col[fold] + col_offsets)
        return cycle_in_fold[addresses >= 0]

    first = next(fold * geo.rows_per_fold + int(cycles.min()) for fold in range(geo.folds)
                 if len(cycles := valid_cycles(fold)))
    last = next(fold * geo.rows_per_fold + int(cycles.max())
                for fold in range(geo.folds - 1, -1, -1) if len(cycles := valid_cycles(fold)))
    return first, last


_NEVER = np.iinfo(np.int64).max


class _Occurrences(NamedTuple):
    """One chunk of the stream as the window walk sees it."""

    start: int  # stream position of the chunk's first element
    previous: np.ndarray  # each element's previous occurrence (a stream position, see above)
    row_of: Callable[[int], int]  # element index in the chunk -> demand row


def _sort_by_address(addresses: np.ndarray, positions: np.ndarray,
                     position_limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort requests by address, then position (``0 <= positions < position_limit``), with one
    integer sort; returns the sorted addresses and positions, and for each sorted request
    after the first whether it has the same address as the one before."""
    bits = max(int(position_limit).bit_length(), 1)
    key = (addresses << bits) | positions
    key.sort()
    sorted_addresses, sorted_positions = key >> bits, key & ((1 << bits) - 1)
    return sorted_addresses, sorted_positions, sorted_addresses[1:] == sorted_addresses[:-1]


def _previous_by_sweep(stream: _Stream) -> Iterator[_Occurrences]:
    """Case (a): the stream is ``stream.sweeps`` identical sweeps (all row folds, once per
    column fold) with repeated addresses inside a sweep. One sort of the first sweep gives every
    element's previous occurrence relative to its sweep's start: an earlier element of the same
    sweep or, for an address's first element, its last element in the previous sweep (a
    negative position). Sweep ``j`` is that plus ``j`` sweep lengths; positions count empty
    requests."""
    geo = stream.geo
    sweep_len = int(stream.fold_lengths[:geo.row_folds].sum())
    addresses, row_of, first_fold, stop_fold = next(stream.chunks(max_elems=sweep_len))
    assert (first_fold, stop_fold) == (0, geo.row_folds)
    n = len(addresses)
    valid = addresses >= 0
    positions = np.arange(n, dtype=np.int64)
    sorted_addresses, sorted_positions, same = _sort_by_address(addresses[valid],
                                                                positions[valid], n)
    in_sweep = np.full(n, _NEVER, dtype=np.int64)  # relative to the sweep's start
    in_sweep[sorted_positions[1:]] = np.where(same, sorted_positions[:-1], 0)
    firsts = np.flatnonzero(np.concatenate(([True], ~same)))
    lasts = np.flatnonzero(np.concatenate((~same, [True])))
    # an address's first occurrence in a sweep follows its last one in the previous sweep
    in_sweep[sorted_positions[firsts]] = sorted_positions[lasts] - n
    empty = in_sweep == _NEVER
    sweep_rows = geo.row_folds * geo.rows_per_fold
    for sweep in range(stream.sweeps):
        previous = in_sweep + sweep * n
        previous[empty] = _NEVER

        def sweep_row_of(i: int, first_row=sweep * sweep_rows) -> int:
            return row_of(i) + first_row

        yield _Occurrences(sweep * n, previous, sweep_row_of)


def _previous_by_fold(stream: _Stream) -> Iterator[_Occurrences]:
    """Case (b), ``stream.distinct``: no address repeats inside a block and distinct blocks are
    disjoint, so an element's previous occurrence is the same element of
    ``stream.previous_fold`` (the last fold that read the same block), a fixed distance back
    per fold: no sort, and addresses are generated only to find empty requests. Positions
    count empty requests."""
    starts, lengths = stream.fold_starts, stream.fold_lengths
    for addresses, row_of, first_fold, stop_fold in stream.chunks(
            with_addresses=stream.has_empty):
        chunk_start = int(starts[first_fold])
        previous_fold = stream.previous_fold[first_fold:stop_fold]
        distance = np.where(previous_fold >= 0, starts[first_fold:stop_fold]
                            - starts[np.maximum(previous_fold, 0)], -1)
        distance = np.repeat(distance, lengths[first_fold:stop_fold])  # per element
        positions = np.arange(chunk_start, int(starts[stop_fold]), dtype=np.int64)
        previous = np.where(distance >= 0, positions - distance, -1)
        if addresses is not None and addresses.min() < 0:
            previous[addresses < 0] = _NEVER
        yield _Occurrences(chunk_start, previous, row_of)


def _previous_by_sort(stream: _Stream) -> Iterator[_Occurrences]:
    """Case (c), the general one: one sort per chunk finds previous occurrences inside the
    chunk; a table of every address's last position carries them across chunks. Empty
    requests are dropped: positions count real requests only."""
    last_seen = np.full(stream.n_words, -1, dtype=np.int64)
    chunk_start = 0
    for addresses, chunk_row_of, _, _ in stream.chunks():
        row_of = chunk_row_of
        if addresses.min() < 0:
            kept = np.flatnonzero(addresses >= 0)  # chunk index of each real request
            addresses = addresses[kept]

            def row_of(i: int, chunk_row_of=chunk_row_of, kept=kept) -> int:
                return chunk_row_of(int(kept[i]))
        n = len(addresses)
        if n == 0:
            continue
        sorted_addresses, sorted_positions, same = _sort_by_address(
            addresses, np.arange(n, dtype=np.int64), n)
        previous = np.empty(n, dtype=np.int64)
        previous[sorted_positions[1:]] = np.where(same, sorted_positions[:-1] + chunk_start, -1)
        first = np.concatenate(([True], ~same))
        previous[sorted_positions[first]] = last_seen[sorted_addresses[first]]
        last = np.concatenate((~same, [True]))
        last_seen[sorted_addresses[last]] = sorted_positions[last] + chunk_start
        yield _Occurrences(chunk_start, previous, row_of)
        chunk_start += n


def _previous_occurrences(stream: _Stream) -> Iterator[_Occurrences]:
    """The stream's chunks with previous occurrences, by the cheapest case that applies."""
    if stream.distinct:
        return _previous_by_fold(stream)
    if stream.sweeps > 1:
        return _previous_by_sweep(stream)
    return _previous_by_sort(stream)


@dataclass(slots=True)
class _Windows:
    """The read scratchpad's windows of distinct words, walked along the stream."""

    size: int  # distinct words that fill a window: 50 sets of floor(words / 100)
    start: int = 0  # stream position where the open window starts
    words: int = 0  # distinct words in the open window
    dram_reads: int = 0  # words read from DRAM so far
    close_rows: list[int] = field(default_factory=list)  # demand rows where windows closed


def _find_nth_new(previous: np.ndarray, pos: int, window_start: int,
                  n: int) -> tuple[int, int]:
    """The index of the ``n``-th element from ``pos`` on that is new to a window starting at
    ``window_start`` (its previous occurrence is before it), and ``n``; or -1 and the number
    of new elements to the end, when there are fewer. Cumulative sums over growing blocks."""
    block = max(2 * n, 4096)
    seen = 0
    while pos < len(previous):
        new_so_far = np.cumsum(previous[pos:pos + block] < window_start)
        in_block = int(new_so_far[-1])
        if seen + in_block >= n:
            return pos + int(np.searchsorted(new_so_far, n - seen)), n
        seen += in_block
        pos += len(new_so_far)
        block *= 2
    return -1, seen


def _walk_windows(windows: _Windows, chunk: _Occurrences) -> None:
    """Advance the windows over one chunk: every new word of the open window is a DRAM read;
    the window closes at the word that fills it and the next one starts right after."""
    pos = 0
    while pos < len(chunk.previous):
        wanted = windows.size - windows.words
        found, new = _find_nth_new(chunk.previous, pos, windows.start, wanted)
        windows.dram_reads += new
        if found < 0:  # the chunk ends inside the open window
            windows.words += new
            return
        windows.words = 0
        windows.close_rows.append(chunk.row_of(found))
        windows.start = chunk.start + found + 1
        pos = found + 1


def _simulate_read_buffer(stream: _Stream, unique_words: int, size_words: int,
                          cycles: _Cycles) -> _ReadResult:
    """DRAM reads of one read scratchpad and when they happen; ``unique_words`` is the number of
    distinct words the stream reads."""
    words_per_set = size_words // _SETS  # [num_items_per_set]
    windows = _Windows(_ACTIVE_SETS * words_per_set)
    first_row, last_row = _first_last_valid_rows(stream)
    first_cycle = int(cycles.issue(first_row))
    if unique_words < windows.size:  # everything fits in one window: each word is read once
        windows.dram_reads = unique_words
    else:
        for chunk in _previous_occurrences(stream):
            _walk_windows(windows, chunk)
    if windows.close_rows:
        close_cycles = [int(cycle) for cycle in cycles.issue(np.array(windows.close_rows))]
        first_fill = math.ceil(windows.size / _CALC_READ_BW)  # cycles to prefetch the first
        dram_start = first_cycle - 1 - _READ_PORT_LATENCY - first_fill + 1 + _READ_PORT_LATENCY
        dram_stop = close_cycles[-1] + _READ_PORT_LATENCY
        # Peak: the first window comes at the default 10 words/cycle, each later one spread
        # over the previous window's span, the open window's words over the last span.
        spans = [end - begin for begin, end in
                 zip([first_cycle - 2] + close_cycles[:-1], close_cycles)]
        fetched = [windows.size] * (len(close_cycles) - 1) + [windows.words]
        peak = max([_CALC_READ_BW] + [math.ceil(words / span) if span > 0 else words
                                      for words, span in zip(fetched, spans)])
    else:  # one prefetch before the first demand
        n_sets = math.ceil(windows.dram_reads / words_per_set)
        dram_start = -math.ceil(n_sets * words_per_set / _CALC_READ_BW)
        dram_stop = -1
        peak = _CALC_READ_BW
    return _ReadResult(windows.dram_reads, dram_start, dram_stop, peak, first_row, last_row)


# ---------------------------------------------------------------------------------------
# The layer
# ---------------------------------------------------------------------------------------
def _ofmap_counts(layer: Layer, cfg: ArrayConfig, geo: _Geometry) -> np.ndarray:
    """Outputs the array writes in each demand row: one band per fold (see :func:`_band`)."""
    rows, cols = cfg.rows, cfg.cols
    fold = np.arange(geo.folds, dtype=np.int64)
    col_fold_index, row_fold_index = fold // geo.row_folds, fold % geo.row_folds
    if cfg.dataflow == "os":
        m_used = _fold_extent(layer.m, rows, row_fold_index)
        n_used = _fold_extent(layer.n, cols, col_fold_index)
        bands = np.stack([n_used, layer.k - 1 + rows - m_used, m_used], axis=1)
    elif cfg.dataflow == "ws":
        n_used = _fold_extent(layer.n, cols, col_fold_index)
        bands = np.stack([n_used, np.full_like(n_used, 2 * rows - 1),
                          np.full_like(n_used, layer.m)], axis=1)
    else:
        m_used = _fold_extent(layer.m, cols, col_fold_index)
        bands = np.stack([m_used, np.full_like(m_used, 2 * rows - 1),
                          np.full_like(m_used, layer.n)], axis=1)
    # (width, shift, length) of each fold's band; count each distinct band once
    keys = [tuple(band) for band in bands.tolist()]
    distinct_bands = sorted(set(keys))
    index = {band: i for i, band in enumerate(distinct_bands)}
    per_band = np.stack([_band_counts(width, shift, length, geo.rows_per_fold)
                         for width, shift, length in distinct_bands])
    return per_band[np.array([index[band] for band in keys], dtype=np.int64)].ravel()


def simulate_layer(layer: Layer, cfg: ArrayConfig) -> LayerResult:
    """Cycles and SRAM/DRAM accesses of one occurrence of ``layer`` (SCALE-Sim 3.0.0's model)."""
    geo = _geometry(layer, cfg)
    rows, cols = cfg.rows, cfg.cols
    m, n, k = layer.m, layer.n, layer.k

    # Array-side counts (systolic_compute_*.py)
    if cfg.dataflow == "os":
        ifmap_sram = geo.col_folds * m * k
        filter_sram = geo.row_folds * k * n
        ofmap_sram = m * n + (geo.folds * (rows + cols) if cfg.compat else 0)
        cycles_per_fold = geo.streamed + rows + cols - 2
    else:
        if cfg.dataflow == "ws":
            ifmap_sram, filter_sram = geo.col_folds * m * k, k * n
        else:
            ifmap_sram, filter_sram = m * k, geo.col_folds * k * n
        ofmap_sram = geo.row_folds * m * n
        cycles_per_fold = geo.streamed + 2 * rows + 2 * cols - 3  # SCALE-Sim's utilisation
    mapping_eff = (geo.mapped_rows * geo.mapped_cols) / (geo.folds * rows * cols)
    compute_util = mapping_eff * geo.streamed / cycles_per_fold

    streams = {"ifmap": _Stream(layer, cfg, geo, "ifmap"),
               "filter": _Stream(layer, cfg, geo, "filter")}
    sizes = {"ifmap": cfg.ifmap_sram_words, "filter": cfg.filter_sram_words}
    counts = _ofmap_counts(layer, cfg, geo)
    user = cfg.dram_bw_words_per_cycle
    if user is None:
        # Output scratchpad (stalls and DRAM writes), then the read scratchpads' DRAM reads
        writes = _simulate_write_buffer(counts, cfg.ofmap_sram_words, cols, cfg.compat)
        cycles = _Cycles(writes.stall_rows, writes.stall_amounts)
        unique = {"ifmap": _unique_ifmap_words(layer), "filter": layer.filter_words}
        reads = {op: _simulate_read_buffer(streams[op], unique[op], sizes[op], cycles)
                 for op in ("ifmap", "filter")}
        read_spans = {op: (reads[op].sram_first_row, reads[op].sram_last_row)
                      for op in reads}
        dram_reads = {op: reads[op].dram_reads for op in reads}
        dram_cycles = {op: (reads[op].dram_start, reads[op].dram_stop) for op in reads}
        peak = {op: reads[op].peak_bw for op in reads}

        def served(op: str, row: int) -> int:
            return int(cycles.issue(row)) + _HIT_LATENCY
    else:
        # USER mode: the read scratchpads' prefetches are known before their timing, and the
        # three scratchpads' stalls are combined row by row in the output-buffer walk.
        bws = {"ifmap": user[0], "filter": user[1]}
        prefetch = {op: prefetch_events(
            layer, cfg, op, sizes[op], bws[op],
            ((a, row_of) for a, row_of, _, _ in streams[op].chunks())) for op in streams}
        read_rows = np.union1d(prefetch["ifmap"].rows, prefetch["filter"].rows)

        def read_stall(row: int, cycle: int) -> int:
            return max(p.served_offset(row, cycle) for p in prefetch.values()) - _HIT_LATENCY

        writes = _simulate_write_buffer(counts, cfg.ofmap_sram_words, user[2], cfg.compat,
                                        read_rows, read_stall)
        cycles = _Cycles(writes.stall_rows, writes.stall_amounts)
        read_spans = {op: _first_last_valid_rows(streams[op]) for op in streams}
        dram_reads = {op: prefetch[op].dram_reads for op in prefetch}
        dram_cycles = {op: prefetch[op].dram_cycles for op in prefetch}
        peak = dict(bws)

        def served(op: str, row: int) -> int:
            cycle = int(cycles.issue(row))
            return cycle + prefetch[op].served_offset(row, cycle)
    stall_cycles = int(writes.stall_amounts.sum())
    compute_cycles = writes.last_cycle

    rows_with_writes = np.nonzero(counts)[0]
    first_write_row, last_write_row = int(rows_with_writes[0]), int(rows_with_writes[-1])
    sram_cycles = {op: (served(op, first), served(op, last))
                   for op, (first, last) in read_spans.items()}
    # an output row is served after its own write stalls, not after its read stalls
    write_stall_rows = writes.stall_rows[writes.write_stalls]
    write_stall_amounts = writes.stall_amounts[writes.write_stalls]
    sram_cycles["ofmap"] = tuple(
        int(cycles.issue(row)) + int(write_stall_amounts[write_stall_rows == row].sum())
        for row in (first_write_row, last_write_row))
    dram_cycles["ofmap"] = (writes.dram_start, writes.dram_stop)
    total_cycles = writes.dram_stop - min(dram_cycles["ifmap"][0], dram_cycles["filter"][0])

    return LayerResult(
        name=layer.name, layer=layer, dataflow=cfg.dataflow, rows=rows, cols=cols,
        total_cycles=int(total_cycles), compute_cycles=int(compute_cycles),
        stall_cycles=stall_cycles,
        overall_util=layer.macs / (compute_cycles * cfg.num_pes),
        mapping_eff=mapping_eff, compute_util=compute_util,
        sram_reads=OperandCounts(ifmap=ifmap_sram, filter=filter_sram, ofmap=writes.dram_writes),
        sram_writes=OperandCounts(ifmap=dram_reads["ifmap"], filter=dram_reads["filter"],
                                  ofmap=ofmap_sram),
        dram_reads=OperandCounts(ifmap=dram_reads["ifmap"], filter=dram_reads["filter"],
                                 ofmap=0),
        dram_writes=OperandCounts(ofmap=writes.dram_writes),
        sram_cycles=sram_cycles, dram_cycles=dram_cycles,
        peak_dram_bw_words_per_cycle=OperandCounts(ifmap=peak["ifmap"], filter=peak["filter"],
                                                   ofmap=writes.peak_bw),
        folds=geo.folds,
    )
