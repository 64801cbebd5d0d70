"""``accelscope bench-comm``: collectives measured over torch.distributed, stored."""

from __future__ import annotations

import shlex
import sys
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app


def _bytes(text: str) -> int:
    """``64M``, ``1G``, ``4096`` -> bytes (binary units)."""
    from accelscope.errors import ConfigError

    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        return int(float(t[:-1]) * units[t[-1]]) if t and t[-1] in units else int(t)
    except (ValueError, IndexError):
        raise ConfigError(f"--max-bytes {text!r} is not a size like 4096, 64M or 1G") from None


@app.command("bench-comm")
def bench_comm_cmd(
    nproc_per_node: int = typer.Option(2, "--nproc-per-node", help="Processes (ranks) on this node."),
    nnodes: int = typer.Option(1, "--nnodes", help="Nodes taking part (run the same command on each)."),
    node_rank: int = typer.Option(0, "--node-rank", help="This node's rank, 0..nnodes-1."),
    rdzv_endpoint: Optional[str] = typer.Option(None, "--rdzv-endpoint", help="HOST:PORT of the c10d rendezvous (several nodes)."),
    ops: Optional[str] = typer.Option(None, "--ops", help="Collectives, comma-separated (default: all_reduce, all_gather, reduce_scatter, all_to_all, broadcast)."),
    max_bytes: Optional[str] = typer.Option(None, "--max-bytes", help="Largest message, e.g. 64M, 1G (default: 64 MiB on CPUs, 1 GiB on GPUs)."),
    device: str = typer.Option("cpu", "--device", help="cpu (gloo) or cuda (NCCL, one GPU per rank)."),
    store: o.StoreOpt = None,
    json_out: o.Json = False,
    wide: o.Wide = False,
) -> None:
    """Measure collectives on N processes: time, algbw and busbw per size, and alpha-beta per op."""
    from accelscope.jobs.comm import bench_comm
    from accelscope.measure.comm import OPS
    from accelscope.report import json_text, text
    from accelscope.store import Store

    op_list = tuple(s.strip() for s in ops.split(",") if s.strip()) if ops else OPS
    opts = dict(nproc_per_node=nproc_per_node, nnodes=nnodes, node_rank=node_rank, rdzv_endpoint=rdzv_endpoint,
                ops=op_list, max_bytes=_bytes(max_bytes) if max_bytes else None, device=device)
    command = "accelscope " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with Store(store) as db:
        result, run_id = bench_comm(store=db, command=command, **opts)
        path = db.location
    if json_out:
        typer.echo(json_text(result.to_dict() | {"run_id": run_id, "store": str(path)}))
    else:
        text.comm(result, text.console(), wide=wide)
        if run_id is not None:
            text.console().print(f"stored as run {run_id} in {path}")
