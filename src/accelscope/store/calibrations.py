"""Calibrations in the results database: a run of kind ``calibration`` with one point.

The newest calibration of a device wins; older ones stay in the store (nothing stored is
ever overwritten).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from accelscope.models import roofline
from accelscope.models.predict import Calibrated
from accelscope.store.db import Store

KIND = "calibration"


def calibration_to_dict(c: Calibrated) -> dict[str, Any]:
    return {
        "device": c.device, "params": c.params.to_dict(), "matrix_scale": c.matrix_scale,
        "conv_scale": c.conv_scale,
        "bandwidth_scale": c.bandwidth_scale, "backward_scale": c.backward_scale, "rates": asdict(c.rates) if c.rates else None,
        "fitted_on": c.fitted_on, "median_abs_error": c.median_abs_error,
    }


def calibration_from_dict(d: dict[str, Any]) -> Calibrated:
    stored = dict(d["params"])
    # A calibration stored by an older version lacks the parameters added since: they take
    # the defaults of its kind of device (CPUs are the ones whose host does not overlap).
    kind = "gpu" if stored.get("host_overlaps_device", True) else "cpu"
    known = {f.name for f in fields(roofline.RooflineParams)}
    params = {**asdict(roofline.DEFAULTS[kind]), **{k: v for k, v in stored.items() if k in known}}
    params["tiles"] = tuple(tuple(t) for t in params["tiles"])
    params["scalar_kernels"] = tuple(params["scalar_kernels"])
    return Calibrated(
        device=d["device"], params=roofline.RooflineParams(**params), matrix_scale=d["matrix_scale"],
        conv_scale=d.get("conv_scale"),
        bandwidth_scale=d["bandwidth_scale"], backward_scale=d.get("backward_scale", 1.0),
        rates=roofline.DeviceRates(**d["rates"]) if d.get("rates") else None,
        fitted_on=d["fitted_on"], median_abs_error=d.get("median_abs_error"),
    )


def save(c: Calibrated, store: Store, *, fitted_points: list[int] | None = None,
         hardware: str | None = None) -> int:
    """Store ``c`` as a new calibration run; returns the run id."""
    record = calibration_to_dict(c) | {"hardware": hardware, "fitted_points": fitted_points or []}
    run = store.begin_run(kind=KIND, config={"device": c.device, "hardware": hardware})
    store.add_point(run, kind=KIND, record=record, status="ok", device=c.device,
                    time_s=None)
    store.finish_run(run)
    return run


def load_all(store: Store | None = None) -> dict[str, Calibrated]:
    """The newest calibration per device (keyed by device and by catalog hardware name)."""
    own = store is None
    if own:
        from accelscope.store.db import default_store_path

        if not default_store_path().exists():  # nothing calibrated yet: create no database
            return {}
        store = Store()
    try:
        out: dict[str, Calibrated] = {}
        for point in store.points_where(kind=KIND, complete_runs_only=True):
            d = point["data"]
            c = calibration_from_dict(d)
            out[c.device] = c
            if d.get("hardware"):
                out[d["hardware"]] = c
        return out
    finally:
        if own:
            store.close()
