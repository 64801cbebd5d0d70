"""The report's charts as plain data: what each chart shows, built from stored records.

A :class:`Chart` is a list of traces (bars, markers or lines) with its axes, and the same data
as a table. The HTML renderer (``report.html``, plotly) and the static one
(``report.figures``, matplotlib) draw the same Chart, so a figure in a paper and the
interactive report cannot disagree. Nothing here reads the store or runs a model: the
inputs are the records the store keeps (``Priced.to_dict()`` estimates, measurements,
profile op summaries, calibration records), grouped by ``jobs.report``.

Charts:

* speedup over the local CPU, measured and predicted bars marked apart (ranked, top N);
* a roofline per device: the attainable FLOP/s ``min(peak, bandwidth x intensity)``
  (Williams, Waterman and Patterson, CACM 2009) with the workload's ops placed at their
  arithmetic intensity (FLOPs / bytes moved) on that device's roof, sized by their FLOPs;
* predicted time by op category and by phase (stacked bars);
* energy per sample against dollars per million samples;
* predicted against measured step times of a calibration, with its error;
* a systolic design-space exploration's Pareto front (latency, energy, area);
* FPGA designs' resource fit (LUT, DSP, BRAM, URAM as shares of the device);
* measured scaling of multi-process training (samples/s against ranks, beside ideal), and
  measured serving's latency against throughput (TPOT against output tokens/s);
* a whole job's cost per way to run it (cloud offerings, buying, building);

and two sections of tables: the runs a report is made of, and each measurement run's
environment and methodology.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

#: bars and markers: a measured figure is drawn solid, a predicted one hatched / open
SOURCES = ("measured", "predicted")


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    name: str
    x: tuple
    y: tuple
    kind: str = "bar"            #: bar | markers | lines | lines+markers
    source: str = "predicted"    #: measured | predicted (how it is drawn)
    hover: tuple[str, ...] | None = None
    size: tuple[float, ...] | None = None  #: marker sizes (px)
    color: str | None = None     #: a named colour for the trace; None: the renderer's cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    id: str
    title: str
    traces: tuple[Trace, ...]
    x_title: str
    y_title: str
    columns: tuple[str, ...]     #: the chart's data as a table
    rows: tuple[tuple, ...]
    x_log: bool = False
    y_log: bool = False
    horizontal: bool = False     #: bars along x (the categories on y)
    stacked: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    title: str
    charts: tuple[Chart, ...] = ()
    tables: tuple[tuple[str, tuple[str, ...], tuple[tuple, ...]], ...] = ()  #: (caption, columns, rows)
    text: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """What the report shows of one workload: its label, measured points (measurement records),
    predicted points (estimate records) and profiled ops by precision."""

    label: str
    measured: tuple[dict, ...] = ()
    predicted: tuple[dict, ...] = ()
    profiles: dict[str, dict] = field(default_factory=dict)


def _fmt(v: Any, digits: int = 4) -> Any:
    """A table cell: floats at ``digits`` significant digits, None as empty."""
    if v is None:
        return ""
    if isinstance(v, float):
        return float(f"{v:.{digits}g}") if math.isfinite(v) else str(v)
    return v


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _fastest(w: Workload) -> list[dict]:
    """The workload's predictions, highest throughput first."""
    return sorted(w.predicted, key=lambda e: -(e.get("throughput_samples_per_s") or 0))


def cpu_throughput(w: Workload) -> float | None:
    """The measured throughput of the local CPU (the speedup baseline), if it was measured."""
    return next((m["throughput_samples_per_s"] for m in w.measured
                 if m.get("device") == "cpu" and m.get("status") == "ok" and m.get("throughput_samples_per_s")), None)


