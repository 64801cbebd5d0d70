"""``accelscope bench MODEL``: measure a model for real on local devices, store the results."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from accelscope.cli.main import app
from accelscope.errors import ConfigError
from accelscope.units import fmt_bytes, fmt_seconds, si


def _console() -> Console:
    """The terminal's width on a terminal; 140 columns when piped, so wide tables stay readable."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=140)

#: Keys of each ``--json`` result (a subset of ``Measurement.to_dict()``; raw samples are in the store).
_JSON_STAT_KEYS = ("median", "mean", "p10", "p90", "iqr", "min", "n", "ci_low", "ci_high")


def parse_int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise ConfigError(f"{what} {text!r} is not a comma-separated list of integers, e.g. 1,8,64") from None
    if not values or any(v < 1 for v in values):
        raise ConfigError(f"{what} {text!r}: give positive integers, e.g. 1,8,64")
    return values


def result_json(m) -> dict:
    d = m.to_dict(samples=False, environment=False)
    d["step_time_s"] = ({k: d["step_time_s"][k] for k in _JSON_STAT_KEYS} if d["step_time_s"] else None)
    return d


def _verdict(m) -> str:
    if not m.ok:
        return f"[red]failed[/red]: {m.error}"
    bits = []
    bits.append("[yellow]noisy[/yellow]" if m.noisy else "ok")
    if not m.converged:
        bits.append("[yellow]capped[/yellow]")
    return ", ".join(bits)


def render_results(run, console: Console) -> None:
    t = Table(title=f"accelscope bench {run.config.model}" + (f" (run {run.run_id})" if run.run_id else ""))
    for col, just in (("device", "left"), ("task", "left"), ("batch", "right"), ("precision", "left"),
                      ("step median±IQR", "right"), ("samples/s", "right"), ("vs CPU [95% CI]", "right"),
                      ("J/sample", "right"), ("peak mem", "right"), ("verdict", "left")):
        t.add_column(col, justify=just)
    for m in run.measurements:
        if m.ok:
            st = m.step_time_s
            step = f"{fmt_seconds(st.median)}±{fmt_seconds(st.iqr)}"
            thr = si(m.throughput_samples_per_s, digits=3)
            if m.speedup_vs_cpu is not None:
                sp = f"{m.speedup_vs_cpu:.3g}x [{m.speedup_ci_low:.3g}-{m.speedup_ci_high:.3g}]"
            else:
                sp = "baseline" if m.device == "cpu" and m.precision == "fp32" else "-"
            e = m.energy_j_per_sample
            energy = si(e, "J") if e is not None else "n/a"
            mem_v = m.peak_mem_allocated_bytes if m.peak_mem_allocated_bytes is not None else m.peak_rss_bytes
            mem = fmt_bytes(mem_v) + ("" if m.peak_mem_allocated_bytes is not None else "*")
        else:
            step = thr = sp = energy = mem = "-"
        t.add_row(m.device, m.task, str(m.batch_size), m.precision, step, thr, sp, energy, mem, _verdict(m))
    console.print(t)
    methods = sorted({(m.energy_method, m.energy_scope, m.energy_note) for m in run.measurements if m.ok})
    for method, scope, note in methods:
        if method == "unavailable":
            console.print(f"energy n/a: {note}")
        else:
            console.print(f"energy: {method} ({scope})" + (f"; {note}" if note else ""))
    threads = sorted({m.threads for m in run.measurements})
    console.print(f"CPU threads: {', '.join(map(str, threads))}; vs CPU = CPU median / device median, "
                  "95% bootstrap CI in brackets; noisy = IQR > 10% of the median; "
                  "* = peak process RSS (no device allocator).")


@app.command("bench")
def bench_cmd(
    model: str = typer.Argument(..., help="Zoo name (see `accelscope models`), torchvision:NAME, or package.module:callable."),
    device: list[str] = typer.Option(["cpu"], "--device", "-d", help="cpu, cuda, cuda:N, mps, null, or auto (every device present). Comma-separated or repeated."),
    task: str = typer.Option("infer", "--task", help="infer, train, or both: train,infer."),
    batch: Optional[str] = typer.Option(None, "--batch", help="Batch sizes, e.g. 1,8,64 (default: the preset's)."),
    precision: str = typer.Option("fp32", "--precision", help="Comma-separated: fp32, tf32, bf16, fp16, amp-fp16, amp-bf16."),
    compile_: bool = typer.Option(False, "--compile", help="torch.compile the model (compile time goes into cold start)."),
    channels_last: bool = typer.Option(False, "--channels-last", help="Channels-last memory format for images and weights."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads (default: physical cores)."),
    max_time: float = typer.Option(10.0, "--max-time", help="Time cap per point for the adaptive repetitions, seconds."),
    seq_len: Optional[int] = typer.Option(None, "--seq-len", help="Sequence length for token models."),
    image_size: Optional[int] = typer.Option(None, "--image-size", help="Image side in pixels for image models."),
    optimizer: str = typer.Option("adamw", "--optimizer", help="adamw or sgd (training only)."),
    input_shape: Optional[str] = typer.Option(None, "--input-shape", help="Per-sample input shape for user/torchvision models."),
    input_dtype: str = typer.Option("float32", "--input-dtype", help="float32, or int64 for token ids (user models)."),
    inputs: Optional[str] = typer.Option(None, "--inputs", help="package.module:callable(batch_size) -> inputs, for user models."),
    store: Optional[Path] = typer.Option(None, "--store", help="Results database (default: $ACCELSCOPE_STORE or the user data dir)."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not store the results."),
    json_out: bool = typer.Option(False, "--json", help='Print {"results": [...]} as JSON.'),
) -> None:
    """Measure step time, throughput, speedup vs CPU, energy and peak memory on real devices."""
    from accelscope.measure import bench
    from accelscope.store import Store

    batches = parse_int_list(batch, "--batch") if batch else None
    devices = [d for item in device for d in item.split(",") if d.strip()]
    db = None if no_store else Store(store)
    err = Console(stderr=True)
    progress_cb = None
    progress_ctx = None
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress_ctx = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=err, transient=True)
        bar = progress_ctx.add_task("bench", total=None)

        def progress_cb(i, total, label, m):
            progress_ctx.update(bar, total=total, completed=i, description=label)
    command = "accelscope " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        if progress_ctx is not None:
            progress_ctx.start()
        run = bench(model, devices=devices, tasks=task, batch_sizes=batches, precisions=precision,
                    compile=compile_, channels_last=channels_last, threads=threads, max_time_s=max_time,
                    optimizer=optimizer, seq_len=seq_len, image_size=image_size, store=db,
                    progress=progress_cb, command=command, input_shape=input_shape, input_dtype=input_dtype,
                    inputs=inputs)
    except KeyboardInterrupt:
        if progress_ctx is not None:
            progress_ctx.stop()
        where = f" in {db.path}" if db is not None else ""
        err.print(f"interrupted: the points that completed are kept{where} (run marked 'interrupted'; "
                  "see 'accelscope runs list')")
        raise typer.Exit(130)
    finally:
        if progress_ctx is not None:
            progress_ctx.stop()
        if db is not None:
            db.close()
    if json_out:
        typer.echo(json.dumps({"run_id": run.run_id, "store": str(db.path) if db else None,
                               "environment": run.environment.to_dict(),
                               "results": [result_json(m) for m in run.measurements]}, indent=2))
        return
    console = _console()
    render_results(run, console)
    if db is not None:
        console.print(f"stored as run {run.run_id} in {db.path}")
