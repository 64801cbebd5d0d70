"""report: stored runs as one self-contained HTML page (and, on request, static images).

Which runs: the ones named (ids, ``latest``, ``latest~N``), else the latest ``explore``
(its estimate run). An estimate run brings the runs that are ``part_of`` it (the measurements
and profiled ops ``explore`` stored with it); with no run named, the newest calibration, dse
front, FPGA design and job of each kind and every serving and distributed measurement come too
(:func:`select_runs`). Points are grouped by workload (model, task, batch size, sequence length, image
size), so a measured and a predicted figure of the same step sit in one chart.

Every figure shown is a stored one (a speedup is the ratio of two stored throughputs), so the
report of a team's shared store is the same on every machine. Nothing is written until every
run asked for has been found; the page goes to a temporary file renamed into place, and a file
that is not an accelscope report is not replaced without ``force``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from accelscope._version import __version__
from accelscope.errors import ConfigError
from accelscope.jobs.job import job_options
from accelscope.report import charts as ch
from accelscope.report import html
from accelscope.store import Store, StoreError

#: the first bytes of every page ``report`` writes (how a page of ours is told from other files)
MARKER = html.HEAD


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportResult:
    path: Path
    runs: tuple[int, ...]
    charts: int
    images: tuple[Path, ...] = ()

    def to_dict(self) -> dict:
        return {"path": str(self.path), "runs": list(self.runs), "charts": self.charts,
                "images": [str(p) for p in self.images]}


def _workload_key(spec: dict) -> tuple:
    return tuple(spec.get(k) for k in ("model", "task", "batch_size", "seq_len", "image_size"))


def _label(spec: dict) -> str:
    size = f" seq {spec['seq_len']}" if spec.get("seq_len") else (
        f" {spec['image_size']}px" if spec.get("image_size") else "")
    return f"{spec.get('model')} {spec.get('task')} batch {spec.get('batch_size')}{size}"


def select_runs(store: Store, refs: Sequence[str | int] | None) -> list:
    """The runs to report (RunRecords, oldest first): those named, with their parts; with none
    named, the latest explore's, plus the newest calibration of each device, the newest dse of
    each workload, the newest fpga design of each (workload, board), the newest job of each
    (model, kind, hardware), and every distributed and
    serving measurement (the points of the scaling and latency-throughput curves). Raises StoreError for a
    run that does not exist."""
    runs = store.list_runs()
    if refs:
        ids = [store.resolve_run_id(r) for r in refs]
    else:
        latest = next((r for r in runs if r.kind == "estimate"), None)
        if latest is None:
            if not runs:
                raise StoreError(f"the store {store.location} has no runs to report; run `accelscope explore` "
                                 "(or bench, calibrate) first")
            latest = runs[0]
        ids = [latest.id]
    chosen = set(ids)
    chosen |= {r.id for r in runs if r.config.get("part_of") in chosen}
    if not refs:  # the newest calibration of each device, dse of each workload, fpga design, job of each
        newest: dict[tuple, int] = {}
        for r in runs:  # newest first
            if r.kind in ("calibration", "dse", "fpga", "job") and r.status == "complete":
                newest.setdefault((r.kind, r.label), r.id)
        chosen |= set(newest.values())
        # every measured point of a scaling or latency-throughput curve
        chosen |= {r.id for r in runs if r.kind in ("distributed", "serve") and r.status == "complete"}
    by_id = {r.id: r for r in runs}
    return [by_id[i] for i in sorted(chosen)]


def build(store: Store, refs: Sequence[str | int] | None = None, *,
          progress: Callable[[str], None] | None = None) -> tuple[list, list[ch.Section]]:
    """The runs reported and the report's sections (charts and tables), from the store."""
    runs = select_runs(store, refs)
    workloads: dict[tuple, dict] = {}
    #: the points of runs drawn as charts of their own: calibrations, DSE fronts, FPGA designs, curves
    single: dict[str, list[tuple[int, dict]]] = {k: [] for k in ("calibration", "dse", "fpga", "distributed", "serve",
                                                                  "job")}
    method: list[ch.Section] = []
    for run in runs:
        if progress:
            progress(f"reading run {run.id}")
        points = store.points(run.id, samples=False)
        if run.kind in single:
            single[run.kind].extend((run.id, p) for p in points)
            continue
        measured = []
        for p in points:
            spec = p.get("spec")
            if not isinstance(spec, dict) or p.get("point_kind") not in ("measurement", "estimate", "profile"):
                continue
            w = workloads.setdefault(_workload_key(spec), {"label": _label(spec), "measured": [], "predicted": [],
                                                           "profiles": {}})
            if p["point_kind"] == "measurement":
                w["measured"].append(p)
                measured.append(p)
            elif p["point_kind"] == "estimate":
                w["predicted"].append(p)
            else:
                w["profiles"][spec.get("precision")] = p
        if run.kind == "measurement" and measured:
            method.append(ch.methodology_section(run.to_dict(), measured))
    sections = [ch.runs_section([r.to_dict() for r in runs])]
    labels = {r.id: r.label for r in runs}
    for w in workloads.values():
        if progress:
            progress(f"charting {w['label']}")
        section = ch.workload_section(ch.Workload(label=w["label"], measured=tuple(w["measured"]),
                                                  predicted=tuple(w["predicted"]), profiles=w["profiles"]))
        if section.charts:
            sections.append(section)
    for title, charts in (
            ("predictions against measurements (calibrations)",
             [ch.calibration_chart(rid, rec) for rid, rec in single["calibration"]]),
            ("systolic-array design space (dse)", [ch.dse_chart(rid, rec) for rid, rec in single["dse"]]),
            ("FPGA designs: resource fit", [ch.fpga_chart(single["fpga"])]),
            ("multi-process training: scaling", [ch.scaling_chart(single["distributed"])]),
            ("serving: latency against throughput", [ch.serving_chart(single["serve"])]),
            ("whole jobs: cost per way to run them",
             [ch.job_chart(rid, labels[rid], job_options(rec)) for rid, rec in single["job"]])):
        drawn = tuple(c for c in charts if c is not None)
        if drawn:
            sections.append(ch.Section(title=title, charts=drawn))
    return runs, sections + method