def ranked_rows(w: Workload) -> list[dict]:
    """Every device of the workload, measured and predicted, ranked by throughput: the figures
    the store holds, with the speedup over the measured local CPU."""
    base = cpu_throughput(w)
    rows = []
    for m in w.measured:
        st = m.get("step_time_s") or {}
        rows.append({"device": m["device"] + (f" ({m['device_model']})" if m.get("device_model") else ""),
                     "source": "measured", "precision": m.get("precision"), "step_time_s": st.get("median"),
                     "throughput": m.get("throughput_samples_per_s"),
                     "energy_j_per_sample": m.get("energy_j_per_sample"), "energy_method": m.get("energy_method"),
                     "usd_per_million": None, "offering": None, "price_date": None, "model": "measured",
                     "status": m.get("status")})
    for e in w.predicted:
        rows.append({"device": e["hardware"], "source": "predicted", "precision": e.get("precision"),
                     "step_time_s": e.get("step_time_s"), "throughput": e.get("throughput_samples_per_s"),
                     "energy_j_per_sample": e.get("energy_j_per_sample"), "energy_method": e.get("energy_method"),
                     "usd_per_million": e.get("usd_per_million_samples"), "offering": e.get("offering"),
                     "price_date": e.get("price_date"), "model": e.get("model"), "status": "ok"})
    for r in rows:
        r["speedup"] = r["throughput"] / base if base and r["throughput"] else None
    return sorted(rows, key=lambda r: -(r["throughput"] or 0.0))


def speedup_chart(w: Workload, top: int = 15) -> Chart:
    rows = ranked_rows(w)
    with_speedup = [r for r in rows if r["speedup"] is not None]
    fastest = [r for r in with_speedup if r["source"] == "predicted"][:top]
    shown = [r for r in with_speedup if r in fastest or r["source"] == "measured"]  # ranked; every measured row
    shown.reverse()  # horizontal bars: the fastest on top
    traces = tuple(
        Trace(name=src, source=src, x=tuple(r["speedup"] for r in shown if r["source"] == src),
              y=tuple(r["device"] for r in shown if r["source"] == src),
              hover=tuple(f"{r['device']}: {r['throughput']:.4g} samples/s, {r['precision']}, {r['model']}"
                          for r in shown if r["source"] == src))
        for src in SOURCES if any(r["source"] == src for r in shown))
    cols = ("rank", "device", "source", "precision", "step time (s)", "samples/s", "speedup vs local CPU",
            "J/sample", "$/M samples", "offering", "price date", "model")
    table = tuple((i + 1, r["device"], r["source"], r["precision"], _fmt(r["step_time_s"]), _fmt(r["throughput"]),
                   _fmt(r["speedup"], 3), _fmt(r["energy_j_per_sample"]), _fmt(r["usd_per_million"]),
                   r["offering"] or "", r["price_date"] or "", r["model"] or "") for i, r in enumerate(rows))
    note = "" if cpu_throughput(w) else "the local CPU was not measured: no speedups (the table still ranks)"
    # measured and predicted bars are of different devices: stacked, each is drawn at full width
    return Chart(id=f"speedup-{_slug(w.label)}",
                 title=f"{w.label}: speedup over the local CPU (the {len(fastest)} fastest predicted, every measured)",
                 traces=traces, x_title="speedup over the measured local CPU (x)", y_title="", x_log=True,
                 horizontal=True, stacked=True, columns=cols, rows=table, note=note)


def _roof(e: dict) -> tuple[float, float] | None:
    """(peak FLOP/s, bandwidth B/s) of an estimate's device, where its model states both."""
    peak = e.get("peak_flops_per_s")
    bw = (e.get("parameters") or {}).get("bandwidth_bytes_per_s")
    return (float(peak), float(bw)) if peak and bw else None


