"""Export stored runs as JSON (everything, raw samples included) or CSV (one row per point)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from accelscope.errors import ConfigError
from accelscope.store.db import Store

FORMATS = ("json", "csv")

#: CSV columns: (header, path into the point record).
CSV_COLUMNS: list[tuple[str, tuple]] = [
    ("run_id", ("run_id",)), ("point", ("point_seq",)), ("model", ("model",)), ("device", ("device",)),
    ("device_model", ("device_model",)), ("task", ("task",)), ("batch_size", ("batch_size",)),
    ("precision", ("precision",)), ("compile", ("compile",)), ("channels_last", ("channels_last",)),
    ("threads", ("threads",)), ("status", ("status",)), ("error", ("error",)),
    ("step_time_s_median", ("step_time_s", "median")), ("step_time_s_mean", ("step_time_s", "mean")),
    ("step_time_s_p10", ("step_time_s", "p10")), ("step_time_s_p90", ("step_time_s", "p90")),
    ("step_time_s_iqr", ("step_time_s", "iqr")), ("step_time_s_min", ("step_time_s", "min")),
    ("n", ("step_time_s", "n")), ("converged", ("converged",)), ("noisy", ("noisy",)),
    ("cold_start_s", ("cold_start_s",)), ("throughput_samples_per_s", ("throughput_samples_per_s",)),
    ("speedup_vs_cpu", ("speedup_vs_cpu",)), ("speedup_ci_low", ("speedup_ci_low",)),
    ("speedup_ci_high", ("speedup_ci_high",)), ("energy_j_per_sample", ("energy_j_per_sample",)),
    ("mean_power_w", ("mean_power_w",)), ("energy_method", ("energy_method",)),
    ("energy_scope", ("energy_scope",)), ("peak_mem_allocated_bytes", ("peak_mem_allocated_bytes",)),
    ("peak_mem_reserved_bytes", ("peak_mem_reserved_bytes",)), ("peak_rss_bytes", ("peak_rss_bytes",)),
    ("timestamp", ("timestamp",)),
]


def _get(d: dict, path: tuple):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def export_runs(store: Store, refs: Iterable[str | int] | None = None, fmt: str = "json") -> str:
    """``refs`` (default: every run, oldest first) as a JSON document or CSV text."""
    if fmt not in FORMATS:
        raise ConfigError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    ids = [store.resolve_run_id(r) for r in refs] if refs else [r.id for r in reversed(store.list_runs())]
    if fmt == "json":
        runs = []
        for rid in ids:
            run = store.get_run(rid).to_dict()
            run["points"] = store.points(rid, samples=True)
            runs.append(run)
        return json.dumps({"runs": runs}, indent=2)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([h for h, _ in CSV_COLUMNS])
    for rid in ids:
        for p in store.points(rid, samples=False):
            p["run_id"] = rid
            w.writerow(["" if (v := _get(p, path)) is None else v for _, path in CSV_COLUMNS])
    return buf.getvalue()
