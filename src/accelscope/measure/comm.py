"""Collectives measured: all_reduce, all_gather, reduce_scatter, all_to_all and broadcast over
torch.distributed, timed on every rank, with nccl-tests' bandwidth definitions.

:func:`bench_comm` launches ``nproc_per_node`` processes through torch.distributed's elastic
launcher (``python -m torch.distributed.run``, what ``torchrun`` runs; ``--standalone`` on one
node, a c10d rendezvous at ``rdzv_endpoint`` across nodes), each running
:func:`worker` (``python -m accelscope.measure.comm``): gloo on CPUs, NCCL on CUDA. Every rank
sweeps the message sizes from 8 B up to ``max_bytes`` (doubling), each op and size after
warm-up iterations, in blocks of iterations timed between barriers; a point's time is the
slowest rank's median block time per iteration (a collective ends when its last rank does).

Bandwidths follow nccl-tests (``doc/PERFORMANCE.md``): ``size`` is the op's buffer as
nccl-tests counts it (all_reduce, broadcast: the buffer; all_gather: the gathered output;
reduce_scatter: the input before scattering; all_to_all: one rank's send buffer),
``algbw = size / time`` and ``busbw = algbw x factor``, the factor making busbw comparable to
the link's bandwidth: ``2(n-1)/n`` for all_reduce, ``(n-1)/n`` for all_gather,
reduce_scatter and all_to_all, 1 for broadcast.

Per op, a latency-bandwidth (alpha-beta) model ``time = alpha + size x factor / beta`` is fitted
to the points by least squares on relative error (:func:`fit_alpha_beta`): alpha the
per-collective latency, beta the bus bandwidth the link sustains.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from accelscope.errors import ConfigError, MeasurementError
from accelscope.measure.launch import check_world, launch

OPS = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast")
#: The default largest message: 64 MiB on CPUs (gloo), 1 GiB on GPUs (NCCL).
DEFAULT_MAX_BYTES = {"cpu": 64 * 2**20, "cuda": 2**30}
MIN_BYTES = 8
WARMUP_ITERS = 3
BLOCKS = 5
BLOCK_TARGET_S = 0.01  # iterations per block chosen so a block lasts about this long


def bus_factor(op: str, n: int) -> float:
    """nccl-tests' busbw / algbw for ``op`` on ``n`` ranks."""
    if op == "all_reduce":
        return 2 * (n - 1) / n
    if op in ("all_gather", "reduce_scatter", "all_to_all"):
        return (n - 1) / n
    if op == "broadcast":
        return 1.0
    raise ConfigError(f"unknown collective {op!r}; expected one of {', '.join(OPS)}")


def sizes(max_bytes: int, min_bytes: int = MIN_BYTES) -> list[int]:
    """Message sizes from ``min_bytes`` to ``max_bytes``, doubling (as nccl-tests' ``-f 2``)."""
    out, s = [], min_bytes
    while s <= max_bytes:
        out.append(s)
        s *= 2
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectivePoint:
    op: str
    bytes: int  # nccl-tests' size
    time_s: float | None  # the slowest rank's median per iteration
    algbw_bytes_per_s: float | None
    busbw_bytes_per_s: float | None
    per_rank_s: tuple[float, ...] = ()
    iterations: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["per_rank_s"] = list(self.per_rank_s)
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class AlphaBeta:
    """``time = alpha_s + size x factor / beta_bytes_per_s`` for one op on one world."""

    op: str
    alpha_s: float
    beta_bytes_per_s: float
    points: int
    median_abs_error: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommResult:
    backend: str
    world_size: int
    nnodes: int
    nproc_per_node: int
    device: str
    points: tuple[CollectivePoint, ...]
    fits: tuple[AlphaBeta, ...] = ()
    failed_ranks: tuple[str, ...] = ()
    wall_s: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "world_size": self.world_size, "nnodes": self.nnodes,
                "nproc_per_node": self.nproc_per_node, "device": self.device,
                "points": [p.to_dict() for p in self.points], "fits": [f.to_dict() for f in self.fits],
                "failed_ranks": list(self.failed_ranks), "wall_s": self.wall_s, "notes": list(self.notes)}


