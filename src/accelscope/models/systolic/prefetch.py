"""Read scratchpads in SCALE-Sim 3.0.0's ``USER`` bandwidth mode, without a loop per request.

How SCALE-Sim models them (``scalesim/memory/read_buffer.py``, ``double_buffered_scratchpad_mem
.service_memory_requests``, the ``create_*_prefetch_mat`` methods of
``scalesim/compute/systolic_compute_{os,ws,is}.py``), and how this module follows it:

1. **Fetch order.** Each read operand has a *prefetch sequence*: the operand-matrix blocks of
   its folds stacked in fold order (OS: ``I^T`` per row fold, ``F`` per column fold; WS: ``I``
   per row fold, ``F`` per column fold; IS: ``I^T`` per column fold, ``F^T`` per row fold),
   short folds padded with empty (-1) entries, then read out along anti-diagonals (rows from
   the bottom up within a diagonal) except for the WS filter and the IS input, which are read
   row by row (:func:`prefetch_sequence`).
2. **Lines.** The sequence's real entries are cut into lines of ``e = ceil(words / 100)``
   entries (``prepare_hashed_buffer``); a line holds the distinct addresses among them. The
   scratchpad's active window is ``A = ceil(ceil(words / 2) / e)`` consecutive lines and each
   prefetch moves it on by ``P = ceil((words - ceil(words / 2)) / e)`` lines, round the ring of
   all ``N`` lines (both clipped to ``N``).
3. **Demand.** The array's requests are checked in demand order; a request whose address is in
   no line of the window triggers prefetches until one is (``service_reads``). Which requests
   miss does not depend on time, so this module finds them first: the window is a pure
   function of the number ``k`` of prefetches so far, and runs of hits are found with one
   vectorised membership test per block of requests (:func:`prefetch_events`).
4. **Time.** Prefetches are issued back to back: prefetch ``k`` completes in cycle
   ``T_k = -1 + k (n + 1)`` with ``n = ceil((words - ceil(words / 2)) / bw)`` cycles of ``bw``
   words plus the port's latency of 1 (the first fill ends in cycle -1, before the first
   request). A demand row issued in cycle ``c`` whose requests trigger prefetches ``k`` is
   served at ``c + offset``, the offset updated per prefetch exactly as ``service_reads`` does:
   ``offset += T_k - (c + offset)``, plus that once more when it is positive
   (:meth:`ReadPrefetch.served_offset`). With ``compat=False`` a row is served when its last
   prefetch has arrived, ``max(offset, T_k - c + 1)``, without the double count.
5. **Counts.** DRAM reads are whole fetch requests: ``min(ceil(A_words / bw), rows of the
   fetch matrix) * bw`` for the first fill and ``n * bw`` per prefetch (``num_access``).

The stall of a demand row is the largest of the ifmap, filter and ofmap stalls
(``service_memory_requests``); the engine's output-buffer walk combines them
(``engine._simulate_write_buffer``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.layers import Layer

#: Latency of a scratchpad hit and of a DRAM read port, in cycles (``read_buffer.hit_latency``,
#: ``read_port.latency``); shared with the engine's CALC-mode read scratchpads.
HIT_LATENCY = 1
PORT_LATENCY = 1
_FIRST_BLOCK = 2048  # requests per first membership test after a miss (grows x2 per block)


def _antidiagonal_order(n_rows: int, n_cols: int) -> np.ndarray:
    """Position in the anti-diagonal read-out of each cell of an ``n_rows x n_cols`` matrix
    (row-major cell order): diagonal ``d = r + c`` ascending, rows descending within one."""
    r = np.arange(n_rows, dtype=np.int64)[:, None]
    c = np.arange(n_cols, dtype=np.int64)[None, :]
    d = np.arange(n_rows + n_cols - 1, dtype=np.int64)
    lengths = np.minimum(d, n_rows - 1) - np.maximum(0, d - n_cols + 1) + 1
    before = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    diag = r + c
    return (before[diag] + np.minimum(diag, n_rows - 1) - r).ravel()


def prefetch_sequence(layer: Layer, cfg: ArrayConfig, operand: str) -> np.ndarray:
    """The operand's prefetch sequence (word addresses, -1 for padding), SCALE-Sim's order."""
    m, n, k = layer.m, layer.n, layer.k
    rows, cols = cfg.rows, cfg.cols
    if operand == "ifmap":
        ifmap = layer.ifmap_matrix()

        def matrix(row, col):  # I[m, k]
            return ifmap[row, col]
    else:
        def matrix(row, col):  # F[k, n] is word n * K + k
            return col * k + row
    # Each fold's block: ``height`` rows ``t``, ``width`` lanes cutting the folded dimension
    # (``extent`` long) into folds; the cell is the operand matrix at (lane, t) or (t, lane).
    # (extent, width, height, lane indexes the matrix's rows?, read along anti-diagonals?)
    extent, width, height, lane_is_row, rolled = {
        ("os", "ifmap"): (m, rows, k, True, True),  # I^T[t, m0 + c] per row fold
        ("os", "filter"): (n, cols, k, False, True),  # F[t, n0 + c] per column fold
        ("ws", "ifmap"): (k, rows, m, False, True),  # I[t, k0 + c] per row fold
        ("ws", "filter"): (n, cols, k, False, False),  # F[t, n0 + c] per column fold
        ("is", "ifmap"): (m, cols, k, True, False),  # I^T[t, m0 + c] per column fold
        ("is", "filter"): (k, rows, n, True, True),  # F^T[t, k0 + c] per row fold
    }[cfg.dataflow, operand]
    folds = math.ceil(extent / width)
    f, t = np.divmod(np.arange(folds * height, dtype=np.int64)[:, None], height)
    lane = f * width + np.arange(width, dtype=np.int64)[None, :]
    inside = np.minimum(lane, extent - 1)
    address = matrix(inside, t) if lane_is_row else matrix(t, inside)
    cells = np.where(lane < extent, address, -1).ravel()
    if not rolled:
        return cells
    sequence = np.empty_like(cells)
    sequence[_antidiagonal_order(folds * height, width)] = cells
    return sequence


@dataclass(slots=True)
class _Lines:
    """The ring of lines the prefetch sequence is cut into, and which lines hold an address."""

    n_lines: int  # N
    active: int  # A: lines in the active window
    step: int  # P: lines one prefetch moves the window on
    line_of: np.ndarray | None  # address -> its only line (every address in one line)
    keys: np.ndarray | None  # sorted distinct address * N + line (some address in several)
    real: np.ndarray | None = None  # the sequence's real entries (with keys)
    per_line: int = 1
    size: int = 1  # addresses are 0 <= a < size
    window_start: int | None = None  # the window ``counts`` describe
    counts: np.ndarray | None = None  # entries of each address in that window's lines

    def _window_counts(self, start: int) -> np.ndarray:
        """Entries of each address in the window's lines, moved from the last window."""
        n, a, e, size = self.n_lines, self.active, self.per_line, self.size

        def count(first: int, lines: int) -> np.ndarray:  # lines [first, first + lines) mod N
            out = np.zeros(size, dtype=np.int64)
            for lo, hi in ((first, min(first + lines, n)), (0, max(first + lines - n, 0))):
                if hi > lo:
                    out += np.bincount(self.real[lo * e:hi * e], minlength=size)
            return out

        old = self.window_start
        if old == start:
            return self.counts
        shift = None if old is None else (start - old) % n
        if shift is not None and shift < a:
            self.counts = self.counts - count(old, shift) + count((old + a) % n, shift)
        else:
            self.counts = count(start, a)
        self.window_start = start
        return self.counts

    def hits(self, addresses: np.ndarray, start: int) -> np.ndarray:
        """Whether each address lies in a line of the window ``[start, start + A)`` (mod N)."""
        n, a = self.n_lines, self.active
        if self.line_of is not None:
            return (self.line_of[addresses] - start) % n < a
        return self._window_counts(start)[addresses] > 0

    def lines(self, address: int) -> np.ndarray:
        if self.line_of is not None:
            return self.line_of[address:address + 1]
        base = address * self.n_lines
        lo, hi = np.searchsorted(self.keys, [base, base + self.n_lines])
        return self.keys[lo:hi] - base

    def next_state(self, address: int, k: int) -> int:
        """The fewest prefetches ``k' > k`` after which ``address`` is in the window."""
        lines = self.lines(address)
        if len(lines) == 0:
            raise AssertionError(f"address {address} is not in the prefetch sequence")
        n, a, p = self.n_lines, self.active, self.step
        if (((lines - (k + 1) * p) % n) < a).any():  # the usual case: the next prefetch
            return k + 1
        period = n // math.gcd(n, p)
        candidates = np.arange(k + 1, k + 1 + period, dtype=np.int64)
        starts = (candidates * p) % n
        inside = ((lines[None, :] - starts[:, None]) % n < a).any(axis=1)
        if not inside.any():
            raise AssertionError(f"address {address} is never in the window")
        return int(candidates[int(np.argmax(inside))])


