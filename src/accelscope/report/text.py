"""Terminal renderings of every job's result (rich tables that fit: see ``table.py``).

Each function takes a result and a console and prints; none computes a figure. Device
names and numbers are never cut; columns of lesser importance are left out when a table
does not fit the terminal (``wide=True`` keeps them).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from accelscope.report.progress import progress_bar  # noqa: F401  (the CLI's one import of it)
from accelscope.report.table import Col, console, print_table
from accelscope.units import fmt_bytes, fmt_seconds, si

FITS = {True: "yes", False: "[red]no[/red]", None: "?"}


def _num(v: float | None, fmt: str = ".3g") -> str:
    return "-" if v is None else format(v, fmt)


def notes(out: Console, lines: Sequence[str], style: str = "dim") -> None:
    for n in lines:
        out.print(f"[{style}]{n}[/{style}]", soft_wrap=False)


# -- profile and models -----------------------------------------------------------------------

def profile(p, out: Console, *, top: int = 10, wide: bool = False) -> None:
    from accelscope.workload.profile import CATEGORIES

    out.print(f"[bold]{p.model}[/bold]  task={p.task}  batch={p.batch_size}  precision={p.precision}"
              + (f"  seq_len={p.seq_len}" if p.seq_len else "") + (f"  image={p.image_size}" if p.image_size else "")
              + (f"  optimizer={p.optimizer}" if p.optimizer else "") + ("  channels-last" if p.channels_last else ""))
    out.print(f"params {si(p.params)} ({fmt_bytes(p.param_bytes)}); matmul/conv/attention FLOPs "
              f"{si(p.flops, 'FLOP')}; all FLOPs {si(p.total_flops, 'FLOP')}; bytes moved "
              f"{fmt_bytes(p.bytes_moved)}; intensity {p.arithmetic_intensity or 0:.1f} FLOP/B")
    phases = p.phases
    cols = [Col("category")] + [Col(f"{ph} FLOPs", "right") for ph in phases] + [Col("bytes", "right"), Col("ops", "right")]
    rows = []
    for cat in CATEGORIES:
        ops = [o for o in p.ops if o.category == cat]
        if ops:
            rows.append([cat] + [si(sum(o.total_flops for o in ops if o.phase == ph)) for ph in phases]
                        + [fmt_bytes(sum(o.total_bytes for o in ops)), str(sum(o.count for o in ops if not o.is_view))])
    total = p.total_flops_by_phase
    rows.append(["[bold]total[/bold]"] + [f"[bold]{si(total[ph])}[/bold]" for ph in phases]
                + [f"[bold]{fmt_bytes(p.bytes_moved)}[/bold]", f"[bold]{p.op_count}[/bold]"])
    print_table(out, "FLOPs and bytes by category and phase", cols, rows, wide=wide)
    cols = [Col("op"), Col("phase"), Col("count", "right"), Col("FLOPs", "right"), Col("bytes", "right"),
            Col("FLOP/B", "right", drop=2), Col("dtype", drop=1), Col("input shapes", drop=3)]
    rows = []
    for o in p.top_ops(top):
        ai = o.arithmetic_intensity
        rows.append([o.name.removeprefix("aten.").removesuffix(".default"), o.phase, str(o.count), si(o.total_flops),
                     fmt_bytes(o.total_bytes), f"{ai:.1f}" if ai is not None else "-", o.dtype,
                     ", ".join("x".join(map(str, s)) for s in o.input_shapes if s)[:48]])
    print_table(out, f"top {top} ops by FLOPs", cols, rows, wide=wide)
    out.print(f"memory: weights {fmt_bytes(p.param_bytes)}, gradients {fmt_bytes(p.grad_bytes)}, optimizer state "
              f"{fmt_bytes(p.optimizer_state_bytes)}, activations {fmt_bytes(p.activation_bytes)}, total "
              f"~{fmt_bytes(p.memory_bytes)}")
    if p.uncovered_ops:
        out.print(f"[yellow]ops without a FLOP rule (bytes counted, FLOPs unknown): {', '.join(p.uncovered_ops)}[/yellow]")
    for n in p.notes:
        out.print(f"note: {n}")


def models(entries, out: Console, *, wide: bool = False, presets=()) -> None:
    rows = [[e.name, f"{e.default_size}px image" if e.modality == "image" else f"{e.default_size} tokens",
             str(e.default_batch), e.description] for e in entries]
    print_table(out, "accelscope model zoo", [Col("name"), Col("input"), Col("batch", "right"),
                                              Col("description", drop=1)], rows, wide=wide)
    if presets:
        rows = [[p["name"], p["description"], p["source"]] for p in presets]
        print_table(out, "decoder presets (parametric decoders that predict --devices can shard)",
                    [Col("name"), Col("what"), Col("as", drop=1)], rows, wide=wide)
    out.print("Also: torchvision:NAME (any torchvision.models builder), parametric decoders "
              "gpt:layers=L,hidden=H,heads=A[,ffn=F,vocab=V,seq=S] and "
              "llama:layers=L,hidden=H,heads=A[,kv_heads=K,ffn=F,vocab=V,seq=S], and package.module:callable "
              "(your own nn.Module factory).")


# -- predictions ------------------------------------------------------------------------------

def parallel_prediction(pred, out: Console, *, samples: float | None = None, wide: bool = False) -> None:
    """``predict --devices N``: one iteration per device, its layout and terms; ``--search``'s ranking."""
    req = pred.parallel
    out.print(f"[bold]{pred.spec.model}[/bold] {pred.spec.task}: one training iteration on {req.devices} devices of each")
    cols = [Col("hardware"), Col("layout"), Col("iteration", "right"), Col("tokens/s", "right", drop=5),
            Col("samples/s", "right"), Col("MFU", "right", drop=2), Col("compute", "right", drop=6),
            Col("exposed comm", "right", drop=3), Col("bubble", "right", drop=4),
            Col("memory/dev", "right", drop=1), Col("fits", "right"), Col("$/M samples", "right", drop=7)]
    rows = []
    for r in pred.results:
        e = r.estimate
        lay = e.parameters["parallel"]["layout"]
        label = _layout_label(lay)
        rows.append([e.hardware, label, fmt_seconds(e.step_time_s), si(e.tokens_per_s) if e.tokens_per_s else "-",
                     si(e.throughput_samples_per_s), f"{e.mfu:.0%}" if e.mfu is not None else "-",
                     fmt_seconds(e.compute_s), fmt_seconds(e.exposed_communication_s), fmt_seconds(e.bubble_s),
                     fmt_bytes(e.memory_bytes), FITS[e.fits_in_memory], _num(r.usd_per_million_samples)])
    print_table(out, "predicted, not measured; layout: d(ata) t(ensor) p(ipeline) c(ontext) degrees, ZeRO, "
                "recompute (every term: --json)", cols, rows, wide=wide)
    for r in pred.results:
        lay = r.estimate.parameters["parallel"]["layout"]
        out.print(f"[dim]{r.estimate.hardware}: {lay['microbatches']} micro-batches of {lay['micro_batch']} per "
                  f"replica, global batch {lay['global_batch']}[/dim]")
        for n in r.estimate.notes:
            out.print(f"[dim]{r.estimate.hardware}: {n}[/dim]")
    for hw, ranked in pred.searches.items():
        cols = [Col("#", "right"), Col("layout"), Col("iteration", "right"), Col("samples/s", "right"),
                Col("MFU", "right", drop=2), Col("memory/dev", "right", drop=1), Col("fits", "right"),
                Col("binding")]
        shown = ranked[: req.top]
        rows = [[str(i + 1), c.layout.label, fmt_seconds(c.estimate.step_time_s) if c.estimate else "-",
                 si(c.estimate.throughput_samples_per_s) if c.estimate else "-",
                 f"{c.estimate.mfu:.0%}" if c.estimate and c.estimate.mfu is not None else "-",
                 fmt_bytes(c.estimate.memory_bytes) if c.estimate else "-", FITS[c.fits if c.estimate else None],
                 c.binding if c.estimate else (c.reason or "")[:60]] for i, c in enumerate(shown)]
        fitting = sum(1 for c in ranked if c.fits)
        print_table(out, f"{hw}: the {len(shown)} fastest of {len(ranked)} layouts ({fitting} fit in memory)",
                    cols, rows, wide=wide)
    _run_costs_and_unavailable(pred, out, samples)