def roofline_chart(w: Workload, e: dict) -> Chart | None:
    """The device's roofline with the workload's ops (in the estimate's precision) on it."""
    roof, prof = _roof(e), w.profiles.get(e.get("precision"))
    if roof is None or prof is None:
        return None
    peak, bw = roof
    ops = [o for o in prof["ops"] if o["flops"] > 0 and o["bytes"] > 0]
    if not ops:
        return None
    ai = [o["flops"] / o["bytes"] for o in ops]
    lo, hi = min(min(ai), peak / bw) / 4, max(max(ai), peak / bw) * 4
    xs = tuple(lo * (hi / lo) ** (i / 48) for i in range(49))
    traces = [Trace(name=f"roof: {peak / 1e12:.4g} TFLOP/s, {bw / 1e9:.4g} GB/s", kind="lines", x=xs,
                    y=tuple(min(peak, bw * x) for x in xs), color="black")]
    total = sum(o["flops"] * o["count"] for o in ops)
    by_cat: dict[str, list[tuple[dict, float]]] = {}
    for o, a in zip(ops, ai):
        by_cat.setdefault(o["category"], []).append((o, a))
    for cat, members in sorted(by_cat.items()):
        traces.append(Trace(
            name=cat, kind="markers", x=tuple(a for _, a in members), y=tuple(min(peak, bw * a) for _, a in members),
            size=tuple(6 + 24 * math.sqrt(o["flops"] * o["count"] / total) for o, _ in members),
            hover=tuple(f"{o['name']} ({o['phase']}) x{o['count']}: {o['flops']:.3g} FLOPs, {o['bytes']:.3g} B, "
                        f"{a:.3g} FLOP/B" for o, a in members)))
    rows = tuple(sorted(((o["name"], o["category"], o["phase"], o["count"], o["flops"], o["bytes"], _fmt(a),
                          _fmt(min(peak, bw * a) / 1e12), "memory" if bw * a < peak else "compute")
                         for o, a in zip(ops, ai)), key=lambda r: -r[4] * r[3]))
    return Chart(id=f"roofline-{_slug(w.label)}-{_slug(e['hardware'])}",
                 title=f"{w.label} on {e['hardware']} ({e.get('precision')}): roofline, ops at their intensity",
                 traces=tuple(traces), x_title="arithmetic intensity (FLOP per byte moved)",
                 y_title="attainable FLOP/s", x_log=True, y_log=True,
                 columns=("op", "category", "phase", "calls", "FLOPs per call", "bytes per call", "FLOP/B",
                          "attainable TFLOP/s", "bound"), rows=rows,
                 note=f"ridge point {peak / bw:.3g} FLOP/B; marker area ~ the op's share of the FLOPs")


def _stacked(w: Workload, key: str, what: str, top: int) -> Chart | None:
    ests = [e for e in _fastest(w) if e.get(key)][:top]
    if not ests:
        return None
    names = list(dict.fromkeys(k for e in ests for k in e[key]))
    devices = tuple(e["hardware"] for e in ests)
    traces = tuple(Trace(name=n, x=devices, y=tuple(e[key].get(n, 0.0) * 1e3 for e in ests)) for n in names)
    rows = tuple((e["hardware"], *(_fmt(e[key].get(n, 0.0) * 1e3) for n in names)) for e in ests)
    return Chart(id=f"{_slug(what)}-{_slug(w.label)}", title=f"{w.label}: predicted step time by {what}",
                 traces=traces, x_title="", y_title="ms per step", stacked=True,
                 columns=("device", *(f"{n} (ms)" for n in names)), rows=rows)


def category_chart(w: Workload, top: int = 10) -> Chart | None:
    return _stacked(w, "time_by_category_s", "op category", top)


def phase_chart(w: Workload, top: int = 10) -> Chart | None:
    return _stacked(w, "time_by_phase_s", "phase", top)