def _lines(sequence: np.ndarray, size_words: int) -> _Lines:
    real = sequence[sequence >= 0]
    per_line = math.ceil(size_words / 100)  # elems_per_set
    n_lines = len(real) // per_line + 1  # the last (maybe empty) set counts
    active_words = math.ceil(size_words * 0.5)
    active = min(math.ceil(active_words / per_line), n_lines)
    step = min(math.ceil((size_words - active_words) / per_line), n_lines - active)
    line = np.arange(len(real), dtype=np.int64) // per_line
    size = int(real.max()) + 1 if len(real) else 1
    if len(real) == 0 or np.bincount(real, minlength=size).max() <= 1:  # each address once
        line_of = np.full(size, -1, dtype=np.int64)
        line_of[real] = line
        return _Lines(n_lines, active, step, line_of, None)
    order = np.argsort(real, kind="stable")  # by address, then position (so line)
    keys = real[order] * n_lines + line[order]
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return _Lines(n_lines, active, step, None, keys, real, per_line, size)


@dataclass(frozen=True, slots=True)
class ReadPrefetch:
    """One read scratchpad's prefetches: the demand rows that trigger them and their timing."""

    rows: np.ndarray  # demand rows with prefetches, ascending
    first: np.ndarray  # prefetches done before each of those rows
    last: np.ndarray  # prefetches done after it
    cycles_per_prefetch: int  # n
    first_fill_requests: int  # fetch requests (lines of bw words) of the first fill
    bw: int
    compat: bool

    @property
    def prefetches(self) -> int:
        return int(self.last[-1]) if len(self.last) else 0

    @property
    def dram_reads(self) -> int:
        return (self.first_fill_requests + self.prefetches * self.cycles_per_prefetch) * self.bw

    @property
    def dram_cycles(self) -> tuple[int, int]:
        """First and last DRAM response cycles (the trace matrix's first column)."""
        return -self.first_fill_requests, self.completion(self.prefetches)

    def completion(self, k: int) -> int:
        """Cycle in which prefetch ``k`` has arrived (``k = 0``: the first fill)."""
        return -1 + k * (self.cycles_per_prefetch + PORT_LATENCY)

    def served_offset(self, row: int, cycle: int) -> int:
        """Cycles after its issue cycle ``cycle`` at which demand row ``row`` is served."""
        i = int(np.searchsorted(self.rows, row))
        offset = HIT_LATENCY
        if i == len(self.rows) or self.rows[i] != row:
            return offset
        for k in range(int(self.first[i]) + 1, int(self.last[i]) + 1):
            arrival = self.completion(k)
            if self.compat:
                potential = arrival - (cycle + offset)
                offset += potential
                if potential > 0:
                    offset += potential
            else:
                offset = max(offset, arrival - cycle + HIT_LATENCY)
        return offset


