"""calibrate: fit a device's roofline parameters to its stored measurements, and keep them
only if they help.

Reads the device's successful measurement points from the results store (``bench`` steps, and
``bench --task serve`` runs: each gives its prefill, timed by its TTFT, and its mean decode
step, timed by its TPOT), re-profiles each distinct workload from the spec stored with it
(user models included, when their factory is still importable), fits :class:`~accelscope.models.calibrate.Calibrator`, and checks the
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
    return _in_store(store, _calibrate, device, hardware)


def _in_store(store, fn, *args):
    """``fn(store, *args)`` in ``store``, or in the default store opened (and closed) for it."""
    from accelscope.store import Store

    own = store is None
    db = Store() if own else store
    try:
        return fn(db, *args)
    finally:
        if own:
            db.close()


def serving_passes(spec: WorkloadSpec) -> list[tuple[str, "Profile"]]:
    """A measured serving workload's two passes as whole profiles the calibrator fits: the
    prefill (every layer's block, the embedding, the head) and the mean decode step, each the
    ops of its pieces with the blocks' counted once per layer."""
    import dataclasses

    from accelscope.workload.serving import serving_pieces

    pc = serving_pieces(spec, batch=spec.batch_size or 1)
    out = []
    for which in ("prefill", "decode"):
        block, embed, head = (getattr(pc, f"{which}_{k}") for k in ("block", "embed", "head"))
        ops = tuple(dataclasses.replace(o, count=o.count * pc.shape.layers) for o in block.ops) + embed.ops + head.ops
        out.append((which, dataclasses.replace(block, ops=ops, spec=block.spec.with_(
            model=f"{spec.model} [{which}]", mode=spec.mode))))
    return out


def _calibrate(store, device: str, hardware: str | None) -> CalibrationResult:
    from accelscope.store.calibrations import save

    points = [p for p in store.points_where(kind="measurement", device=device) if p["status"] == "ok"]
    served = [p for p in store.points_where(kind="serving", device=device) if p["status"] == "ok"]
    if not points and not served:
        raise CalibrationError(
            f"no successful measurements of {device!r} in {store.location}; run "
            f"`accelscope bench MODEL --device {device}` on a few models first")
    spec = _local_spec(device, hardware)
    profiles, times, labels, skipped = [], [], [], []
    for pt in served:  # bench --task serve: its prefill (TTFT) and mean decode step (TPOT)
        ws = WorkloadSpec.from_dict(pt["data"]["spec"])
        try:
            passes = serving_passes(ws)
        except AccelscopeError as exc:
            skipped.append(f"{ws.label}: {exc}")
            continue
        for (label, prof), t in zip(passes, (pt["data"]["ttft_s"], pt["data"]["tpot_s"])):
            if t:
                profiles.append(prof)
                times.append(t)
                labels.append(f"{ws.model} serve b{ws.batch_size} {label}")
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
    held = check.calibrated_errors or (None,) * len(times)
    unc = check.uncalibrated_errors or (None,) * len(times)
    rows = tuple({"workload": lab, "measured_s": m, "predicted_s": m * (1 + e), "error": float(e),
                  "held_out_error": h, "uncalibrated_error": u}
                 for lab, m, e, h, u in zip(labels, times, c.errors_, held, unc))
    # the per-point rows are stored too: the report plots predicted against measured from them
    run_id = save(c.calibration_.to_dict() | check.to_dict() | {"points": list(rows)}, store,
                  hardware=spec.name if spec else None)
    return CalibrationResult(device=device, hardware=spec.name if spec else None, calibration=c.calibration_,
                             median_abs_error=c.median_abs_error_, points=rows, validation=check,
                             skipped=tuple(skipped), run_id=run_id)


#: A link fit is kept when it predicts its own sizes within this median error.
COMM_FIT_MAX_ERROR = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class CommCalibrationResult:
    """A system's link calibrated from a stored ``bench-comm`` run's all-reduce fit."""

    record: dict[str, Any]
    run_id: int

    @property
    def accepted(self) -> bool:
        return bool(self.record["accepted"])

    def to_dict(self) -> dict[str, Any]:
        return {**self.record, "calibration_run_id": self.run_id}


def calibrate_comm(system: str, *, run: "str | int | None" = None, store=None) -> CommCalibrationResult:
    """Calibrate ``system``'s intra-node link (a one-node run) or its network (a run over
    several nodes) from the all-reduce fit of a stored ``bench-comm`` run (``run``: an id or
    ``latest``; default the newest comm run), and store it: ``predict --devices`` on that
    system uses the fitted bandwidth (busbw, per device) and per-call latency from then on."""
    return _in_store(store, _calibrate_comm, system, run)


def _calibrate_comm(store, system: str, run) -> CommCalibrationResult:
    from accelscope.hardware.systems import load_system
    from accelscope.store.calibrations import save_comm

    sysspec = load_system(system)  # an unknown name fails before anything is stored
    if run is None:
        fits = store.points_where(kind="collective_fit", complete_runs_only=True)
        if not fits:
            raise CalibrationError(f"no bench-comm runs in {store.location}; run `accelscope bench-comm --nproc-per-node "
                                   "N` on the system first")
        run_id = fits[-1]["run_id"]
    else:
        run_id = store.resolve_run_id(run)
    rec = store.get_run(run_id)
    if rec.kind != "comm":
        raise CalibrationError(f"run {run_id} is a {rec.kind} run, not bench-comm's; see `accelscope runs list`")
    fit = next((p for p in store.points(run_id) if p.get("point_kind") == "collective_fit"
                and p.get("op") == "all_reduce"), None)
    if fit is None:
        raise CalibrationError(f"run {run_id} has no all_reduce fit; run `accelscope bench-comm --ops all_reduce`")
    world = rec.config.get("world", {})
    nnodes, per_node = int(world.get("nnodes") or 1), int(world.get("nproc_per_node") or 1)
    err = float(fit["median_abs_error"])
    accepted = err <= COMM_FIT_MAX_ERROR and fit["beta_bytes_per_s"] > 0 and fit["alpha_s"] >= 0
    record = {
        "system": sysspec.name, "scope": "intra-node" if nnodes == 1 else "inter-node", "run_id": run_id,
        "backend": world.get("backend"), "device": world.get("device"), "nnodes": nnodes,
        "nproc_per_node": per_node, "world_size": world.get("world_size"), "alpha_s": float(fit["alpha_s"]),
        "beta_bytes_per_s": float(fit["beta_bytes_per_s"]), "median_abs_error": err, "accepted": accepted,
        "reason": (f"the all_reduce fit predicts its {fit['points']} sizes within {err:.0%} (median)" if accepted else
                   f"the all_reduce fit misses its own sizes by {err:.0%} (median), more than "
                   f"{COMM_FIT_MAX_ERROR:.0%}: the link is too noisy to calibrate from this run"),
    }
    return CommCalibrationResult(record=record, run_id=save_comm(record, store))