def energy_cost_chart(w: Workload) -> Chart | None:
    rows = [r for r in ranked_rows(w) if r["energy_j_per_sample"] is not None]
    if not rows:
        return None
    priced = [r for r in rows if r["usd_per_million"] is not None]
    traces = tuple(Trace(name=f"{src}", source=src, kind="markers",
                         x=tuple(r["energy_j_per_sample"] for r in priced if r["source"] == src),
                         y=tuple(r["usd_per_million"] for r in priced if r["source"] == src),
                         hover=tuple(f"{r['device']} ({r['offering']}, {r['price_date']})"
                                     for r in priced if r["source"] == src))
                   for src in SOURCES if any(r["source"] == src for r in priced))
    table = tuple((r["device"], r["source"], _fmt(r["energy_j_per_sample"]), r["energy_method"] or "",
                   _fmt(r["usd_per_million"]), r["offering"] or "", r["price_date"] or "") for r in rows)
    return Chart(id=f"energy-cost-{_slug(w.label)}", title=f"{w.label}: energy per sample and dollars per million samples",
                 traces=traces, x_title="J per sample", y_title="$ per million samples (cheapest offering)",
                 x_log=True, y_log=True,
                 columns=("device", "source", "J/sample", "energy method", "$/M samples", "offering", "price date"),
                 rows=table, note="" if priced else "no device here has a dated price: the table lists the energy")


def calibration_chart(run_id: int, record: dict) -> Chart | None:
    """A calibration's per-point predictions against the measurements it was fitted to."""
    points = record.get("points") or []
    if not points:
        return None
    meas = tuple(p["measured_s"] * 1e3 for p in points)
    pred = tuple(p["predicted_s"] * 1e3 for p in points)
    unc = tuple(None if p.get("uncalibrated_error") is None else p["measured_s"] * (1 + p["uncalibrated_error"]) * 1e3
                for p in points)
    lo, hi = min(meas + pred) / 2, max(meas + pred) * 2
    traces = [Trace(name="measured = predicted", kind="lines", x=(lo, hi), y=(lo, hi), color="gray"),
              Trace(name="calibrated", kind="markers", x=meas, y=pred, hover=tuple(p["workload"] for p in points))]
    if any(u is not None for u in unc):
        traces.append(Trace(name="uncalibrated", kind="markers", x=tuple(m for m, u in zip(meas, unc) if u),
                            y=tuple(u for u in unc if u), hover=tuple(p["workload"] for p, u in zip(points, unc) if u)))
    med = record.get("median_abs_error")
    held = record.get("held_out_median_abs_error")
    title = (f"calibration run {run_id}: {record.get('device')} ({record.get('hardware') or 'no catalog entry'}), "
             f"median |error| {med:.1%}" + (f", held out {held:.1%}" if held is not None else ""))
    rows = tuple((p["workload"], _fmt(p["measured_s"] * 1e3), _fmt(p["predicted_s"] * 1e3), _fmt(p["error"], 3),
                  _fmt(p.get("held_out_error"), 3), _fmt(p.get("uncalibrated_error"), 3)) for p in points)
    return Chart(id=f"calibration-{run_id}", title=title, traces=tuple(traces), x_title="measured ms per step",
                 y_title="predicted ms per step", x_log=True, y_log=True,
                 columns=("workload", "measured (ms)", "predicted (ms)", "error", "held-out error",
                          "uncalibrated error"), rows=rows,
                 note="accepted" if record.get("accepted", True) else f"rejected: {record.get('reason')}")


def workload_section(w: Workload, *, rooflines: int = 3) -> Section:
    """Every chart of one workload: speedups, rooflines of the fastest devices, time by category
    and phase, energy and dollars."""
    charts: list[Chart | None] = [speedup_chart(w)]
    charts += [c for c in (roofline_chart(w, e) for e in _fastest(w)) if c is not None][:rooflines]
    charts += [category_chart(w), phase_chart(w), energy_cost_chart(w)]
    return Section(title=w.label, charts=tuple(c for c in charts if c is not None))


