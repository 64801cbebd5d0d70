"""Export stored runs as JSON (everything, raw samples included) or CSV (one row per point).

The CSV has one header for every kind of run: each row fills the columns of its kind
(``point_kind``: measurement, estimate, calibration) and leaves the others empty.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from accelscope.errors import ConfigError
from accelscope.store.db import Store

FORMATS = ("json", "csv")

#: CSV columns of each kind of point: (header, path into the point record).
MEASUREMENT_COLUMNS: list[tuple[str, tuple]] = [
    ("model", ("model",)), ("device", ("device",)),
    ("device_model", ("device_model",)), ("task", ("task",)), ("batch_size", ("batch_size",)),
    ("precision", ("precision",)), ("compile", ("compile",)), ("channels_last", ("channels_last",)),
    ("threads", ("threads",)), ("status", ("status",)), ("error", ("error",)),
    ("step_time_s_median", ("step_time_s", "median")), ("step_time_s_mean", ("step_time_s", "mean")),
    ("step_time_s_p10", ("step_time_s", "p10")), ("step_time_s_p90", ("step_time_s", "p90")),
    ("step_time_s_iqr", ("step_time_s", "iqr")), ("step_time_s_min", ("step_time_s", "min")),
    ("n", ("step_time_s", "n")), ("converged", ("converged",)), ("noisy", ("noisy",)),
    ("verdict", ("verdict",)),
    ("cold_start_s", ("cold_start_s",)), ("throughput_samples_per_s", ("throughput_samples_per_s",)),
    ("speedup_vs_cpu", ("speedup_vs_cpu",)), ("speedup_ci_low", ("speedup_ci_low",)),
    ("speedup_ci_high", ("speedup_ci_high",)), ("energy_j_per_sample", ("energy_j_per_sample",)),
    ("mean_power_w", ("mean_power_w",)), ("energy_method", ("energy_method",)),
    ("energy_scope", ("energy_scope",)), ("peak_mem_allocated_bytes", ("peak_mem_allocated_bytes",)),
    ("peak_mem_reserved_bytes", ("peak_mem_reserved_bytes",)), ("peak_rss_bytes", ("peak_rss_bytes",)),
    ("timestamp", ("timestamp",)),
]
#: an estimate's ``model`` is its performance model; the workload's model is ``workload``
ESTIMATE_COLUMNS: list[tuple[str, tuple]] = [
    ("model", ("workload",)), ("device", ("hardware",)), ("device_kind", ("kind",)), ("task", ("task",)),
    ("batch_size", ("batch_size",)), ("precision", ("precision",)), ("step_time_s", ("step_time_s",)),
    ("throughput_samples_per_s", ("throughput_samples_per_s",)), ("mfu", ("mfu",)), ("bound", ("bound",)),
    ("fits_in_memory", ("fits_in_memory",)), ("energy_j_per_sample", ("energy_j_per_sample",)),
    ("energy_method", ("energy_method",)), ("usd_per_million_samples", ("usd_per_million_samples",)),
    ("offering", ("offering",)), ("price_date", ("price_date",)), ("performance_model", ("model",)),
    ("calibrated", ("calibrated",)),
]
CALIBRATION_COLUMNS: list[tuple[str, tuple]] = [
    ("device", ("device",)), ("hardware", ("hardware",)), ("matrix_scale", ("matrix_scale",)),
    ("conv_scale", ("conv_scale",)), ("bandwidth_scale", ("bandwidth_scale",)),
    ("backward_scale", ("backward_scale",)), ("host_overhead_s", ("params", "host_overhead_s")),
    ("fitted_on", ("fitted_on",)), ("median_abs_error", ("median_abs_error",)),
]
COLUMNS_BY_KIND = {"measurement": MEASUREMENT_COLUMNS, "estimate": ESTIMATE_COLUMNS,
                   "calibration": CALIBRATION_COLUMNS}
#: the CSV header: the run and point, then every kind's columns once (a row fills its kind's)
CSV_COLUMNS: list[tuple[str, tuple]] = [("run_id", ("run_id",)), ("point", ("point_seq",)),
                                        ("point_kind", ("point_kind",))]
for _cols in COLUMNS_BY_KIND.values():
    CSV_COLUMNS += [c for c in _cols if c[0] not in {h for h, _ in CSV_COLUMNS}]


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
    header = [h for h, _ in CSV_COLUMNS]
    for rid in ids:
        for p in store.points(rid, samples=False):
            p["run_id"] = rid
            own = {"run_id": ("run_id",), "point": ("point_seq",), "point_kind": ("point_kind",),
                   **dict(COLUMNS_BY_KIND.get(p["point_kind"], MEASUREMENT_COLUMNS))}
            w.writerow(["" if h not in own or (v := _get(p, own[h])) is None else v for h in header])
    return buf.getvalue()