def check_output(out: str | Path, force: bool = False) -> None:
    """Refuse (ConfigError) an output the report may not write: a directory, a missing parent,
    a file that is not an accelscope report (without ``force``)."""
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a directory; give a file name such as {str(out / 'report.html')!r}")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {str(out)!r}: the directory {str(out.parent)!r} does not exist")
    if out.exists() and not force:
        with out.open("rb") as fh:
            head = fh.read(len(MARKER.encode()))
        if head != MARKER.encode():
            raise ConfigError(f"--out {str(out)!r} exists and is not an accelscope report; nothing was written: "
                              "give another file, or --force to replace it")


def write_report(store: Store, out: str | Path, refs: Sequence[str | int] | None = None, *,
                 png: str | Path | None = None, svg: str | Path | None = None, force: bool = False,
                 title: str | None = None, progress: Callable[[str], None] | None = None) -> ReportResult:
    """Write the report of ``refs`` (default: the latest explore) from ``store`` to ``out``;
    with ``png`` / ``svg``, every chart also as an image in that directory."""
    out = Path(out)
    check_output(out, force)
    for d in (png, svg):
        if d is not None and Path(d).exists() and not Path(d).is_dir():
            raise ConfigError(f"image directory {str(d)!r} is a file; give a directory")
    runs, sections = build(store, refs, progress=progress)
    charts = [c for s in sections for c in s.charts]
    if progress:
        progress(f"rendering {len(charts)} charts")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    page = html.render(title or "accelscope report", sections,
                       generated=f"made {now} by accelscope {__version__}", source=f"store {store.location}")
    assert page.startswith(MARKER)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a page anyone may read, as any file the user makes (mkstemp's is 0600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    images: list[Path] = []
    for directory, fmt in ((png, "png"), (svg, "svg")):
        if directory is not None:
            from accelscope.report import figures

            if progress:
                progress(f"drawing {len(charts)} {fmt} images")
            images += figures.save(charts, directory, fmt)
    return ReportResult(path=out, runs=tuple(r.id for r in runs), charts=len(charts), images=tuple(images))