def prefetch_events(layer: Layer, cfg: ArrayConfig, operand: str, size_words: int, bw: int,
                    demand: Iterable[tuple[np.ndarray, Callable[[int], int]]]) -> ReadPrefetch:
    """Walk the demand stream (chunks of addresses in demand order, -1 for empty requests, with
    a function from chunk index to demand row) through the USER-mode read scratchpad."""
    sequence = prefetch_sequence(layer, cfg, operand)
    lines = _lines(sequence, size_words)
    active_words = math.ceil(size_words * 0.5)
    fetch_rows = math.ceil(len(sequence) / bw)
    first_fill = min(math.ceil(active_words / bw), fetch_rows)
    per_prefetch = math.ceil((size_words - active_words) / bw)
    event_rows: list[int] = []
    before: list[int] = []
    after: list[int] = []
    k = 0
    first_block = _FIRST_BLOCK
    if lines.active < lines.n_lines:  # otherwise every line stays in the window
        for addresses, row_of in demand:
            kept = np.flatnonzero(addresses >= 0)
            real = addresses[kept]
            pos, block = 0, first_block
            while pos < len(real):
                start = (k * lines.step) % lines.n_lines
                misses = np.flatnonzero(~lines.hits(real[pos:pos + block], start))
                if len(misses) == 0:
                    pos += block
                    block *= 2
                    continue
                j = pos + int(misses[0])
                k_next = lines.next_state(int(real[j]), k)
                row = row_of(int(kept[j]))
                if event_rows and event_rows[-1] == row:
                    after[-1] = k_next
                else:
                    event_rows.append(row)
                    before.append(k)
                    after.append(k_next)
                k = k_next
                first_block = max(_FIRST_BLOCK, 2 * (j - pos))  # about the last run's length
                pos, block = j + 1, first_block
    return ReadPrefetch(np.array(event_rows, dtype=np.int64), np.array(before, dtype=np.int64),
                        np.array(after, dtype=np.int64), per_prefetch, first_fill, bw,
                        cfg.compat)
