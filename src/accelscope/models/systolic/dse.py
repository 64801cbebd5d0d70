"""Design-space exploration: latency, energy and area over array shapes, SRAMs, dataflows,
clocks and technology nodes, and the Pareto front of the three.

Two evaluators:

Latency is the array's cycles (SCALE-Sim's "Total Cycles", stalls included) over the clock.

* ``method="estimate"`` (default): closed forms for everything SCALE-Sim's model computes
  exactly in closed form (folds, cycles without stalls, SRAM accesses, DRAM writes) and a
  reuse model for DRAM reads: an operand is fetched once if its distinct words fit in the
  read scratchpad's active window (half the buffer), otherwise once per sweep over it (OS and
  WS re-sweep the input for every column fold; OS re-reads each filter block for every row
  fold unless the block fits; IS re-sweeps the filters for every column fold). Stalls are taken
  as zero (CALC mode rarely stalls). It is vectorised over all design points at once; the
  benchmark ``benchmarks/systolic_dse.py`` measures its error against the exact engine.
* ``method="exact"``: the cycle-exact engine for every distinct (array, SRAM, dataflow)
  combination (clock and node only rescale time and energy), for small spaces; it counts
  with ``compat=False`` (what the hardware does, without SCALE-Sim's counting quirks).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from accelscope.errors import ConfigError
from accelscope.models.systolic.config import DATAFLOWS, MIN_SRAM_WORDS, ArrayConfig
from accelscope.models.systolic.energy import EnergyModel, scale_factor
from accelscope.models.systolic.engine import _unique_ifmap_words
from accelscope.models.systolic.layers import Layer

KIB = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class DesignSpace:
    """The axes of a sweep; the space is their Cartesian product."""

    rows: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    cols: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    ifmap_sram_kib: tuple[int, ...] = (32, 64, 256, 1024, 4096)
    filter_sram_kib: tuple[int, ...] = (32, 64, 256, 1024, 4096)
    ofmap_sram_kib: tuple[int, ...] = (32, 128, 512)
    dataflows: tuple[str, ...] = DATAFLOWS
    clocks_hz: tuple[float, ...] = (0.5e9, 1e9, 1.5e9)
    nodes_nm: tuple[float, ...] = (45, 32, 28, 16, 7)
    precision: str = "int8"

    def __post_init__(self) -> None:
        for name in ("rows", "cols", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib",
                     "dataflows", "clocks_hz", "nodes_nm"):
            if not getattr(self, name):
                raise ConfigError(f"design space axis {name!r} is empty; give at least one value.")
        for df in self.dataflows:
            if df not in DATAFLOWS:
                raise ConfigError(f"dataflow {df!r} is not one of {', '.join(DATAFLOWS)}.")
        word_bytes = EnergyModel(precision=self.precision).word_bits // 8
        for name in ("ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib"):
            if min(getattr(self, name)) * KIB // word_bytes < MIN_SRAM_WORDS:
                raise ConfigError(f"{name}: every size must hold at least {MIN_SRAM_WORDS} words.")
        scale_factor(np.array(self.nodes_nm))  # validates the nodes

    @property
    def size(self) -> int:
        return math.prod(len(getattr(self, n)) for n in (
            "rows", "cols", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib", "dataflows",
            "clocks_hz", "nodes_nm"))


COLUMNS = ("rows", "cols", "dataflow", "ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib",
           "clock_hz", "node_nm", "cycles", "latency_s", "energy_j", "area_m2",
           "dram_words", "utilisation")


@dataclass(frozen=True, slots=True, kw_only=True)
class DSEResult:
    """All design points (columns as numpy arrays) and the indices of the Pareto front."""

    columns: dict[str, np.ndarray]
    pareto: np.ndarray
    method: str
    space: DesignSpace
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.columns["latency_s"])

    def rows_of(self, idx: Sequence[int] | np.ndarray) -> list[dict]:
        out = []
        for i in np.asarray(idx):
            row = {}
            for k in COLUMNS:
                v = self.columns[k][i]
                row[k] = v.item() if hasattr(v, "item") else v
            out.append(row)
        return out

    def front(self) -> list[dict]:
        """Pareto-optimal points, fastest first."""
        idx = self.pareto[np.argsort(self.columns["latency_s"][self.pareto], kind="stable")]
        return self.rows_of(idx)

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(COLUMNS + ("pareto",))
        mask = np.zeros(len(self), dtype=bool)
        mask[self.pareto] = True
        cols = [self.columns[k] for k in COLUMNS]
        for i in range(len(self)):
            w.writerow([c[i] for c in cols] + [bool(mask[i])])
        return buf.getvalue()

    def to_json(self) -> str:
        return json.dumps({
            "method": self.method, "points": len(self), "notes": list(self.notes),
            "columns": {k: self.columns[k].tolist() for k in COLUMNS},
            "pareto": self.pareto.tolist(),
        })


def pareto_front(*objectives: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats in every objective (all minimised)."""
    pts = np.stack(objectives, axis=1).astype(float)
    # Remove exact duplicates first (keep one representative), then sweep by the first objective.
    uniq, first_idx = np.unique(pts, axis=0, return_index=True)
    order = np.lexsort(tuple(uniq[:, j] for j in range(uniq.shape[1] - 1, -1, -1)))
    front_pts = np.empty((0, pts.shape[1]))
    keep = []
    for i in order:
        p = uniq[i]
        if front_pts.shape[0] and np.any(np.all(front_pts[:, 1:] <= p[1:], axis=1)):
            continue  # an earlier point (no slower) is no worse in the others
        keep.append(first_idx[i])
        front_pts = np.vstack([front_pts, p])
    return np.array(sorted(keep), dtype=np.int64)


