"""Calibrations in the results database: a run of kind ``calibration`` with one point.

The store keeps plain dicts (``Calibrated.to_dict()``); turning them back into model
parameters is the job's (``accelscope.jobs.calibrate``), so the store never imports a
performance model. The newest calibration of a device wins; older ones stay in the store
(nothing stored is ever overwritten).
"""

from __future__ import annotations

from typing import Any

from accelscope.store.location import store_exists

KIND = "calibration"


def save(record: dict[str, Any], store: "Store", *, hardware: str | None = None,
         fitted_points: list[int] | None = None) -> int:
    """Store a calibration record (a dict with at least ``device``) as a new run; returns its id."""
    record = dict(record) | {"hardware": hardware, "fitted_points": fitted_points or []}
    return store.add_run(kind=KIND, record=record, config={"device": record["device"], "hardware": hardware},
                         label=record["device"] + (f" ({hardware})" if hardware else ""), device=record["device"])


def load_all(store: "Store | None" = None) -> dict[str, dict[str, Any]]:
    """The newest accepted calibration record per device, keyed by device and by catalog
    hardware name (records stored before fits were checked count as accepted; rejected ones
    are kept in the store but not returned). With no store given, the default one, if it
    exists (none is created)."""
    own = store is None
    if own:
        if not store_exists():  # nothing calibrated yet: create no database (and import no SQLAlchemy)
            return {}
        from accelscope.store.db import Store

        store = Store()
    try:
        out: dict[str, dict[str, Any]] = {}
        for point in store.points_where(kind=KIND, complete_runs_only=True):
            d = point["data"]
            if d.get("accepted") is False:
                continue
            out[d["device"]] = d
            if d.get("hardware"):
                out[d["hardware"]] = d
        return out
    finally:
        if own:
            store.close()


COMM_KIND = "comm-calibration"


def save_comm(record: dict[str, Any], store: "Store") -> int:
    """Store a link calibration (a dict with at least ``system``) as a new run; returns its id."""
    return store.add_run(kind=COMM_KIND, record=record,
                         config={"system": record["system"], "comm_run": record.get("run_id")},
                         label=f"{record['system']} ({record.get('scope')})", device=record.get("device"),
                         time_s=record.get("alpha_s"))


def load_comm(store: "Store | None" = None) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest accepted link calibration per (system, scope), from ``store`` or the default
    store when it exists (none is created)."""
    own = store is None
    if own:
        if not store_exists():
            return {}
        from accelscope.store.db import Store

        store = Store()
    try:
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for point in store.points_where(kind=COMM_KIND, complete_runs_only=True):
            d = point["data"]
            if d.get("accepted"):
                out[(d["system"], d["scope"])] = d
        return out
    finally:
        if own:
            store.close()