def _run_costs_and_unavailable(pred, out: Console, samples: float | None) -> None:
    """What ``--samples N`` costs on each device, then the devices without an estimate."""
    if samples:
        for r in pred.results:
            usd = r.usd_for_samples(samples)
            if usd is not None:
                e = r.estimate
                out.print(f"{e.hardware}: {si(samples)} samples cost ${usd:,.2f} on {r.offering} "
                          f"(price of {r.price_date}), {fmt_seconds(e.step_time_s * samples / e.samples_per_step)}")
    _unavailable(pred.unavailable, out)


def _unavailable(items, out: Console) -> None:
    """The devices without an estimate, and why."""
    for u in items:
        out.print(f"[yellow]{u.hardware} ({u.kind}): no estimate: {u.reason}[/yellow]")


def _layout_label(lay: dict) -> str:
    """``d2 t4 p4 c2 z1 sel v5``: the degrees, ZeRO (``fsdp``), recompute and chunks (all: --json)."""
    bits = [f"d{lay['dp']}", f"t{lay['tp']}", f"p{lay['pp']}"] + ([f"c{lay['cp']}"] if lay["cp"] > 1 else [])
    if lay["zero"]:
        bits.append("fsdp" if lay["zero"] == 3 else f"z{lay['zero']}")
    if lay["recompute"] != "none":
        bits.append({"selective": "sel", "full": "full", "ops": "ops"}[lay["recompute"]])
    if lay["schedule"] == "interleaved":
        bits.append(f"v{lay['virtual_stages']}")
    return " ".join(bits)


def serving_prediction(pred, out: Console, *, wide: bool = False) -> None:
    """``predict --task serve``: latency, throughput, memory and cost per device."""
    sp = pred.spec
    what = f"concurrency {sp.concurrency} (continuous batching)" if sp.concurrency else f"batch {sp.batch_size or 1}"
    out.print(f"[bold]{sp.model}[/bold] serving {sp.input_tokens or 128} input + {sp.output_tokens or 128} output "
              f"tokens per request, {what}")
    cols = [Col("hardware"), Col("devices", "right", drop=5), Col("batch", "right", drop=4), Col("TTFT", "right"),
            Col("TPOT", "right"), Col("out tok/s/dev", "right"), Col("req/s", "right", drop=6),
            Col("max batch", "right", drop=3), Col("fits", "right"), Col("J/token", "right", drop=2),
            Col("$/M tokens", "right", drop=1)]
    rows = []
    for r in pred.results:
        e = r.estimate
        sv = e.parameters["serving"]
        rows.append([e.hardware, str(e.devices), str(sv["concurrency"] or sv["static_batch"]), fmt_seconds(e.ttft_s),
                     fmt_seconds(e.tpot_s), si(e.tokens_per_s / e.devices), si(e.throughput_samples_per_s),
                     str(sv["max_batch_that_fits"]) if sv["max_batch_that_fits"] is not None else "?",
                     FITS[e.fits_in_memory], _num(r.energy_j_per_token), _num(r.usd_per_million_tokens)])
    print_table(out, "predicted, not measured (prefill, decode by weights and KV cache, memory: --json)", cols, rows,
                wide=wide)
    for r in pred.results:
        for n in r.estimate.notes:
            out.print(f"[dim]{r.estimate.hardware}: {n}[/dim]")
    _run_costs_and_unavailable(pred, out, None)


def serving_measurement(m, out: Console, *, wide: bool = False) -> None:
    """``bench --task serve``: the generate loop's times on a local device."""
    sp = m.spec
    cols = [Col("device"), Col("batch", "right"), Col("in+out", "right", drop=2), Col("TTFT", "right"),
            Col("TPOT", "right"), Col("end to end", "right"), Col("out tok/s", "right"), Col("parts/whole", "right", drop=1),
            Col("runs", "right", drop=3)]
    rows = [[m.device, str(sp.batch_size), f"{sp.input_tokens}+{sp.output_tokens}",
             f"{fmt_seconds(m.ttft_s)} ±{fmt_seconds(m.ttft_iqr_s / 2)}", f"{fmt_seconds(m.tpot_s)} ±{fmt_seconds(m.tpot_iqr_s / 2)}",
             fmt_seconds(m.e2e_s), si(m.output_tokens_per_s), f"{m.consistency:.3f}", str(m.runs)]]
    print_table(out, f"{sp.model} served (measured: medians over generations; ± half the IQR)", cols, rows, wide=wide)
    for n in m.notes:
        out.print(f"[dim]{n}[/dim]")


def _span(sec: float) -> str:
    return f"{sec / 86400:.1f} days" if sec >= 2 * 86400 else f"{sec / 3600:.1f} h" if sec >= 3600 else fmt_seconds(sec)


def _job_what(j: dict) -> str:
    if j["kind"] == "train":
        return (f"train on {si(j['train_tokens'])} tokens" if j.get("train_tokens") else
                f"train on {si(j['train_samples'])} samples x {j['epochs']:g}")
    return f"{'serve' if j['kind'] == 'serve' else 'infer'} {j['requests_per_s']:g} requests/s for {fmt_seconds(j['duration_s'])}"


def _option_rows(options) -> list[list[str]]:
    return [[o.hardware, str(o.devices), _span(o.wall_time_s), si(o.device_hours),
             _num(o.energy_kwh / 1e3 if o.energy_kwh is not None else None), _num(o.tco2e),
             f"{o.usd:,.0f}" if o.usd is not None else "-", o.option + (" [!]" if o.price.get("flag") else "")]
            for o in options]


_OPTION_COLS = [Col("hardware"), Col("devices", "right"), Col("wall time", "right"),
                Col("device-hours", "right", drop=1), Col("MWh", "right", drop=3), Col("tCO2e", "right", drop=2),
                Col("$", "right"), Col("option")]


