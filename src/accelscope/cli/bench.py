"""``accelscope bench MODEL``: measure a model for real on local devices, store the results."""

from __future__ import annotations

import shlex
import sys
from typing import Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.errors import ConfigError

#: Keys of each ``--json`` result's step time (the raw samples are in the store).
_JSON_STAT_KEYS = ("median", "mean", "p10", "p90", "iqr", "min", "n", "ci_low", "ci_high")


def result_json(m) -> dict:
    d = m.to_dict(samples=False, environment=False)
    d["step_time_s"] = {k: d["step_time_s"][k] for k in _JSON_STAT_KEYS} if d["step_time_s"] else None
    return d


@app.command("bench")
@o.workload_options(sweep=True)
def bench_cmd(
    model: o.Model,
    workload: o.WorkloadOptions,
    device: list[str] = typer.Option(["cpu"], "--device", "-d", help="cpu, cuda, cuda:N, mps, null, or auto (every device present). Comma-separated or repeated."),
    compile_: bool = typer.Option(False, "--compile", help="torch.compile the model (compile time goes into cold start)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default: physical cores)."),
    max_time: float = typer.Option(10.0, "--max-time", help="Time cap per point for the adaptive repetitions, seconds."),
    nproc_per_node: Optional[int] = typer.Option(None, "--nproc-per-node", help="Train on N processes per node through torch.distributed.run (DDP or FSDP2; gloo on cpu, NCCL on cuda)."),
    nnodes: int = typer.Option(1, "--nnodes", help="Nodes taking part (run the same command on each; with --nproc-per-node)."),
    node_rank: int = typer.Option(0, "--node-rank", help="This node's rank, 0..nnodes-1."),
    rdzv_endpoint: Optional[str] = typer.Option(None, "--rdzv-endpoint", help="HOST:PORT of the c10d rendezvous (several nodes)."),
    strategy: str = typer.Option("ddp", "--strategy", help="ddp (DistributedDataParallel) or fsdp (FSDP2 fully_shard), with --nproc-per-node."),
    store: o.StoreOpt = None,
    no_store: bool = typer.Option(False, "--no-store", help="Do not store the results."),
    json_out: bool = typer.Option(False, "--json", help='Print {"run_id", "store", "environment", "results": [...]} as JSON.'),
    quiet: o.Quiet = False,
    wide: o.Wide = False,
) -> None:
    """Measure step time, throughput, speedup vs CPU, energy and peak memory on real devices."""
    from accelscope.measure.bench import bench
    from accelscope.report import json_text, text
    from accelscope.store import Store

    if (workload.task or "").strip() == "serve":
        if nproc_per_node is not None:
            raise ConfigError("bench --task serve measures one device; --nproc-per-node is for training")
        return _serving(workload.spec(model), device=device, threads=threads, max_time=max_time,
                        store=False if no_store else store, json_out=json_out, wide=wide)
    if nproc_per_node is not None:
        return _distributed(workload.spec(model), device=device, nproc_per_node=nproc_per_node, nnodes=nnodes,
                            node_rank=node_rank, rdzv_endpoint=rdzv_endpoint, strategy=strategy, max_time=max_time,
                            store=False if no_store else store, json_out=json_out, wide=wide)
    tasks, batches, precisions = workload.sweep()
    fields = workload.fixed()
    devices = [d for item in device for d in item.split(",") if d.strip()]
    db = None if no_store else Store(store)
    command = "accelscope " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        with text.progress_bar(enabled=not (quiet or json_out)) as bar:
            try:
                run = bench(model, devices=devices, tasks=tasks, batch_sizes=batches, precisions=precisions,
                            compile=compile_, threads=threads, max_time_s=max_time, store=db,
                            progress=lambda i, total, label, m: bar.step(i, total, label), command=command, **fields)
            except KeyboardInterrupt:
                bar.stop()
                where = f" in {db.location}" if db is not None else ""
                typer.echo(f"interrupted: the points that completed are kept{where} (run marked 'interrupted'; "
                           "see 'accelscope runs list')", err=True)
                raise typer.Exit(130)
    finally:
        if db is not None:
            db.close()
    if json_out:
        typer.echo(json_text({"run_id": run.run_id, "store": db.location if db else None,
                              "environment": run.environment.to_dict(),
                              "results": [result_json(m) for m in run.measurements]}))
        return
    out = text.console()
    text.bench(run, out, wide=wide)
    if db is not None:
        out.print(f"stored as run {run.run_id} in {db.location}")


def _serving(spec, *, device, threads, max_time, store, json_out, wide) -> None:
    from accelscope.jobs.serving import bench_serving
    from accelscope.report import json_text, text
    from accelscope.store import Store

    devices = [d for item in device for d in item.split(",") if d.strip()]
    if len(devices) != 1:
        raise ConfigError("bench --task serve measures one device at a time: give one --device")
    command = "accelscope " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    db = Store(store) if store is not False else None
    try:
        m, run_id = bench_serving(spec, device=devices[0], max_time_s=max_time, threads=threads, store=db,
                                  command=command)
    finally:
        if db is not None:
            db.close()
    if json_out:
        typer.echo(json_text(m.to_dict() | {"run_id": run_id, "store": db.location if db else None}))
        return
    out = text.console()
    text.serving_measurement(m, out, wide=wide)
    if run_id is not None:
        out.print(f"stored as run {run_id} in {db.location}")


def _distributed(spec, *, device, nproc_per_node, nnodes, node_rank, rdzv_endpoint, strategy, max_time, store,
                 json_out, wide) -> None:
    from accelscope.errors import ConfigError
    from accelscope.jobs.distributed import bench_distributed
    from accelscope.report import json_text, text
    from accelscope.store import Store

    devices = [d for item in device for d in item.split(",") if d.strip()]
    if len(devices) != 1 or devices[0] not in ("cpu", "cuda"):
        raise ConfigError("with --nproc-per-node, --device is cpu (gloo) or cuda (NCCL, one GPU per rank)")
    command = "accelscope " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    db = Store(store) if store is not False else None
    try:
        result, run_id = bench_distributed(spec.resolved(), store=db, command=command, nproc_per_node=nproc_per_node,
                                           nnodes=nnodes, node_rank=node_rank, rdzv_endpoint=rdzv_endpoint,
                                           strategy=strategy, device=devices[0], max_time_s=max_time)
    finally:
        if db is not None:
            db.close()
    if json_out:
        typer.echo(json_text(result.to_dict() | {"run_id": run_id, "store": db.location if db else None}))
        return
    out = text.console()
    text.distributed(result, out, wide=wide)
    if run_id is not None:
        out.print(f"stored as run {run_id} in {db.location}")