def _layer_table(layers: Sequence[Layer]) -> dict[str, np.ndarray]:
    return {
        "m": np.array([lay.m for lay in layers], dtype=np.int64),
        "n": np.array([lay.n for lay in layers], dtype=np.int64),
        "k": np.array([lay.k for lay in layers], dtype=np.int64),
        "u_i": np.array([_unique_ifmap_words(lay) for lay in layers], dtype=np.int64),
        "count": np.array([lay.count for lay in layers], dtype=np.int64),
    }


def _estimate_counts(t: dict[str, np.ndarray], rows: int, cols: int, df: str,
                     win_i: np.ndarray, win_f: np.ndarray, ofmap_words: np.ndarray):
    """Per (SRAM combination, layer): cycles, SRAM words, DRAM words (2-D arrays)."""
    m, n, k, u_i = t["m"], t["n"], t["k"], t["u_i"]
    u_f = k * n
    r, c = rows, cols
    if df == "os":
        sr, sc, fold_rows = m, n, k + r + c - 2
    elif df == "ws":
        sr, sc, fold_rows = k, n, m + 2 * r + c - 2
    else:
        sr, sc, fold_rows = k, m, n + 2 * r + c - 2
    row_fold, col_fold = -(-sr // r), -(-sc // c)
    compute = row_fold * col_fold * fold_rows - 1
    if df == "os":
        sram = col_fold * m * k + row_fold * k * n + m * n
        writes = m * n
    elif df == "ws":
        sram = col_fold * m * k + k * n + row_fold * m * n
        writes = row_fold * m * n
    else:
        sram = m * k + col_fold * k * n + row_fold * m * n
        writes = row_fold * m * n
    wi, wf = win_i[:, None], win_f[:, None]
    fit_i, fit_f = u_i[None, :] < wi, u_f[None, :] < wf
    if df == "os":
        reads_i = np.where(fit_i, u_i, col_fold * u_i)
        block_fits = (k * np.minimum(c, n))[None, :] < wf
        reads_f = np.where(fit_f | block_fits, u_f, row_fold * u_f)
    elif df == "ws":
        reads_i = np.where(fit_i, u_i, col_fold * u_i)
        reads_f = np.broadcast_to(u_f, reads_i.shape)
    else:
        reads_i = np.broadcast_to(u_i, fit_f.shape)
        reads_f = np.where(fit_f, u_f, col_fold * u_f)
    lead = np.ceil(np.maximum(np.minimum(u_i, wi), np.minimum(u_f, wf)) / 10)
    half = ofmap_words[:, None] - np.ceil(ofmap_words[:, None] * 0.5)
    tail = np.ceil(((writes - 1) % half + 1) / c)
    total = compute + lead + tail
    # reads and writes of each scratchpad (array side + fills/drains)
    sram_i = np.broadcast_to(np.where(df == "is", m * k, col_fold * m * k), reads_i.shape) + reads_i
    sram_f = (np.where(df == "os", row_fold * k * n, np.where(df == "ws", k * n, col_fold * k * n))
              + reads_f)
    sram_o = np.broadcast_to(2 * writes, reads_i.shape)
    return total, compute, sram_i, sram_f, sram_o, reads_i + reads_f + writes, sram


def explore(layers: Sequence[Layer], space: DesignSpace | None = None,
            method: str = "estimate", progress: Callable[[int, int, str], None] | None = None) -> DSEResult:
    """Evaluate every point of ``space`` for a workload; see the module docstring.
    ``progress(done, total, what)`` after each array shape and dataflow (a batch of points:
    every SRAM size, clock and node of it)."""
    space = space or DesignSpace()
    if not layers:
        raise ConfigError("the workload has no matmul or convolution layers to explore.")
    if method not in ("estimate", "exact"):
        raise ConfigError(f"method must be 'estimate' or 'exact', got {method!r}.")
    model45 = EnergyModel(node_nm=45, precision=space.precision)
    word_bytes = model45.word_bits // 8
    t = _layer_table(layers)
    count = t["count"].astype(float)
    macs = float(np.sum(t["m"] * t["n"] * t["k"] * t["count"]))

    sram_combos = np.array(list(itertools.product(space.ifmap_sram_kib, space.filter_sram_kib,
                                                  space.ofmap_sram_kib)), dtype=np.int64)
    bytes_ = sram_combos * KIB
    words = bytes_ // word_bytes
    win_i = 50 * (words[:, 0] // 100)
    win_f = 50 * (words[:, 1] // 100)
    e_word = np.stack([model45.sram_energy_per_word_j(bytes_[:, j]) for j in range(3)], axis=1)

    arrays = list(itertools.product(space.rows, space.cols, space.dataflows))
    n_a, n_s = len(arrays), len(sram_combos)
    cycles = np.empty((n_a, n_s))
    sram_e45 = np.empty((n_a, n_s))
    dram_words = np.empty((n_a, n_s))
    for a, (r, c, df) in enumerate(arrays):
        if method == "estimate":
            _, compute, s_i, s_f, s_o, dram, _ = _estimate_counts(t, r, c, df, win_i, win_f,
                                                                  words[:, 2])
            cycles[a] = np.broadcast_to((compute * count).sum(), (n_s,))
            sram_e45[a] = ((s_i * count).sum(axis=1) * e_word[:, 0]
                           + (s_f * count).sum(axis=1) * e_word[:, 1]
                           + (s_o * count).sum(axis=1) * e_word[:, 2])
            dram_words[a] = (dram * count).sum(axis=1)
        else:
            from accelscope.models.systolic.network import simulate

            for s, (bi, bf, bo) in enumerate(bytes_):
                cfg = ArrayConfig(rows=r, cols=c, dataflow=df, ifmap_sram_bytes=int(bi),
                                  filter_sram_bytes=int(bf), ofmap_sram_bytes=int(bo),
                                  word_bytes=word_bytes, compat=False)
                res = simulate(layers, cfg, model45)
                cycles[a, s] = res.compute_cycles
                sram_e45[a, s] = res.energy.sram_j
                dram_words[a, s] = res.dram_reads.total + res.dram_writes.total
        if progress:
            progress(a + 1, n_a, f"{r}x{c} {df}")

    # Broadcast to (array, sram, clock, node)
    clocks = np.array(space.clocks_hz, dtype=float)
    nodes = np.array(space.nodes_nm, dtype=float)
    e_scale = scale_factor(nodes, "energy")
    a_scale = scale_factor(nodes, "area")
    shape = (n_a, n_s, len(clocks), len(nodes))
    logic_e45 = macs * (model45.mac_energy_j + model45.register_energy_per_mac_j)
    energy = ((logic_e45 + sram_e45)[:, :, None, None] * e_scale[None, None, None, :]
              + (dram_words * model45.dram_energy_per_word_j)[:, :, None, None])
    energy = np.broadcast_to(energy, shape)
    pes = np.array([r * c for r, c, _ in arrays], dtype=float)
    area45 = (pes[:, None] * model45.pe_area_m2
              + model45.sram_area_m2(bytes_.sum(axis=1))[None, :])
    area = np.broadcast_to(area45[:, :, None, None] * a_scale[None, None, None, :], shape)
    latency = np.broadcast_to(cycles[:, :, None, None] / clocks[None, None, :, None], shape)
    cyc = np.broadcast_to(cycles[:, :, None, None], shape)

    ai, si, ci, ni = (x.ravel() for x in np.meshgrid(np.arange(n_a), np.arange(n_s),
                                                     np.arange(len(clocks)),
                                                     np.arange(len(nodes)), indexing="ij"))
    arr = np.array([(r, c) for r, c, _ in arrays], dtype=np.int64)
    dfs = np.array([df for _, _, df in arrays])
    cols = {
        "rows": arr[ai, 0], "cols": arr[ai, 1], "dataflow": dfs[ai],
        "ifmap_sram_kib": sram_combos[si, 0], "filter_sram_kib": sram_combos[si, 1],
        "ofmap_sram_kib": sram_combos[si, 2], "clock_hz": clocks[ci], "node_nm": nodes[ni],
        "cycles": cyc.ravel().astype(np.int64), "latency_s": latency.ravel().copy(),
        "energy_j": energy.ravel().copy(), "area_m2": area.ravel().copy(),
        "dram_words": np.broadcast_to(dram_words[:, :, None, None], shape).ravel().astype(np.int64),
        "utilisation": macs / (cyc.ravel() * pes[ai]),
    }
    front = pareto_front(cols["latency_s"], cols["energy_j"], cols["area_m2"])
    notes = ("estimate: stalls taken as zero; DRAM reads from the reuse model in dse.py",) \
        if method == "estimate" else ()
    return DSEResult(columns=cols, pareto=front, method=method, space=space, notes=notes)