def _assumption_line(out: Console, options) -> None:
    a = options[0].assumptions
    grids = {(o.grid or {}).get("code") for o in options} - {None}
    given = lambda key: " (given)" if a.get(f"{key}_source") == "given" else ""  # noqa: E731
    out.print(f"[dim]goodput {a['goodput']:g}{given('goodput')}; PUE {a['pue']:g}{given('pue')}; node overhead "
              f"{a['node_overhead_w']:g} W; grid: "
              + (", ".join(sorted(grids)) if grids else "none given: no carbon figure (--region)") + "[/dim]")
    own = next((o.price["ownership"] for o in options if "ownership" in o.price), None)
    if own:
        out.print(f"[dim]buy/build: written off over {own['years']:g} y, busy {own['utilisation']:.0%} of it; "
                  f"{own['usd_per_kwh']:g} USD/kWh; colocation {own['hosting_usd_per_kw_month']:g} USD/kW-month; "
                  f"host share {own['host_usd_per_device']:g} USD a device[/dim]")
    out.print("[dim](each default's source, every price's date and source: --json; README: accelscope job)[/dim]")
    flagged = [o for o in options if o.price.get("flag")]
    if flagged:
        out.print(f"[yellow][!] {len(flagged)} price(s) to re-check: " + "; ".join(
            sorted({o.price['flag'] for o in flagged})[:3]) + "[/yellow]")
    for o in options:
        be = o.break_even
        months = be.get("months_vs_cloud") or {}
        if months:
            known = sorted(m for m in months.values() if m is not None)
            never = sum(m is None for m in months.values())
            span = (f"{known[0]:.0f}" + (f"-{known[-1]:.0f}" if known[-1] > known[0] + 0.5 else "") + " months"
                    if known else "never")
            out.print(f"[dim]{o.hardware} x{o.devices} bought breaks even against renting after {span} "
                      f"({len(months)} offerings" + (f"; never against {never}" if never and known else "")
                      + ")[/dim]")
        if "volume" in be:
            v = be["volume"]
            d = o.price.get("design") or {}
            what = (f" ({d['array']}, {d['node_nm']:g} nm, {d['area_mm2']['total']:.3g} mm2 of PEs and SRAM)"
                    if "area_mm2" in d else "")
            out.print(f"[dim]{o.hardware}{what} built breaks even with {be['volume_vs']} at "
                      f"{'no volume' if v is None else f'{v:,.0f} units'}[/dim]")


def job(res, out: Console, *, wide: bool = False) -> None:
    """``accelscope job``: each option's wall time, device-hours, energy, carbon and money."""
    out.print(f"[bold]{res.job['model']}[/bold]: {_job_what(res.job)}")
    print_table(out, "predicted, not measured; cheapest first (assumptions, prices and each option's step: --json)",
                _OPTION_COLS, _option_rows(res.options), wide=wide)
    if res.options:
        _assumption_line(out, res.options)
    _unavailable(res.unavailable, out)


def advice(adv, out: Console, *, top: int = 10, wide: bool = False) -> None:
    """``accelscope advise``: the qualifying options ranked, the binding constraint, the what-ifs."""
    c = adv.constraints
    limits = [f"budget {c.budget_usd:,.0f} USD" if c.budget_usd else None,
              f"deadline {c.deadline_s / 86400:g} days" if c.deadline_s else None,
              f"at most {c.max_tco2e:g} tCO2e" if c.max_tco2e else None]
    out.print(f"[bold]{adv.job['model']}[/bold]: {_job_what(adv.job)}; "
              + (", ".join(x for x in limits if x) or "no constraints"))
    out.print(f"[bold]{adv.verdict}[/bold]")
    out.print(f"binding constraint: {adv.binding}")
    if adv.ranked:
        print_table(out, "options that qualify, cheapest first (predicted, not measured)", _OPTION_COLS,
                    _option_rows(adv.ranked[:top]), wide=wide)
        _assumption_line(out, adv.ranked[:top])
    if adv.excluded:
        out.print(f"[dim]{len(adv.excluded)} option(s) excluded (--json lists each with why)[/dim]")
    if any(r["best"] for r in adv.sensitivity):
        cols = [Col("if"), Col("were", "right"), Col("best would be"), Col("$", "right"), Col("changes", "right")]
        rows = [[r["parameter"], r["value"], r["best"] or "none qualifies",
                 f"{r['usd']:,.0f}" if r["usd"] is not None else "-", "yes" if r["changes_ranking"] else "no"]
                for r in adv.sensitivity]
        print_table(out, "what would change the ranking", cols, rows, wide=wide)
    _unavailable(adv.unavailable, out)


def prediction(pred, out: Console, *, samples: float | None = None, wide: bool = False) -> None:
    if getattr(pred, "serving", None) is not None:
        return serving_prediction(pred, out, wide=wide)
    if getattr(pred, "parallel", None) is not None:
        return parallel_prediction(pred, out, samples=samples, wide=wide)
    for prec, p in pred.profiles.items():
        out.print(f"[bold]{p.model}[/bold] {p.task} batch={p.batch_size} {prec}: {si(p.flops, 'FLOP')} "
                  f"matmul/conv/attention, memory ~{fmt_bytes(p.memory_bytes)}")
    cols = [Col("hardware"), Col("kind", drop=6), Col("precision", drop=5), Col("mode", drop=7),
            Col("host", drop=8), Col("step time", "right"),
            Col("samples/s", "right"), Col("MFU", "right", drop=3), Col("bound", drop=4),
            Col("J/sample", "right", drop=2), Col("$/M samples", "right", drop=1), Col("fits", "right")]
    rows = []
    for r in pred.results:
        e = r.estimate
        rows.append([e.hardware, e.kind, e.precision, e.mode, e.host or "-", fmt_seconds(e.step_time_s),
                     si(e.throughput_samples_per_s),
                     f"{e.mfu:.0%}" if e.mfu is not None else "-", e.bound, _num(r.energy_j_per_sample),
                     _num(r.usd_per_million_samples), FITS[e.fits_in_memory]])
    print_table(out, "predicted, not measured (each row's model and parameters: --json)", cols, rows, wide=wide)
    models_used = sorted({r.estimate.model.split(" ")[0] for r in pred.results})
    if models_used:
        out.print(f"[dim]performance models: {', '.join(models_used)}[/dim]")
    _run_costs_and_unavailable(pred, out, samples)