def fit_alpha_beta(op: str, points: list[CollectivePoint], n: int) -> AlphaBeta | None:
    """Least squares of ``t = alpha + x / beta`` (x: size x bus factor) on relative error."""
    pts = [p for p in points if p.op == op and p.time_s]
    if len(pts) < 2:
        return None
    x = np.array([p.bytes * bus_factor(op, n) for p in pts], dtype=float)
    t = np.array([p.time_s for p in pts], dtype=float)
    a = np.stack([np.ones_like(x), x], axis=1) / t[:, None]
    (alpha, inv_beta), *_ = np.linalg.lstsq(a, np.ones_like(t), rcond=None)
    alpha = max(float(alpha), 0.0)
    if inv_beta <= 0:  # no bandwidth term visible at these sizes
        return None
    pred = alpha + x * inv_beta
    return AlphaBeta(op=op, alpha_s=alpha, beta_bytes_per_s=1.0 / float(inv_beta), points=len(pts),
                     median_abs_error=float(np.median(np.abs(pred / t - 1))))


# -- one rank --------------------------------------------------------------------------------

def _run_op(dist, torch, op: str, nbytes: int, n: int, rank: int, device):
    """A callable running ``op`` once on buffers of nccl-tests' ``size`` = ``nbytes``."""
    elems = max(nbytes // 4, 1)
    f32 = torch.float32
    if op == "all_reduce":
        buf = torch.ones(elems, dtype=f32, device=device)
        return lambda: dist.all_reduce(buf)
    if op == "broadcast":
        buf = torch.ones(elems, dtype=f32, device=device)
        return lambda: dist.broadcast(buf, src=0)
    per = max(elems // n, 1)  # the gathered output / scattered input is n x per-rank chunks
    if op == "all_gather":
        out, inp = torch.empty(per * n, dtype=f32, device=device), torch.ones(per, dtype=f32, device=device)
        return lambda: dist.all_gather_into_tensor(out, inp)
    if op == "reduce_scatter":
        out, inp = torch.empty(per, dtype=f32, device=device), torch.ones(per * n, dtype=f32, device=device)
        return lambda: dist.reduce_scatter_tensor(out, inp)
    if op == "all_to_all":
        out, inp = torch.empty(per * n, dtype=f32, device=device), torch.ones(per * n, dtype=f32, device=device)
        return lambda: dist.all_to_all_single(out, inp)
    raise ConfigError(f"unknown collective {op!r}")


def worker(ops: list[str], max_bytes: int, out_path: str | None) -> None:
    """One rank of the sweep (run under the launcher; rank 0 writes every rank's times)."""
    import torch
    import torch.distributed as dist

    cuda = torch.cuda.is_available() and os.environ.get("ACCELSCOPE_COMM_DEVICE", "cuda") == "cuda"
    backend = "nccl" if cuda else "gloo"
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group(backend)
    rank, n = dist.get_rank(), dist.get_world_size()
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    results = []
    for op in ops:
        for nbytes in sizes(max_bytes):
            err = None
            try:
                fn = _run_op(dist, torch, op, nbytes, n, rank, device)
                for _ in range(WARMUP_ITERS):
                    fn()
                sync()
                dist.barrier()
                t0 = time.perf_counter()
                fn()
                sync()
                one = time.perf_counter() - t0
                iters = max(1, min(1000, int(BLOCK_TARGET_S / max(one, 1e-7))))
                # every rank must run the same number of iterations: take rank 0's
                it = torch.tensor([iters], dtype=torch.int64, device=device)
                dist.broadcast(it, src=0)
                iters = int(it.item())
                blocks = []
                for _ in range(BLOCKS):
                    dist.barrier()
                    t0 = time.perf_counter()
                    for _ in range(iters):
                        fn()
                    sync()
                    blocks.append((time.perf_counter() - t0) / iters)
                mine = float(np.median(blocks))
            except (RuntimeError, ValueError) as exc:  # an op the backend does not support
                err, mine, iters = str(exc).splitlines()[0][:200], float("nan"), 0
            gathered = [None] * n
            dist.all_gather_object(gathered, (mine, err))
            results.append({"op": op, "bytes": nbytes, "per_rank_s": [g[0] for g in gathered],
                            "iterations": iters, "error": next((g[1] for g in gathered if g[1]), None)})
            if results[-1]["error"]:
                break  # the op fails at every size: on to the next op
    if rank == 0 and out_path:
        Path(out_path).write_text(json.dumps({"backend": backend, "world_size": n, "results": results}))
    dist.destroy_process_group()


# -- the launcher ------------------------------------------------------------------------------

def bench_comm(*, nproc_per_node: int = 2, nnodes: int = 1, node_rank: int = 0, rdzv_endpoint: str | None = None,
               ops: list[str] | tuple[str, ...] = OPS, max_bytes: int | None = None, device: str = "cpu",
               timeout_s: float = 600.0) -> CommResult:
    """Launch the sweep on ``nnodes x nproc_per_node`` ranks and collect it (see the module)."""
    if not isinstance(nproc_per_node, int) or nproc_per_node < 2 and nnodes == 1:
        raise ConfigError(f"--nproc-per-node must be an integer >= 2 on one node (collectives need two ranks), "
                          f"got {nproc_per_node!r}")
    check_world(nnodes, node_rank, rdzv_endpoint)
    if device not in DEFAULT_MAX_BYTES:
        raise ConfigError(f"--device must be cpu (gloo) or cuda (NCCL), got {device!r}")
    for op in ops:
        bus_factor(op, 2)  # unknown names fail here
    max_bytes = max_bytes or DEFAULT_MAX_BYTES[device]
    if max_bytes < MIN_BYTES:
        raise ConfigError(f"--max-bytes must be at least {MIN_BYTES}, got {max_bytes}")
    start = time.perf_counter()
    data, why = launch("accelscope.measure.comm", ["--ops", ",".join(ops), "--max-bytes", str(max_bytes)],
                       nproc_per_node=nproc_per_node, nnodes=nnodes, node_rank=node_rank,
                       rdzv_endpoint=rdzv_endpoint, timeout_s=timeout_s,
                       env={"ACCELSCOPE_COMM_DEVICE": device,
                            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
    wall = time.perf_counter() - start
    if data is None:
        if node_rank != 0 and why.startswith("the launcher exited 0"):  # only node 0's rank 0 writes results
            return CommResult(backend="", world_size=nnodes * nproc_per_node, nnodes=nnodes,
                              nproc_per_node=nproc_per_node, device=device, points=(), wall_s=wall,
                              notes=("this node's ranks ran; node 0 reports the results",))
        raise MeasurementError(f"bench-comm: {why}")
    n = int(data["world_size"])
    points = []
    for r in data["results"]:
        per = tuple(float(x) for x in r["per_rank_s"])
        t = max(per) if r.get("error") is None and all(math.isfinite(x) for x in per) else None
        alg = r["bytes"] / t if t else None
        points.append(CollectivePoint(op=r["op"], bytes=int(r["bytes"]), time_s=t, algbw_bytes_per_s=alg,
                                      busbw_bytes_per_s=alg * bus_factor(r["op"], n) if alg else None,
                                      per_rank_s=per, iterations=int(r["iterations"]), error=r.get("error")))
    fits = tuple(f for op in ops if (f := fit_alpha_beta(op, points, n)) is not None)
    notes = tuple(f"{p.op}: {p.error}" for p in points if p.error)
    return CommResult(backend=data["backend"], world_size=n, nnodes=nnodes, nproc_per_node=nproc_per_node,
                      device=device, points=tuple(points), fits=fits, wall_s=wall, notes=notes)


def _main(argv: list[str]) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m accelscope.measure.comm",
                                 description="one rank of accelscope bench-comm (run under torchrun)")
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES["cpu"])
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    worker([s for s in a.ops.split(",") if s], a.max_bytes, a.out)


if __name__ == "__main__":
    _main(sys.argv[1:])
