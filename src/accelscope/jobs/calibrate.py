"""calibrate: fit a device's roofline parameters to its stored measurements, and keep them
only if they help.

Reads the device's successful measurement points from the results store, re-profiles each
distinct workload from the spec stored with it (user models included, when their factory
is still importable), fits :class:`~accelscope.models.calibrate.Calibrator`, and checks the
fit held out (:func:`~accelscope.models.calibrate.validate`: k-fold, each point predicted by a
fit that did not see it, against the uncalibrated model on the same points). The fit is
stored as a new ``calibration`` run either way (older ones are kept): ``accepted`` when it beat
the uncalibrated model, else ``rejected`` with the reason. ``predict`` and ``explore`` use the
newest accepted one for that device and for the catalog entry it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accelscope.errors import AccelscopeError
from accelscope.hardware.catalog import load_hardware
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.calibrate import CalibrationError, Calibrator, Validation, validate
from accelscope.models.roofline_model import Calibrated
from accelscope.workload import WorkloadSpec, profile


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationResult:
    """What :func:`calibrate` fitted, its in-sample error per point, and where it is stored."""

    device: str
    hardware: str | None
    calibration: Calibrated
    median_abs_error: float
    points: tuple[dict[str, Any], ...]  # {"workload", "measured_s", "predicted_s", "error", held out ...}
    validation: Validation
    skipped: tuple[str, ...] = field(default=())  # points that could not be re-profiled, and why
    run_id: int | None = None

    @property
    def accepted(self) -> bool:
        return self.validation.accepted

    def to_dict(self) -> dict[str, Any]:
        c = self.calibration
        return {"device": self.device, "hardware": self.hardware, "matrix_scale": c.matrix_scale,
                "conv_scale": c.conv_scale, "bandwidth_scale": c.bandwidth_scale,
                "backward_scale": c.backward_scale, "host_overhead_s": c.params.host_overhead_s,
                "median_abs_error": self.median_abs_error, **self.validation.to_dict(),
                "points": list(self.points), "skipped": list(self.skipped), "run_id": self.run_id}


def _local_spec(device: str, hardware: str | None) -> HardwareSpec | None:
    if hardware:
        return load_hardware(hardware)
    if device == "cpu":
        from accelscope.measure.detect import detect

        return next((d.spec for d in detect() if d.name == "cpu"), None)
    return None


def calibrate(device: str = "cpu", *, hardware: str | None = None, store=None) -> CalibrationResult:
    """Fit ``device`` (``cpu``, ``cuda:0``, ...) from the measurements in ``store`` (a Store;
    default: the default store) and save the calibration there."""
    from accelscope.store import Store

    own = store is None
    db = Store() if own else store
    try:
        return _calibrate(db, device, hardware)
    finally:
        if own:
            db.close()


def _calibrate(store, device: str, hardware: str | None) -> CalibrationResult:
    from accelscope.store.calibrations import save

    points = [p for p in store.points_where(kind="measurement", device=device) if p["status"] == "ok"]
    if not points:
        raise CalibrationError(
            f"no successful measurements of {device!r} in {store.path}; run "
            f"`accelscope bench MODEL --device {device}` on a few models first")
    spec = _local_spec(device, hardware)
    profiles, times, labels, skipped = [], [], [], []
    for pt in points:
        ws = WorkloadSpec.from_record(pt["data"])
        try:
            profiles.append(profile(ws))
        except AccelscopeError as exc:
            skipped.append(f"{ws.label}: {exc}")
            continue
        times.append(pt["time_s"])
        labels.append(f"{ws.model} {ws.task} b{ws.batch_size} {ws.precision}")
    if len(profiles) < 2 and skipped:
        raise CalibrationError(f"{device}: only {len(profiles)} of {len(points)} stored points could be "
                               f"profiled again; first failure: {skipped[0]}")
    kind = spec.kind if spec else "cpu"
    c = Calibrator(device, spec, kind=kind).fit(profiles, times)
    check = validate(device, spec, profiles, times, kind=kind)
    run_id = save(c.calibration_.to_dict() | check.to_dict(), store, hardware=spec.name if spec else None)
    held = check.calibrated_errors or (None,) * len(times)
    unc = check.uncalibrated_errors or (None,) * len(times)
    rows = tuple({"workload": lab, "measured_s": m, "predicted_s": m * (1 + e), "error": float(e),
                  "held_out_error": h, "uncalibrated_error": u}
                 for lab, m, e, h, u in zip(labels, times, c.errors_, held, unc))
    return CalibrationResult(device=device, hardware=spec.name if spec else None, calibration=c.calibration_,
                             median_abs_error=c.median_abs_error_, points=rows, validation=check,
                             skipped=tuple(skipped), run_id=run_id)