def explore(result, out: Console, *, top: int = 12, elapsed_s: float | None = None, store_path=None,
            wide: bool = False) -> None:
    for wr in result.results:
        serve = wr.spec.task == "serve"
        cols = [Col("device"), Col("kind", drop=5), Col("precision", drop=4), Col("how"),
                Col("end to end" if serve else "step time", "right"),
                Col("out tok/s/dev" if serve else "vs CPU", "right"), Col("J/token" if serve else "J/sample", "right", drop=2),
                Col("$/M tokens" if serve else "$/M samples", "right", drop=1), Col("fits", "right", drop=3)]
        versus = wr.vs_cpu if not serve else None
        if versus:  # predicted speedup over a catalog CPU, beside the measured one over this CPU
            cols.insert(6, Col(f"vs {versus}", "right", drop=2))
        measured = [r for r in wr.rows if r.source == "measured"]
        predicted = [r for r in wr.rows if r.source == "predicted"][: max(top - len(measured), 0)]
        if serve:  # ranked by cost per million output tokens (the job's order)
            predicted = [r for r in wr.rows if r.source == "predicted"][: max(top - len(measured), 0)]
            shown = predicted + measured
        else:
            shown = sorted(measured + predicted, key=lambda r: -(r.throughput_samples_per_s or 0.0))
        doubtful = [r for r in measured if r.verdict not in (None, "converged")]
        rows = [[r.device, r.kind, r.precision, r.source + ("*" if r in doubtful else "")
                 + (f" ({r.mode})" if r.mode != "eager" else ""),
                 fmt_seconds(r.step_time_s) if r.step_time_s else "failed",
                 (si(r.throughput_samples_per_s) if r.throughput_samples_per_s else "-") if serve else
                 (f"{r.speedup_vs_cpu:.3g}x" if r.speedup_vs_cpu else "-"), _num(r.energy_j_per_sample),
                 _num(r.usd_per_million_samples), FITS[r.fits_in_memory]] for r in shown]
        if versus:
            for row, r in zip(rows, shown):
                row.insert(6, f"{r.speedup_vs_catalog_cpu:.3g}x" if r.speedup_vs_catalog_cpu else "-")
        title = wr.spec.label + (" (cheapest per million output tokens first)" if serve else "")
        print_table(out, title, cols, rows, wide=wide,
                    styles=["bold" if r.source == "measured" else None for r in shown])
        for r in doubtful:
            out.print(f"[yellow]* {r.device}: {r.verdict}"
                      + ("; the speedups over it are uncertain" if r.device.startswith("cpu") else "")
                      + "[/yellow]")
        if wr.unavailable:
            out.print(f"[dim]no estimate for {len(wr.unavailable)} devices (missing figures; "
                      "`accelscope predict` lists why)[/dim]")
        modes = {r.mode for r in shown if r.source == "predicted" and r.kind == "gpu"}
        if "eager" in modes and any(r.mode == "compile" and r.kind in ("tpu", "asic") for r in shown):
            out.print("[dim]GPUs are predicted as the workload runs (eager PyTorch, one host dispatch per op); "
                      "TPUs and ASICs always run compiled graphs (marked). --mode cuda-graphs or compile "
                      "predicts the GPUs that way too.[/dim]")
    n = len(result.results)
    tail = f"{n} workload{'' if n == 1 else 's'}" + (f" in {elapsed_s:.0f} s" if elapsed_s is not None else "")
    if store_path is not None:
        tail += f"; stored in {store_path} (estimate run {result.estimate_run_id})"
    out.print(tail + ". Predicted rows are model estimates (roofline, systolic engine, FPGA design models): "
              "`accelscope predict --json` shows each model and its parameters, and `accelscope calibrate` "
              "fits the roofline to your measurements.")


def calibration(res, out: Console, *, wide: bool = False) -> None:
    pct = (lambda e: "-" if e is None else f"{e:+.1%}")
    rows = [[r["workload"], fmt_seconds(r["measured_s"]), fmt_seconds(r["predicted_s"]), f"{r['error']:+.1%}",
             pct(r.get("held_out_error")), pct(r.get("uncalibrated_error"))] for r in res.points]
    print_table(out, f"calibration of {res.device}: predicted vs measured",
                [Col("workload"), Col("measured", "right"), Col("predicted", "right"), Col("in-sample", "right"),
                 Col("held out", "right"), Col("uncalibrated", "right", drop=1)], rows, wide=wide)
    c = res.calibration
    conv = f"{c.conv_scale:.3g}" if c.conv_scale else "same"
    out.print(f"matrix scale {c.matrix_scale:.3g}, convolution scale {conv}, bandwidth scale "
              f"{c.bandwidth_scale:.3g}, host overhead {c.params.host_overhead_s * 1e6:.3g} us/op; median |error| "
              f"{res.median_abs_error:.1%} in-sample over {c.fitted_on} points.")
    if res.accepted:
        out.print(f"[green]accepted[/green]: {res.validation.reason}. Stored (run {res.run_id}); `predict` and "
                  "`explore` use it from now on.")
    else:
        out.print(f"[yellow]rejected[/yellow]: {res.validation.reason}. Stored as rejected (run {res.run_id}); "
                  "`predict` and `explore` keep the model they had.")
    for s in res.skipped:
        out.print(f"[yellow]not re-profiled, left out: {s}[/yellow]")


def comm_calibration(res, out: Console) -> None:
    r = res.record
    out.print(f"{r['system']} {r['scope']} link from bench-comm run {r['run_id']} ({r['backend']} on {r['device']}, "
              f"{r['nnodes']} node(s) x {r['nproc_per_node']} ranks): all_reduce busbw "
              f"{si(r['beta_bytes_per_s'], 'B/s')}, {fmt_seconds(r['alpha_s'])} per call")
    if res.accepted:
        out.print(f"[green]accepted[/green]: {r['reason']}. Stored (run {res.run_id}); `predict --devices` on "
                  f"{r['system']} uses it from now on.")
    else:
        out.print(f"[yellow]rejected[/yellow]: {r['reason']}. Stored as rejected (run {res.run_id}); predictions "
                  "keep the catalog's figures.")


# -- measurements -----------------------------------------------------------------------------

def _verdict(m) -> str:
    if not m.ok:
        return f"[red]failed[/red]: {m.error}"
    return f"[yellow]{m.verdict}[/yellow]" if m.flags else "converged"


def bench(run, out: Console, *, wide: bool = False) -> None:
    cols = [Col("device"), Col("task"), Col("batch", "right"), Col("precision"), Col("step ± IQR", "right"),
            Col("samples/s", "right"), Col("vs CPU [95% CI]", "right", drop=3), Col("J/sample", "right", drop=2),
            Col("peak mem", "right", drop=1), Col("verdict")]
    rows = []
    for m in run.measurements:
        if m.ok:
            st = m.step_time_s
            if m.speedup_vs_cpu is not None:
                sp = f"{m.speedup_vs_cpu:.3g}x [{m.speedup_ci_low:.3g}-{m.speedup_ci_high:.3g}]"
            else:
                sp = "baseline" if m.device == "cpu" and m.precision == "fp32" else "-"
            mem = m.peak_mem_allocated_bytes if m.peak_mem_allocated_bytes is not None else m.peak_rss_bytes
            cells = [f"{fmt_seconds(st.median)} ± {fmt_seconds(st.iqr)}", si(m.throughput_samples_per_s), sp,
                     si(m.energy_j_per_sample, "J") if m.energy_j_per_sample is not None else "n/a",
                     fmt_bytes(mem) + ("" if m.peak_mem_allocated_bytes is not None else "*")]
        else:
            cells = ["-"] * 5
        rows.append([m.device, m.task, str(m.batch_size), m.precision, *cells, _verdict(m)])
    print_table(out, f"accelscope bench {run.config.model}" + (f" (run {run.run_id})" if run.run_id else ""),
                cols, rows, wide=wide)
    for method, scope, note in sorted({(m.energy_method, m.energy_scope, m.energy_note) for m in run.measurements if m.ok}):
        out.print(f"energy n/a: {note}" if method == "unavailable"
                  else f"energy: {method} ({scope})" + (f"; {note}" if note else ""))
    for m in run.measurements:
        if m.speedup_note:
            out.print(f"[yellow]{m.device} {m.task} b{m.batch_size} {m.precision}: speedup uncertain "
                      f"({m.speedup_note})[/yellow]")
        for n in m.notes:
            if n.startswith("oversubscribed"):
                out.print(f"[yellow]{m.device} {m.task} b{m.batch_size} {m.precision}: {n}[/yellow]")
    threads = sorted({m.threads for m in run.measurements})
    out.print(f"CPU threads: {', '.join(map(str, threads))}; vs CPU = CPU median / device median, 95% bootstrap "
              "CI in brackets; verdict: converged (95% CI of the median within 1%), or capped, noisy (IQR > 10% "
              "of the median), warm-up exhausted, few samples, oversubscribed; * = peak process RSS "
              "(no device allocator).")