def dse_chart(run_id: int, record: dict) -> Chart | None:
    """A systolic design-space exploration's Pareto front: latency against energy, each point a
    design (marker area ~ its silicon area)."""
    front = record.get("pareto_front") or []
    if not front:
        return None
    big = max(p["area_m2"] for p in front) or 1.0
    by_df: dict[str, list[dict]] = {}
    for p in front:
        by_df.setdefault(p["dataflow"], []).append(p)
    traces = tuple(Trace(
        name=f"dataflow {df}", kind="markers", x=tuple(p["latency_s"] * 1e3 for p in pts),
        y=tuple(p["energy_j"] * 1e3 for p in pts), size=tuple(6 + 18 * math.sqrt(p["area_m2"] / big) for p in pts),
        hover=tuple(f"{p['rows']}x{p['cols']} {df}, SRAM {p['ifmap_sram_kib']}/{p['filter_sram_kib']}/"
                    f"{p['ofmap_sram_kib']} KiB, {p['clock_hz'] / 1e9:g} GHz, {p['node_nm']:g} nm, "
                    f"{p['area_m2'] * 1e6:.3g} mm2" for p in pts)) for df, pts in sorted(by_df.items()))
    rows = tuple((f"{p['rows']}x{p['cols']}", p["dataflow"], p["ifmap_sram_kib"], p["filter_sram_kib"],
                  p["ofmap_sram_kib"], _fmt(p["clock_hz"] / 1e9), _fmt(p["node_nm"]), _fmt(p["latency_s"] * 1e3),
                  _fmt(p["energy_j"] * 1e3), _fmt(p["area_m2"] * 1e6), _fmt(p["utilisation"], 3)) for p in front)
    return Chart(id=f"dse-{run_id}", title=f"dse run {run_id}: {record.get('workload')}: Pareto front of "
                 f"{len(front)} designs out of {record.get('points')} ({record.get('method')})",
                 traces=traces, x_title="latency (ms)", y_title="energy (mJ)", x_log=True, y_log=True,
                 columns=("array", "dataflow", "ifmap KiB", "filter KiB", "ofmap KiB", "clock (GHz)", "node (nm)",
                          "latency (ms)", "energy (mJ)", "area (mm2)", "utilisation"), rows=rows,
                 note="marker area ~ the design's silicon area")


def fpga_chart(designs: Sequence[tuple[int, dict]]) -> Chart | None:
    """FPGA designs' resource fit: each resource's share of the device (above 100%: does not fit)."""
    designs = [(rid, e) for rid, e in designs if (e.get("parameters") or {}).get("utilisation")]
    if not designs:
        return None
    names = [f"run {rid}: {e['workload']} on {e['hardware']} ({e['parameters'].get('style')})" for rid, e in designs]
    resources = list(dict.fromkeys(k for _, e in designs for k in e["parameters"]["utilisation"]))
    traces = tuple(Trace(name=res, x=tuple(names), y=tuple(100 * (e["parameters"]["utilisation"].get(res) or 0.0)
                                                          for _, e in designs)) for res in resources)
    fits = {True: "fits", False: "does not fit", None: "unknown"}
    rows = tuple((n, e["parameters"].get("style"), *(_fmt(100 * e["parameters"]["utilisation"][r], 3)
                                                     if e["parameters"]["utilisation"].get(r) is not None else ""
                                                     for r in resources),
                  fits[e.get("fits_in_memory")], _fmt(e.get("throughput_samples_per_s")))
                 for n, (_, e) in zip(names, designs))
    return Chart(id="fpga-fit", title="FPGA designs: resources used, % of the device", traces=traces, x_title="",
                 y_title="% of the device", columns=("design", "style", *(f"{r} %" for r in resources), "fit",
                                                     "frames/s"), rows=rows,
                 note="a bar above 100% is a resource the design does not fit in")


