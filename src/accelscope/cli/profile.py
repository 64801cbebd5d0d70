"""``accelscope profile`` and ``accelscope models``."""

from __future__ import annotations

import json
import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.units import fmt_bytes, si
from accelscope.workload import ZOO, profile as make_profile
from accelscope.workload.profile import CATEGORIES, Profile


def print_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2))


@app.command("models")
def models_cmd(json_out: o.Json = False) -> None:
    """List the model zoo (any torchvision:NAME and package.module:callable also work)."""
    rows = [
        {"name": e.name, "modality": e.modality, "default_batch": e.default_batch,
         ("default_image_size" if e.modality == "image" else "default_seq_len"): e.default_size,
         "description": e.description, "source": e.source}
        for _, e in ZOO.items()
    ]
    if json_out:
        print_json(rows)
        return
    t = Table(title="accelscope model zoo")
    for col in ("name", "input", "default batch", "description"):
        t.add_column(col)
    for _, e in ZOO.items():
        size = f"{e.default_size}px image" if e.modality == "image" else f"{e.default_size} tokens"
        t.add_row(e.name, size, str(e.default_batch), e.description)
    Console().print(t)
    Console().print("Also: torchvision:NAME (any torchvision.models builder) and "
                    "package.module:callable (your own nn.Module factory).")


def render_profile(p: Profile, top: int = 10) -> None:
    console = Console()
    head = (f"[bold]{p.model}[/bold]  task={p.task}  batch={p.batch_size}  precision={p.precision}"
            + (f"  seq_len={p.seq_len}" if p.seq_len else "")
            + (f"  image={p.image_size}" if p.image_size else "")
            + (f"  optimizer={p.optimizer}" if p.optimizer else ""))
    console.print(head)
    console.print(f"params {si(p.params)} ({fmt_bytes(p.param_bytes)})   "
                  f"matmul/conv/attention FLOPs {si(p.flops, 'FLOP')}   all FLOPs {si(p.total_flops, 'FLOP')}   "
                  f"bytes moved {fmt_bytes(p.bytes_moved)}   intensity {p.arithmetic_intensity or 0:.1f} FLOP/B")
    phases = p.phases
    t = Table(title="FLOPs and bytes by category and phase")
    t.add_column("category")
    for ph in phases:
        t.add_column(f"{ph} FLOPs", justify="right")
    t.add_column("bytes moved", justify="right")
    t.add_column("ops", justify="right")
    for cat in CATEGORIES:
        ops = [o for o in p.ops if o.category == cat]
        if not ops:
            continue
        cells = [si(sum(o.total_flops for o in ops if o.phase == ph), digits=3) for ph in phases]
        t.add_row(cat, *cells, fmt_bytes(sum(o.total_bytes for o in ops)),
                  str(sum(o.count for o in ops if not o.is_view)))
    total = p.total_flops_by_phase
    t.add_row("[bold]total[/bold]", *[f"[bold]{si(total[ph])}[/bold]" for ph in phases],
              f"[bold]{fmt_bytes(p.bytes_moved)}[/bold]", f"[bold]{p.op_count}[/bold]")
    console.print(t)
    ops_t = Table(title=f"top {top} ops by FLOPs")
    for col in ("op", "phase", "count", "FLOPs (all)", "bytes", "FLOP/B", "dtype", "input shapes"):
        ops_t.add_column(col, justify="right" if col in ("count", "FLOPs (all)", "bytes", "FLOP/B") else "left")
    for o in p.top_ops(top):
        shapes = ", ".join("x".join(map(str, s)) for s in o.input_shapes if s)[:48]
        ai = o.arithmetic_intensity
        ops_t.add_row(o.name.removeprefix("aten.").removesuffix(".default"), o.phase, str(o.count), si(o.total_flops), fmt_bytes(o.total_bytes),
                      f"{ai:.1f}" if ai is not None else "-", o.dtype, shapes)
    console.print(ops_t)
    mem = (f"memory: weights {fmt_bytes(p.param_bytes)}, gradients {fmt_bytes(p.grad_bytes)}, "
           f"optimizer state {fmt_bytes(p.optimizer_state_bytes)}, activations {fmt_bytes(p.activation_bytes)}, "
           f"total ~{fmt_bytes(p.memory_bytes)}")
    console.print(mem)
    if p.uncovered_ops:
        console.print(f"[yellow]ops without a FLOP rule (bytes counted, FLOPs unknown): "
                      f"{', '.join(p.uncovered_ops)}[/yellow]")
    for n in p.notes:
        console.print(f"note: {n}")


@app.command("profile")
def profile_cmd(
    model: o.Model,
    task: o.Task = "infer",
    batch: o.Batch = None,
    seq_len: o.SeqLen = None,
    image_size: o.ImageSize = None,
    precision: o.Precision = "fp32",
    optimizer: o.Optimizer = "adamw",
    input_shape: o.InputShape = None,
    input_dtype: o.InputDtype = "float32",
    inputs: o.Inputs = None,
    channels_last: o.ChannelsLast = False,
    top: int = typer.Option(10, "--top", help="How many top ops to list."),
    json_out: o.Json = False,
) -> None:
    """Count the FLOPs and bytes of every op of one inference pass or training step."""
    p = make_profile(model, task=task, batch_size=batch, seq_len=seq_len, image_size=image_size,
                     precision=precision, optimizer=optimizer, input_shape=input_shape,
                     input_dtype=input_dtype, inputs=inputs, channels_last=channels_last)
    if json_out:
        print_json(p.to_dict())
    else:
        render_profile(p, top)