def runs_list(runs, path, out: Console, *, wide: bool = False) -> None:
    rows = [[str(r.id), r.created_at.replace("+00:00", ""), r.kind, r.label, ",".join(r.config.get("devices", [])),
             f"{r.n_ok}/{r.n_points}" + (f" of {r.planned}" if r.planned is not None and r.planned != r.n_points else ""),
             r.status, r.user or "", r.hostname or ""] for r in runs]
    print_table(out, f"runs in {path}", [Col("id", "right"), Col("created (UTC)", drop=4), Col("kind"), Col("label"),
                                         Col("devices", drop=3), Col("ok/stored", "right"), Col("status"),
                                         Col("user", drop=2), Col("host", drop=1)], rows, wide=wide)


def run_show(rec, points: list[dict], out: Console, *, wide: bool = False) -> None:
    """One run: its header, then its points in the columns of its kind."""
    env = rec.environment or {}
    planned = f", {len(points)} of {rec.planned} planned points stored" if rec.planned is not None else ""
    out.print(f"[bold]run {rec.id}[/bold] {rec.kind} {rec.label}  status={rec.status}{planned}  created "
              f"{rec.created_at}  by {rec.user or '(not recorded)'} on {rec.hostname}", soft_wrap=True)
    if rec.command:
        out.print(f"command: {rec.command}", soft_wrap=True)
    if env:
        out.print(f"accelscope {env.get('accelscope_version')}, Python {env.get('python_version')}, torch "
                  f"{env.get('torch_version')}, CUDA {env.get('cuda_version')}, driver {env.get('gpu_driver')}; CPU "
                  f"{env.get('cpu_model')} ({env.get('physical_cores')} cores / {env.get('logical_cores')} threads); "
                  f"GPUs: {', '.join(g['name'] for g in env.get('gpus', [])) or 'none'}")
    {"estimate": _estimate_points, "calibration": _calibration_points, "comm": _comm_points,
     "distributed": _distributed_points}.get(
        rec.kind, _measurement_points)(
        points, out, wide)


def distributed(result, out: Console, *, wide: bool = False) -> None:
    """A distributed bench: the world, the step as the slowest rank takes it, E(N)."""
    out.print(f"[bold]{result.spec.label}[/bold] on {result.world_size} ranks ({result.nnodes} node"
              f"{'' if result.nnodes == 1 else 's'} x {result.nproc_per_node}), {result.strategy} over "
              f"{result.backend}, {result.threads_per_rank} thread(s) per rank", soft_wrap=True)
    _distributed_points([result.to_dict()], out, wide)


def _distributed_points(points: list[dict], out: Console, wide: bool) -> None:
    cols = [Col("strategy"), Col("ranks", "right"), Col("step (slowest rank)", "right"),
            Col("samples/s", "right"), Col("1 process", "right"), Col("E(N)", "right"),
            Col("per-rank medians", "right", drop=1), Col("blocks", "right", drop=2)]
    rows = []
    for p in points:
        per = ", ".join(fmt_seconds(x) for x in p.get("per_rank_median_s") or [])
        e = p.get("scaling_efficiency")
        rows.append([p["strategy"], str(p["world_size"]),
                     fmt_seconds(p["step_time_s"]) if p.get("step_time_s") else "failed",
                     si(p.get("throughput_samples_per_s")), fmt_seconds(p.get("single_process_step_s")),
                     f"{e:.2f}" if e is not None else "-", per or "-", f"{p.get('blocks')} x {p.get('block_size')}"])
    print_table(out, "weak scaling: the same batch per process; E(N) = one process's step / the N-rank step",
                cols, rows, wide=wide)
    for p in points:
        if p.get("error"):
            out.print(f"[yellow]{p['error']}[/yellow]", soft_wrap=True)


def comm(result, out: Console, *, wide: bool = False) -> None:
    """A bench-comm result: per op and size, time, algbw, busbw; then each op's alpha-beta."""
    out.print(f"[bold]collectives[/bold] on {result.world_size} ranks ({result.nnodes} node"
              f"{'' if result.nnodes == 1 else 's'} x {result.nproc_per_node}), {result.backend}, "
              f"{result.wall_s:.0f} s; bandwidths as nccl-tests defines them")
    _collective_points([p.to_dict() for p in result.points], out, wide)
    _collective_fits([f.to_dict() for f in result.fits], out, wide)
    for note in result.notes:
        out.print(f"[yellow]{note}[/yellow]", soft_wrap=True)


def _collective_points(points: list[dict], out: Console, wide: bool) -> None:
    cols = [Col("op"), Col("size", "right"), Col("time", "right"), Col("algbw", "right"), Col("busbw", "right"),
            Col("slowest / fastest rank", "right", drop=1)]
    rows = []
    for p in points:
        per = [x for x in p.get("per_rank_s") or [] if x == x]  # not NaN
        rows.append([p["op"], fmt_bytes(p["bytes"]), fmt_seconds(p.get("time_s")) if p.get("time_s") else "failed",
                     si(p.get("algbw_bytes_per_s"), "B/s"), si(p.get("busbw_bytes_per_s"), "B/s"),
                     f"{max(per) / min(per):.2f}" if per and min(per) > 0 else "-"])
    print_table(out, None, cols, rows, wide=wide)


def _collective_fits(fits: list[dict], out: Console, wide: bool) -> None:
    if not fits:
        return
    cols = [Col("op"), Col("alpha (latency)", "right"), Col("beta (bus bandwidth)", "right"), Col("points", "right"),
            Col("median |error|", "right")]
    rows = [[f["op"], fmt_seconds(f["alpha_s"]), si(f["beta_bytes_per_s"], "B/s"), str(f["points"]),
             f"{f['median_abs_error']:.1%}"] for f in fits]
    print_table(out, "time = alpha + size x bus factor / beta, fitted per op", cols, rows, wide=wide)


def _comm_points(points: list[dict], out: Console, wide: bool) -> None:
    _collective_points([p for p in points if p.get("point_kind") == "collective"], out, wide)
    _collective_fits([p for p in points if p.get("point_kind") == "collective_fit"], out, wide)


def _measurement_points(points: list[dict], out: Console, wide: bool) -> None:
    cols = [Col("device"), Col("task"), Col("batch", "right"), Col("precision"), Col("status"), Col("median", "right"),
            Col("p10", "right", drop=5), Col("p90", "right", drop=5), Col("n", "right", drop=4),
            Col("throughput", "right"), Col("speedup", "right", drop=3), Col("J/sample", "right", drop=2),
            Col("energy method", drop=6), Col("peak mem", "right", drop=1), Col("verdict")]
    rows = []
    for p in points:
        st = p.get("step_time_s") or {}
        ok = p.get("status") == "ok"
        mem = p.get("peak_mem_allocated_bytes") or p.get("peak_rss_bytes")
        rows.append([str(p.get("device", "")), str(p.get("task", "")), str(p.get("batch_size", "")),
                     str(p.get("precision", "")), "ok" if ok else f"failed: {p.get('error')}",
                     fmt_seconds(st.get("median")), fmt_seconds(st.get("p10")), fmt_seconds(st.get("p90")),
                     str(st.get("n", "-")), si(p.get("throughput_samples_per_s")) + ("/s" if ok else ""),
                     f"{p['speedup_vs_cpu']:.3g}x" if p.get("speedup_vs_cpu") else "-",
                     si(p.get("energy_j_per_sample"), "J"), str(p.get("energy_method", "")), fmt_bytes(mem),
                     str(p.get("verdict", "-"))])
    print_table(out, None, cols, rows, wide=wide)