def scaling_chart(runs: Sequence[tuple[int, dict]]) -> Chart | None:
    """Measured multi-process training (``bench --nproc-per-node``): samples/s against ranks per
    workload and strategy, beside ideal linear scaling from the fewest ranks measured."""
    pts = [(rid, d) for rid, d in runs if d.get("throughput_samples_per_s") and d.get("world")]
    if not pts:
        return None
    groups: dict[str, list[tuple[int, dict]]] = {}
    for rid, d in pts:
        groups.setdefault(f"{d['spec']['model']} {d['spec']['task']} b{d['spec']['batch_size']} "
                          f"{d['world']['strategy']} ({d['world']['backend']})", []).append((rid, d))
    traces, rows = [], []
    for name, members in sorted(groups.items()):
        members.sort(key=lambda m: m[1]["world"]["world_size"])
        n = [m[1]["world"]["world_size"] for m in members]
        tput = [m[1]["throughput_samples_per_s"] for m in members]
        traces.append(Trace(name=name, kind="lines+markers", source="measured", x=tuple(n), y=tuple(tput)))
        traces.append(Trace(name=f"{name}: ideal", kind="lines", x=tuple(n), y=tuple(tput[0] * k / n[0] for k in n),
                            color="gray"))
        rows += [(rid, name, d["world"]["world_size"], d["world"]["nnodes"], _fmt(d.get("step_time_s")),
                  _fmt(d["throughput_samples_per_s"]), _fmt(d.get("scaling_efficiency"), 3)) for rid, d in members]
    return Chart(id="scaling", title="measured scaling: samples/s against processes", traces=tuple(traces),
                 x_title="processes (ranks)", y_title="samples/s (all ranks)",
                 columns=("run", "workload", "ranks", "nodes", "step (slowest rank, s)", "samples/s", "E(N)"),
                 rows=tuple(rows), note="ideal: the fewest ranks' throughput times the ranks")


def serving_chart(runs: Sequence[tuple[int, dict]]) -> Chart | None:
    """Measured serving (``bench --task serve``, a static batch of requests): time per output
    token against output tokens/s, one point per stored run (batch size), per model and device."""
    pts = [(rid, d) for rid, d in runs if d.get("output_tokens_per_s")]
    if not pts:
        return None
    groups: dict[str, list[tuple[int, dict]]] = {}
    for rid, d in pts:
        groups.setdefault(f"{d['spec']['model']} on {d['device']}", []).append((rid, d))
    traces, rows = [], []
    for name, members in sorted(groups.items()):
        members.sort(key=lambda m: m[1]["output_tokens_per_s"])
        traces.append(Trace(name=name, kind="lines+markers", source="measured",
                            x=tuple(m[1]["output_tokens_per_s"] for m in members),
                            y=tuple(m[1]["tpot_s"] * 1e3 for m in members),
                            hover=tuple(f"batch {m[1]['spec'].get('batch_size')}: TTFT "
                                        f"{m[1]['ttft_s'] * 1e3:.3g} ms" for m in members)))
        rows += [(rid, name, d["spec"].get("batch_size"), d["spec"].get("input_tokens"),
                  d["spec"].get("output_tokens"), _fmt(d["ttft_s"] * 1e3), _fmt(d["tpot_s"] * 1e3),
                  _fmt(d["output_tokens_per_s"])) for rid, d in members]
    return Chart(id="serving", title="measured serving: time per output token against throughput",
                 traces=tuple(traces), x_title="output tokens/s", y_title="TPOT (ms)",
                 columns=("run", "model and device", "batch", "input tokens", "output tokens", "TTFT (ms)",
                          "TPOT (ms)", "output tokens/s"), rows=tuple(rows))


