"""Training steps measured on several processes: DDP or FSDP2 through torch.distributed's launcher.

:func:`bench_distributed` launches ``nproc_per_node`` processes per node with ``python -m
torch.distributed.run`` (``--standalone`` on one node, a c10d rendezvous across nodes), each
running :func:`worker` (``python -m accelscope.measure.distributed``): gloo on CPUs, NCCL on
CUDA (one GPU per rank). Every rank builds the workload (the same per-process batch: weak
scaling), wraps the model in ``DistributedDataParallel`` (gradient buckets, communication
overlapped with the backward pass) or FSDP2's ``fully_shard``, and runs the training step of
``bench``: warm-up steps, then timed blocks of steps. The ranks run in lockstep (every step
all-reduces), so rank 0 chooses the block size and the number of blocks, and every rank times
the same blocks; a block's time is its slowest rank's (the step ends when the last rank's
gradients are in), and the step time is the median block.

Then one process without DDP runs the same step on the same threads per process, and the
weak-scaling efficiency is ``E(N) = t(1) / t(N)`` (throughput per process at N over that of
one process alone). A rank that fails or times out is reported with the launcher's output;
results of ranks that finished are kept.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accelscope.errors import ConfigError
from accelscope.measure.launch import check_world, launch
from accelscope.workload.spec import WorkloadSpec

STRATEGIES = ("ddp", "fsdp", "none")
WARMUP_STEPS = 3
BLOCK_TARGET_S = 0.05
MIN_BLOCKS, MAX_BLOCKS = 5, 30


@dataclass(frozen=True, slots=True, kw_only=True)
class DistributedResult:
    """A distributed measurement: the step as the slowest rank takes it, and E(N)."""

    spec: WorkloadSpec
    strategy: str
    backend: str
    world_size: int
    nnodes: int
    nproc_per_node: int
    device: str
    threads_per_rank: int
    step_time_s: float | None  # median over blocks of the slowest rank's block time per step
    block_size: int
    blocks: int
    per_rank_median_s: tuple[float, ...]
    single_process_step_s: float | None  # one process, no DDP, same threads
    wall_s: float
    error: str | None = None

    @property
    def throughput_samples_per_s(self) -> float | None:
        b = self.spec.batch_size or 1
        return self.world_size * b / self.step_time_s if self.step_time_s else None

    @property
    def scaling_efficiency(self) -> float | None:
        """E(N) = t(1) / t(N) at the same batch per process (weak scaling)."""
        if not (self.step_time_s and self.single_process_step_s):
            return None
        return self.single_process_step_s / self.step_time_s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["spec"] = self.spec.to_dict()
        d["per_rank_median_s"] = list(self.per_rank_median_s)
        d["throughput_samples_per_s"] = self.throughput_samples_per_s
        d["scaling_efficiency"] = self.scaling_efficiency
        d["world"] = {"nnodes": self.nnodes, "nproc_per_node": self.nproc_per_node, "world_size": self.world_size,
                      "backend": self.backend, "strategy": self.strategy}
        return d


# -- one rank --------------------------------------------------------------------------------

def worker(spec_json: str, strategy: str, threads: int, max_time_s: float, out_path: str | None) -> None:
    import torch
    import torch.distributed as dist

    from accelscope.measure.bench import build_step
    from accelscope.measure.devices import get_device
    from accelscope.workload.zoo import load_workload

    torch.set_num_threads(threads)
    spec = WorkloadSpec.from_dict(json.loads(spec_json))
    cuda = os.environ.get("ACCELSCOPE_DIST_DEVICE", "cpu") == "cuda"
    distributed = strategy != "none"
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = get_device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(local)
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank() if distributed else 0
    torch.manual_seed(0)

    def wrap(model):
        if strategy == "ddp":
            from torch.nn.parallel import DistributedDataParallel

            return DistributedDataParallel(model, device_ids=[local] if cuda else None)
        if strategy == "fsdp":
            from torch.distributed.fsdp import fully_shard

            for m in list(model.modules())[1:]:  # each child with parameters, then the root
                if any(p.requires_grad for p in m.parameters(recurse=False)) and len(list(m.children())) == 0:
                    fully_shard(m)
            return fully_shard(model)
        return model

    prepared = build_step(load_workload(spec), device, wrap=wrap)
    step = prepared.step
    for _ in range(WARMUP_STEPS):
        step()
    one = device.time_block(step, 1)
    block = max(1, int(BLOCK_TARGET_S / max(one, 1e-6)))
    nblocks = int(min(MAX_BLOCKS, max(MIN_BLOCKS, max_time_s / max(one * block, 1e-6))))
    if distributed:  # every rank times the same plan: rank 0's
        plan = torch.tensor([block, nblocks], dtype=torch.int64, device=device.torch_device)
        dist.broadcast(plan, src=0)
        block, nblocks = (int(x) for x in plan.tolist())
    mine = []
    for _ in range(nblocks):
        if distributed:
            dist.barrier()
        mine.append(device.time_block(step, block) / block)
    if distributed:
        every: list = [None] * dist.get_world_size()
        dist.all_gather_object(every, mine)
        dist.destroy_process_group()
    else:
        every = [mine]
    if rank == 0 and out_path:
        Path(out_path).write_text(json.dumps({"backend": ("nccl" if cuda else "gloo") if distributed else "none",
                                              "world_size": len(every), "block": block, "per_rank": every}))


# -- the launcher ------------------------------------------------------------------------------

def _launch(spec: WorkloadSpec, *, strategy: str, nproc_per_node: int, nnodes: int, node_rank: int,
            rdzv_endpoint: str | None, device: str, threads: int, max_time_s: float, timeout_s: float):
    args = ["--spec", json.dumps(spec.to_dict()), "--strategy", strategy, "--threads", str(threads),
            "--max-time", str(max_time_s)]
    return launch("accelscope.measure.distributed", args, nproc_per_node=nproc_per_node, nnodes=nnodes,
                  node_rank=node_rank, rdzv_endpoint=rdzv_endpoint, timeout_s=timeout_s,
                  env={"ACCELSCOPE_DIST_DEVICE": device, "OMP_NUM_THREADS": str(threads)})


def bench_distributed(spec: WorkloadSpec, *, nproc_per_node: int = 2, nnodes: int = 1, node_rank: int = 0,
                      rdzv_endpoint: str | None = None, strategy: str = "ddp", device: str = "cpu",
                      max_time_s: float = 5.0, timeout_s: float = 900.0) -> DistributedResult:
    """Measure ``spec``'s training step on ``nnodes x nproc_per_node`` ranks (see the module)."""
    if strategy not in ("ddp", "fsdp"):
        raise ConfigError(f"--strategy must be ddp or fsdp, got {strategy!r}")
    if spec.task != "train":
        raise ConfigError("a distributed bench measures training steps: give --task train")
    if not isinstance(nproc_per_node, int) or nproc_per_node < 1:
        raise ConfigError(f"--nproc-per-node must be a positive integer, got {nproc_per_node!r}")
    check_world(nnodes, node_rank, rdzv_endpoint)
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"a distributed bench runs on cpu (gloo) or cuda (NCCL), got {device!r}")
    from accelscope.measure.environment import physical_cores

    threads = max(1, physical_cores() // nproc_per_node) if device == "cpu" else 1
    start = time.perf_counter()
    kw = dict(nnodes=nnodes, node_rank=node_rank, rdzv_endpoint=rdzv_endpoint, device=device, threads=threads,
              max_time_s=max_time_s, timeout_s=timeout_s)
    data, err = _launch(spec, strategy=strategy, nproc_per_node=nproc_per_node, **kw)
    base = dict(spec=spec, strategy=strategy, nnodes=nnodes, nproc_per_node=nproc_per_node, device=device,
                threads_per_rank=threads)
    if data is None:
        if node_rank != 0 and err and err.startswith("the launcher exited 0"):
            err = None  # only node 0's rank 0 writes the results
        return DistributedResult(**base, backend="gloo" if device == "cpu" else "nccl",
                                 world_size=nnodes * nproc_per_node, step_time_s=None, block_size=0, blocks=0,
                                 per_rank_median_s=(), single_process_step_s=None,
                                 wall_s=time.perf_counter() - start, error=err and f"bench --nproc-per-node: {err}")
    per_rank = np.array(data["per_rank"], dtype=float)  # ranks x blocks
    step = float(np.median(per_rank.max(axis=0)))
    single, serr = _launch(spec, strategy="none", nproc_per_node=1,
                           **{**kw, "nnodes": 1, "node_rank": 0, "rdzv_endpoint": None})
    t1 = float(np.median(single["per_rank"][0])) if single else None
    return DistributedResult(**base, backend=data["backend"], world_size=int(data["world_size"]), step_time_s=step,
                             block_size=int(data["block"]), blocks=per_rank.shape[1],
                             per_rank_median_s=tuple(float(x) for x in np.median(per_rank, axis=1)),
                             single_process_step_s=t1, wall_s=time.perf_counter() - start,
                             error=None if single else f"the single-process baseline failed: {serr}")


def _main(argv: list[str]) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m accelscope.measure.distributed",
                                 description="one rank of a distributed accelscope bench (run under torchrun)")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--strategy", default="ddp", choices=STRATEGIES)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-time", type=float, default=5.0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    worker(a.spec, a.strategy, a.threads, a.max_time, a.out)


if __name__ == "__main__":
    _main(sys.argv[1:])