def _estimate_points(points: list[dict], out: Console, wide: bool) -> None:
    cols = [Col("workload"), Col("hardware"), Col("precision", drop=3), Col("step time", "right"),
            Col("samples/s", "right"), Col("MFU", "right", drop=4), Col("J/sample", "right", drop=2),
            Col("$/M samples", "right", drop=1), Col("model", drop=5)]
    rows = [[str(p.get("workload", "")), str(p.get("hardware", "")), str(p.get("precision", "")),
             fmt_seconds(p.get("step_time_s")), si(p.get("throughput_samples_per_s")),
             f"{p['mfu']:.0%}" if p.get("mfu") is not None else "-", _num(p.get("energy_j_per_sample")),
             _num(p.get("usd_per_million_samples")), str(p.get("model", "")).split(" ")[0]] for p in points]
    print_table(out, "predicted, not measured", cols, rows, wide=wide)


def _calibration_points(points: list[dict], out: Console, wide: bool) -> None:
    for p in points:
        params = p.get("params") or {}
        out.print(f"device {p.get('device')} (catalog entry {p.get('hardware') or 'none'}): matrix scale "
                  f"{_num(p.get('matrix_scale'))}, convolution scale {_num(p.get('conv_scale'))}, bandwidth scale "
                  f"{_num(p.get('bandwidth_scale'))}, backward scale {_num(p.get('backward_scale'))}, host overhead "
                  f"{_num((params.get('host_overhead_s') or 0) * 1e6)} us/op; fitted on {p.get('fitted_on')} points, "
                  f"median |error| {_num(p.get('median_abs_error'), '.1%')}")


def comparison(cmp, threshold: float, out: Console, *, wide: bool = False) -> None:
    colors = {"regression": "red", "improvement": "green"}
    rows = []
    for p in cmp.points:
        k = p.key
        v = p.verdict if p.verdict not in colors else f"[{colors[p.verdict]}]{p.verdict}[/{colors[p.verdict]}]"
        rows.append([str(k["device"]), str(k["task"]), str(k["batch_size"]), str(k["precision"]),
                     fmt_seconds(p.a_median_s), fmt_seconds(p.b_median_s),
                     f"{p.change:+.1%}" if p.change is not None else "-",
                     f"[{p.ci_low:.3f}, {p.ci_high:.3f}]" if p.ci_low is not None else "-",
                     f"{p.p_value:.2g}" if p.p_value is not None else "-", v + (f" ({p.note})" if p.note else "")])
    print_table(out, f"run {cmp.run_b} vs run {cmp.run_a} (step time; regression = > {threshold:.0%} slower with "
                     "the 95% CI above 1)",
                [Col("device"), Col("task"), Col("batch", "right"), Col("precision"), Col(f"A (run {cmp.run_a})", "right"),
                 Col(f"B (run {cmp.run_b})", "right"), Col("change", "right"), Col("95% CI of B/A", "right", drop=2),
                 Col("p", "right", drop=1), Col("verdict")], rows, wide=wide)
    notes(out, cmp.notes, "yellow")


# -- hardware ---------------------------------------------------------------------------------

def _fig(fig, unit: str) -> str:
    if not fig.known:
        return "n/a" if not fig.supported else "?"
    v = fig.value
    if isinstance(v, str):
        return v
    if unit == "B":
        return fmt_bytes(v)
    if unit in ("", "count", "year"):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return si(v, unit)


def _tera(fig) -> str:
    if not fig.known:
        return "n/a" if not fig.supported else "?"
    return f"{fig.value / 1e12:.4g}"


def systems(systems_by_name, links_by_name, out: Console, *, wide: bool = False) -> None:
    """``hardware systems``: nodes and their links (bandwidth per device per direction)."""
    cols = [Col("system"), Col("device", drop=3), Col("per node", "right"), Col("inside the node"),
            Col("network", drop=1), Col("NICs", "right", drop=2)]
    rows = [[s.name, s.device or "-", _fig(s.devices_per_node, "count"), s.intra_node.name,
             s.network.name if s.network else "-", _fig(s.nics_per_node, "count")] for s in systems_by_name.values()]
    print_table(out, "systems (--system)", cols, rows, wide=wide)
    cols = [Col("link"), Col("scope", drop=3), Col("nominal", "right"), Col("measured", "right", drop=1),
            Col("latency", "right", drop=2)]
    rows = [[k.name, k.scope, _fig(k.bandwidth_bytes_per_s, "B/s"), _fig(k.achievable_bandwidth_bytes_per_s, "B/s"),
             fmt_seconds(k.latency_s.number) if k.latency_s.number is not None else "?"]
            for k in links_by_name.values()]
    print_table(out, "links: bandwidth per device and direction (measured: nccl-tests busbw); sources: --json",
                cols, rows, wide=wide)


def hardware_list(specs, out: Console, *, wide: bool = False) -> None:
    rows = []
    for s in specs:
        p, cheapest = s.dense_peaks, s.cheapest_offering()
        rows.append([s.name, s.kind, s.vendor, _tera(p.fp32), _tera(p.bf16), _tera(p.fp16), _tera(p.int8),
                     _fig(s.mem_bytes, "B"), _fig(s.mem_bandwidth_bytes_per_s, "B/s"), _fig(s.tdp_w, "W"),
                     f"{cheapest.usd_per_device_hour:.3g}" if cheapest else "-"])
    cols = [Col("name"), Col("kind"), Col("vendor", drop=7), Col("fp32 T", "right", drop=2), Col("bf16 T", "right"),
            Col("fp16 T", "right", drop=3), Col("int8 T", "right", drop=4), Col("memory", "right"),
            Col("bandwidth", "right", drop=5), Col("TDP", "right", drop=6), Col("$/dev-h", "right", drop=1)]
    print_table(out, f"accelscope hardware: {len(specs)} devices (dense peaks in TFLOP/s or TOP/s; ? unknown, "
                     "n/a unsupported)", cols, rows, wide=wide)


def _figure_rows(spec) -> list[list[str]]:
    units = {"mem_bytes": "B", "onchip_mem_bytes": "B", "mem_bandwidth_bytes_per_s": "B/s", "clock_hz": "Hz",
             "base_clock_hz": "Hz", "tdp_w": "W", "idle_power_w": "W", "compute_units": "count",
             "matrix_units": "count", "launch_year": "year"}
    rows = []
    for key, fig in spec.figures().items():
        if key.startswith("dense_peaks."):
            unit = "OP/s" if key.endswith("int8") else "FLOP/s"
        elif key.startswith("interconnects"):
            unit = "B/s"
        elif key.startswith("fpga."):
            unit = "count"
        else:
            unit = units.get(key, "")
        if fig.known:
            extra = "; ".join(x for x in (fig.derived, fig.note) if x)
            detail = (fig.source or "") + (f" [{extra}]" if extra else "")
        else:
            detail = ("unsupported: " if not fig.supported else "unknown: ") + (fig.reason or "")
        rows.append([key, _fig(fig, unit), detail])
    return rows