def job_chart(run_id: int, label: str, options: Sequence[dict], top: int = 15) -> Chart | None:
    """A stored job's (or advice's) ways to run it: dollars for the whole job per option
    (cloud offering, purchase, build), cheapest first, coloured by kind; an advice's options
    that fail its constraints say which in the table."""
    priced = sorted((o for o in options if o.get("usd") is not None), key=lambda o: o["usd"])
    if not priced:
        return None
    shown = priced[:top]
    kinds = list(dict.fromkeys(o["kind"] for o in shown))

    def name(o: dict) -> str:
        return f"{o['devices']}x {o['hardware']}: {o['option']}"

    traces = tuple(Trace(name=kind, x=tuple(o["usd"] for o in shown if o["kind"] == kind),
                         y=tuple(name(o) for o in shown if o["kind"] == kind),
                         hover=tuple(f"{o['wall_time_s'] / 86400:.3g} days, {o['device_hours']:.4g} device-hours"
                                     for o in shown if o["kind"] == kind)) for kind in kinds)
    rows = tuple((o["option"], o["kind"], o["hardware"], o["devices"], _fmt(o["wall_time_s"] / 86400),
                  _fmt(o["device_hours"]), _fmt(o.get("energy_kwh")), _fmt(o.get("tco2e")), _fmt(o.get("usd")),
                  (o.get("price") or {}).get("date") or "", "; ".join(o.get("fails") or ()))
                 for o in sorted(options, key=lambda o: (o.get("usd") is None, o.get("usd") or 0.0)))
    more = f"the cheapest {top} of {len(priced)} drawn, all in the table; " if len(priced) > top else ""
    return Chart(id=f"job-{run_id}", title=f"job run {run_id}: {label}: cost of the whole job",
                 traces=traces, x_title="USD for the whole job", y_title="", horizontal=True, x_log=True,
                 columns=("option", "kind", "hardware", "devices", "wall (days)", "device-hours", "energy (kWh)",
                          "tCO2e", "USD", "price date", "fails"), rows=rows,
                 note=f"{more}each option's price carries its date and source (accelscope job --json)")


def methodology_section(run: dict, points: Sequence[dict]) -> Section:
    """A measurement run's environment and methodology, and each point's statistics."""
    env = run.get("environment") or {}
    cfg = run.get("config") or {}
    text = [f"run {run['id']} ({run['kind']}, {run['status']}) made by {run.get('user') or 'an unrecorded user'} "
            f"on {run.get('hostname')} at {run['created_at']}; command: {run.get('command') or '(api)'}",
            f"accelscope {env.get('accelscope_version')}, Python {env.get('python_version')}, torch "
            f"{env.get('torch_version')}, CUDA {env.get('cuda_version')}, GPU driver {env.get('gpu_driver')}; "
            f"CPU {env.get('cpu_model')} ({env.get('physical_cores')} cores / {env.get('logical_cores')} threads), "
            f"{env.get('torch_threads')} torch threads; GPUs: "
            f"{', '.join(g.get('name', '?') for g in env.get('gpus', [])) or 'none'}; OS {env.get('os')}",
            f"method: warm-up until steady, then timed until the median's 95% CI is within 1% or the cap of "
            f"{cfg.get('max_time_s')} s per point; energy from hardware counters over windows of at least "
            f"{cfg.get('min_energy_window_s')} s where the device has one"]
    rows = []
    for p in points:
        st = p.get("step_time_s") or {}
        med = st.get("median")
        rows.append((p.get("device"), p.get("task"), p.get("batch_size"), p.get("precision"), p.get("threads"),
                     p.get("status"), _fmt(med), _fmt(st.get("p10")), _fmt(st.get("p90")),
                     _fmt(st["iqr"] / med, 3) if med and st.get("iqr") is not None else "", st.get("n") or "",
                     p.get("verdict") or "", _fmt(p.get("cold_start_s")), p.get("energy_method") or "",
                     p.get("error") or ""))
    cols = ("device", "task", "batch", "precision", "threads", "status", "median (s)", "p10 (s)", "p90 (s)",
            "IQR/median", "samples", "verdict", "cold start (s)", "energy method", "error")
    return Section(title=f"measurement run {run['id']}: environment and methodology", text=tuple(text),
                   tables=((f"points of run {run['id']}", cols, tuple(rows)),))


def runs_section(runs: Sequence[dict]) -> Section:
    """The runs a report is made of: who made each, where and when, with what command."""
    cols = ("id", "kind", "label", "status", "points", "user", "host", "created (UTC)", "command")
    rows = tuple((r["id"], r["kind"], r["label"], r["status"], r["n_points"], r.get("user") or "",
                  r.get("hostname") or "", r["created_at"], r.get("command") or "") for r in runs)
    return Section(title="runs in this report", tables=(("runs", cols, rows),))