def hosts(catalog, out: Console, *, wide: bool = False) -> None:
    """Systems and host CPUs with the eager per-op cost each implies."""
    rows = []
    for sys_ in catalog.systems.values():
        h = catalog.host(sys_.name)
        rows.append([sys_.name, "system", sys_.display_name, h.cpu.display_name,
                     f"{h.cpu.single_thread_score.number:g}" if h.cpu.single_thread_score.known else "?",
                     f"{h.eager_op_s.number * 1e6:.1f}" if h.eager_op_s.known else "?"])
    for cpu in catalog.cpus.values():
        op = catalog.eager_op_s(cpu)
        rows.append([cpu.name, "cpu", cpu.microarchitecture, cpu.display_name,
                     f"{cpu.single_thread_score.number:g}" if cpu.single_thread_score.known else "?",
                     f"{op.number * 1e6:.1f}" if op.known else "?"])
    cols = [Col("name"), Col("kind", drop=3), Col("what", drop=2), Col("host CPU", drop=1),
            Col("1-thread score", "right"), Col("eager us/op", "right")]
    ref = catalog.cpus[catalog.reference_cpu]
    print_table(out, "hosts: eager PyTorch's host time per op = the reference host's cost x its single-thread "
                     "score / the host's", cols, rows, wide=wide)
    out.print(f"reference: {catalog.reference_op_s.number * 1e6:.1f} us per op on the {ref.display_name} "
              f"({catalog.reference_op_s.source}); scores: PassMark single-thread rating (derived from Geekbench 6 "
              "where marked; `accelscope hardware hosts --json` has every source)", soft_wrap=True)


def hardware_show(spec, out: Console) -> None:
    """Every figure on its own line with its source (long sources and URLs stay whole)."""
    def line(text: str) -> None:
        out.print(text, soft_wrap=True, markup=False)

    out.print(f"[bold]{spec.display_name}[/bold]  ({spec.name}, {spec.kind}, {spec.vendor}; {spec.origin} file "
              f"{spec.file})", soft_wrap=True)
    if spec.aliases:
        line("aliases: " + ", ".join(spec.aliases))
    if spec.performance_model:
        line(f"performance model: {spec.performance_model}")
    for note in spec.notes:
        line(f"- {note}")
    out.print("\n[bold]figures[/bold] (SI units; dense peaks)")
    rows = _figure_rows(spec)
    if spec.compute_unit_kind:
        rows.append(["compute_unit_kind", spec.compute_unit_kind, ""])
    rows += [[f"interconnects[{i}].name", link.name, link.note or ""] for i, link in enumerate(spec.interconnects)]
    if spec.systolic:
        sa = spec.systolic
        rows.append(["systolic", f"{sa.count} x {sa.rows}x{sa.cols} {sa.dtype}", sa.source + (
            f" [{sa.dataflow}; SRAM {sa.ifmap_sram_bytes}/{sa.filter_sram_bytes}/{sa.ofmap_sram_bytes} B; "
            f"off-chip {'/'.join(sa.offchip_operands or ('ifmap', 'filter', 'ofmap'))}]" if sa.dataflow else "")])
    pp = spec.purchase_price
    if pp.known:
        rng = f"{pp.usd:,.0f}" + (f"-{pp.usd_max:,.0f}" if pp.usd_max else "")
        rows.append(["purchase_price", f"{rng} USD", f"{pp.basis}, {pp.date}: {pp.source}" + (f" [{pp.note}]" if pp.note else "")])
    else:
        rows.append(["purchase_price", "?", f"unknown: {pp.reason or ''}"])
    key_w = max(len(r[0]) for r in rows)
    val_w = max(len(r[1]) for r in rows)
    for key, value, detail in rows:
        line(f"  {key:<{key_w}}  {value:>{val_w}}  {detail}".rstrip())
    if spec.kind == "gpu":
        from accelscope.hardware.achievable import device_ceilings
        from accelscope.hardware.hosts import host_of

        out.print("\n[bold]achievable ceilings[/bold] (what the roofline divides by: measured, else derived)")
        units = {"mem_bandwidth_bytes_per_s": "B/s", "kernel_launch_s": "s", "graph_kernel_s": "s"}
        crows = []
        for key, fig in device_ceilings(spec).items():
            if not fig.known:
                continue
            how = f"derived: {fig.derived}" if fig.derived else f"measured: {fig.source}" + (f" [{fig.note}]" if fig.note else "")
            crows.append([key, _fig(fig, units.get(key, "OP/s" if key == "int8" else "FLOP/s")), how])
        kw = max((len(r[0]) for r in crows), default=0)
        vw = max((len(r[1]) for r in crows), default=0)
        for key, value, detail in crows:
            line(f"  {key:<{kw}}  {value:>{vw}}  {detail}")
        host = host_of(spec)
        op = host.eager_op_s
        line(f"host: {host.label}" + (f", eager {op.number * 1e6:.1f} us per op" if op.known else "")
             + (" (the default host: the file names none)" if not spec.host else ""))
    if spec.cloud:
        out.print("\n[bold]cloud offerings[/bold] (USD per hour for the instance / per device)")
        for o in spec.cloud:
            line(f"  {o.provider} {o.instance}: {o.devices_per_instance} devices, {o.usd_per_hour:.4g} / "
                 f"{o.usd_per_device_hour:.4g} USD/h, {o.pricing}, {o.region or '-'}, {o.date}: {o.source}"
                 + (f" STALE: {o.stale}" if o.stale else ""))


# -- systolic arrays and FPGAs -----------------------------------------------------------------

def simulation(sim, out: Console, *, wide: bool = False) -> None:
    res = sim.result
    cfg, em = res.config, res.energy_model
    out.print(f"[bold]{sim.workload}[/bold] on {cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} array, SRAM "
              f"{cfg.ifmap_sram_bytes // 1024}/{cfg.filter_sram_bytes // 1024}/{cfg.ofmap_sram_bytes // 1024} KiB, "
              f"{si(cfg.clock_hz, 'Hz')}, {cfg.bandwidth_mode} bandwidth, {em.node_nm:g} nm {em.precision}")
    cols = [Col("layer"), Col("count", "right"), Col("M x N x K", "right", drop=4), Col("total cyc", "right"),
            Col("compute cyc", "right", drop=5), Col("stall", "right", drop=6), Col("util", "right"),
            Col("map eff", "right", drop=3), Col("DRAM rd", "right", drop=2), Col("DRAM wr", "right", drop=2),
            Col("energy", "right", drop=1)]
    rows = []
    for r, e in zip(res.layers, res.energies):
        lay = r.layer
        rows.append([r.name, str(lay.count), f"{lay.m}x{lay.n}x{lay.k}", str(r.total_cycles), str(r.compute_cycles),
                     str(r.stall_cycles), f"{r.overall_util:.1%}", f"{r.mapping_eff:.1%}", si(r.dram_reads.total),
                     si(r.dram_writes.total), si(e.total_j, "J")])
    print_table(out, "per layer (one occurrence; x count in totals)", cols, rows, wide=wide)
    en, area = res.energy, res.area_m2
    out.print(f"total {res.total_cycles} cycles (compute {res.compute_cycles}, stalls {res.stall_cycles}), time "
              f"{fmt_seconds(res.time_s)}, utilisation {res.utilisation:.1%}, {si(2 * res.macs / res.time_s, 'OP/s')}")
    out.print(f"energy {si(en.total_j, 'J')} (MAC {si(en.mac_j, 'J')}, registers {si(en.register_j, 'J')}, SRAM "
              f"{si(en.sram_j, 'J')}, DRAM {si(en.dram_j, 'J')}); area {area['total_m2'] * 1e6:.3g} mm^2 (array "
              f"{area['array_m2'] * 1e6:.3g}, SRAM {area['sram_m2'] * 1e6:.3g})")
    notes(out, sim.notes, "yellow")
    for path in sim.written:
        out.print(f"written: {path}")


def row_stationary(sim, out: Console, *, wide: bool = False) -> None:
    res = sim.result
    cfg, em = res.config, res.energy_model
    out.print(f"[bold]{sim.workload}[/bold] on a {cfg.rows}x{cfg.cols} row-stationary array (Eyeriss), spads "
              f"{cfg.ifmap_spad_words}/{cfg.filter_spad_words}/{cfg.psum_spad_words} words, GLB "
              f"{cfg.glb_bytes // 1024} KiB, {si(cfg.clock_hz, 'Hz')}, {em.node_nm:g} nm {em.precision}")
    cols = [Col("layer"), Col("count", "right"), Col("batch", "right", drop=5), Col("n e p q r t m", "right", drop=3),
            Col("PEs", "right", drop=4), Col("cycles", "right"), Col("util", "right"), Col("RF", "right", drop=2),
            Col("array", "right", drop=2), Col("GLB", "right", drop=1), Col("DRAM", "right"), Col("energy", "right")]
    rows = []
    for c in res.layers:
        m = c.mapping
        rows.append([c.layer, str(c.count), str(c.batch), f"{m.n} {m.e} {m.p} {m.q} {m.r} {m.t} {m.m}",
                     str(c.active_pes), str(c.cycles), f"{c.utilisation(cfg):.1%}", si(c.accesses("rf")),
                     si(c.accesses("array")), si(c.accesses("glb")), si(c.accesses("dram")),
                     si(sum(c.energy_by_level_j(em).values()), "J")])
    print_table(out, "per layer (one occurrence; x count in totals); accesses in words", cols, rows, wide=wide)
    e = res.energy_by_level_j()
    out.print(f"total {res.cycles} cycles, time {fmt_seconds(res.time_s)}, utilisation {res.utilisation:.1%}, "
              f"{si(2 * res.macs / res.time_s, 'OP/s')}")
    out.print(f"accesses: RF {si(res.accesses('rf'))}, array {si(res.accesses('array'))}, GLB "
              f"{si(res.accesses('glb'))}, DRAM {si(res.accesses('dram'))} words")
    out.print(f"energy {si(res.energy_j, 'J')} (MAC {si(e['mac'], 'J')}, RF {si(e['rf'], 'J')}, array "
              f"{si(e['array'], 'J')}, GLB {si(e['glb'], 'J')}, DRAM {si(e['dram'], 'J')})")
    notes(out, sim.notes, "yellow")
    for path in sim.written:
        out.print(f"written: {path}")


def dse(job, out: Console, *, top: int = 20, wide: bool = False) -> None:
    res = job.result
    front = res.front()
    out.print(f"[bold]{job.workload}[/bold]: {len(res)} design points ({res.method}), {len(front)} on the "
              "latency/energy/area Pareto front")
    cols = [Col("array", "right"), Col("dataflow", "right"), Col("SRAM KiB i/f/o", "right"), Col("clock", "right"),
            Col("node", "right"), Col("latency", "right"), Col("energy", "right"), Col("area mm^2", "right"),
            Col("util", "right", drop=1)]
    rows = [[f"{p['rows']}x{p['cols']}", p["dataflow"], f"{p['ifmap_sram_kib']}/{p['filter_sram_kib']}/{p['ofmap_sram_kib']}",
             si(p["clock_hz"], "Hz"), f"{p['node_nm']:g} nm", fmt_seconds(p["latency_s"]), si(p["energy_j"], "J"),
             f"{p['area_m2'] * 1e6:.3g}", f"{p['utilisation']:.1%}"] for p in front[:top]]
    print_table(out, f"Pareto front (first {min(top, len(front))}, fastest first)", cols, rows, wide=wide)
    notes(out, list(res.notes) + list(job.notes), "yellow")
    for path in job.written:
        out.print(f"written: {path}")
    if job.run_id is not None:
        out.print(f"stored as run {job.run_id} (accelscope report {job.run_id} draws the front)")


def fpga(priced, out: Console, *, wide: bool = False) -> None:
    e = priced.estimate
    p = e.parameters
    out.print(f"[bold]{e.workload}[/bold] on [bold]{e.hardware}[/bold]: {e.model}, {e.precision} (estimate, no synthesis)")
    fits = {True: "fits", False: "[red]does not fit[/red]", None: "fit unknown"}[e.fits_in_memory]
    energy = (f"{priced.energy_j_per_sample * 1e3:.3g} mJ/inference at {priced.power_w:g} W"
              if priced.energy_j_per_sample is not None else priced.energy_method)
    if p["style"] == "dataflow":
        out.print(f"throughput {si(p['throughput_fps'])} fps, latency {fmt_seconds(p['latency_s'])}, {fits}; "
                  f"{p['limited_by']}")
        r = p["resources"]
        out.print(f"resources: LUT {r['lut']:,}  DSP {r['dsp']:,}  BRAM36 {r['bram36']:g}  URAM {r['uram']}  "
                  f"({p['folding']}); energy: {energy}")
        cols = [Col("layer"), Col("kind"), Col("fold"), Col("cycles", "right"), Col("bound", drop=4),
                Col("latency", "right"), Col("mults", "right", drop=3), Col("LUT", "right"), Col("DSP", "right"),
                Col("BRAM18", "right", drop=2), Col("mem", drop=1)]
        rows = []
        for lr in p["layers"]:
            f, rr = lr["fold"], lr["resources"]
            rows.append([lr["layer"]["name"], lr["layer"]["kind"],
                         f"RF {f['reuse_factor']}" if "reuse_factor" in f else f"PE {f['pe']} SIMD {f['simd']}",
                         f"{lr['cycles']:,}", lr["bound"], fmt_seconds(lr["done_cycles"] / p["clock_hz"]),
                         f"{rr['multipliers']:,}", f"{rr['lut']:,}", str(rr["dsp"]), str(rr["bram18"]), lr["mem_style"]])
        print_table(out, "per layer", cols, rows, wide=wide)
    else:
        out.print(f"{p['cores']} x {p['arch']} at {p['clock_hz'] / 1e6:.0f} MHz ({p['peak_ops_per_clock']} ops/clock/core): "
                  f"latency {fmt_seconds(p['latency_s'])}, {si(p['fps_single_thread'])} fps single-threaded, "
                  f"{si(p['fps_multi_thread'])} fps multi-threaded, efficiency {p['efficiency']:.0%}, {fits}; "
                  f"energy: {energy}")
        rows = [[lr["layer"]["name"], lr["layer"]["kind"], f"{lr['cycles']:,}", fmt_seconds(lr["time_s"]),
                 f"{lr['efficiency']:.0%}", lr["bound"]] for lr in p["layers"]]
        print_table(out, "per layer (one core)", [Col("layer"), Col("kind"), Col("cycles", "right"), Col("time", "right"),
                                                  Col("efficiency", "right"), Col("bound")], rows, wide=wide)
    notes(out, list(e.notes) + list(priced.notes))


def grids(rows, out: Console, *, wide: bool = False) -> None:
    """``accelscope hardware grids``: each grid's or cloud region's intensity, year and source."""
    cols = [Col("code"), Col("name"), Col("kind", drop=2), Col("year", "right"), Col("g CO2(e)/kWh", "right"),
            Col("source", drop=1)]
    print_table(out, "location-based grid carbon intensity (yearly averages)", cols,
                [[g.code, g.name, g.kind, str(g.year or "-"), f"{g.g_co2_per_kwh:,.0f}", g.source] for g in rows],
                wide=wide)
    licences = sorted({g.licence for g in rows if g.licence})
    if licences:
        out.print(f"[dim]licences: {'; '.join(licences)}[/dim]")
