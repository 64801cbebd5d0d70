"""Fit a device's roofline parameters to measured step times (scikit-learn style).

``Calibrator(device, spec).fit(profiles, step_times_s)`` fits the parameters that the
datasheet cannot know, by least absolute log error |log(predicted / measured)| (robust
to the odd workload the model does not capture):

* ``matrix_scale``: achieved matrix throughput relative to the model's default assumption
  (peak x default efficiency);
* ``conv_scale``: the same for convolutions and fused recurrent layers, fitted apart when the
  measurements have both them and plain matrix products: they run in the DNN library (cuDNN,
  oneDNN), matrix products in the BLAS (cuBLAS, MKL), and on CPUs the two may even use
  different vector instruction sets;
* ``bandwidth_scale``: achieved memory bandwidth (and vector throughput) relative to default;
* ``host_overhead_s``: per-op framework overhead on this host;
* ``backward_scale``: how much slower the backward pass and optimizer step run than their
  FLOPs and bytes say, relative to the forward pass (backward kernels, such as weight
  gradients of convolutions, are often less optimised; 1 on the default model). It is only
  fitted when the measurements include training steps.

It stores them in ``calibration_`` (a :class:`~accelscope.models.roofline_model.Calibrated`) and
returns ``self``; ``predict`` then uses them. Devices without catalog peaks (a local CPU
not in the catalog) start from nominal rates (``NOMINAL_CPU_RATES``) that the scales then
correct; their fitted rates are absolute achieved rates. Measurements are plain data: this
module never imports ``accelscope.measure`` or ``accelscope.store`` (``accelscope.jobs.calibrate``
reads the store, re-profiles each point and saves the result).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from accelscope.errors import AccelscopeError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models import roofline
from accelscope.models.roofline_model import Calibrated, RooflineModel, device_rates
from accelscope.workload.profile import Profile

#: Starting point for a CPU without catalog figures (order of a few-core desktop part).
NOMINAL_CPU_RATES = roofline.DeviceRates(
    matrix_flops_per_s={"float32": 1e11, "bfloat16": 1e11, "float16": 5e10},
    vector_flops_per_s=2.5e10, bandwidth_bytes_per_s=2e10, compute_units=2,
    # a desktop/server last-level cache, and its bandwidth at ~5x DRAM's
    cache_bytes=32 * 2**20, cache_bandwidth_bytes_per_s=1e11,
)

_SCALES = np.logspace(-2, 1.5, 43)
_BACKWARD_SCALES = np.logspace(-0.3, 1, 14)
_OVERHEADS = np.concatenate([[0.0], np.logspace(-7, -2.5, 46)])


class CalibrationError(AccelscopeError):
    """Not enough or inconsistent measurements to fit."""


def _op_terms(profile: Profile, rates: roofline.DeviceRates, p: roofline.RooflineParams):
    """Per-op (forward count, backward/optimizer count, matrix-product compute s, convolution
    compute s, other compute s, memory s, has work) at scale 1."""
    ops = roofline.estimate_ops(profile, rates, p)
    n = np.array([o.count for o in ops], dtype=float)
    later = np.array([o.phase != "forward" for o in ops], dtype=float)
    on_matrix = [o.unit == "matrix" for o in ops]
    gemm = np.array([o.compute_s if m and not o.dnn_library else 0.0 for o, m in zip(ops, on_matrix)])
    conv = np.array([o.compute_s if m and o.dnn_library else 0.0 for o, m in zip(ops, on_matrix)])
    vector = np.array([o.compute_s if not m else 0.0 for o, m in zip(ops, on_matrix)])
    memory = np.array([o.memory_s for o in ops])
    work = np.array([1.0 if o.time_s > 0 else 0.0 for o in ops])
    alloc = np.array([o.alloc_s for o in ops])  # OS page faults: no scale applies
    layout = np.array([o.layout_s for o in ops])  # layout transposes: memory traffic
    # dispatches per occurrence, relative to one op's (0 inside fused kernels, a share of a
    # foreach launch, several for an op that runs as several kernels)
    dispatch = np.array([o.overhead_s / p.host_overhead_s if p.host_overhead_s else 1.0 for o in ops])
    return n * (1 - later), n * later, gemm, conv, vector, memory, work, alloc, layout, dispatch


class Calibrator:
    """Fits matrix, convolution and bandwidth scales, per-op overhead and backward scale."""

    def __init__(self, device: str, spec: HardwareSpec | None = None,
                 params: roofline.RooflineParams | None = None, kind: str | None = None):
        self.device = device
        self.spec = spec
        self.kind = kind or (spec.kind if spec is not None else "cpu")
        self.params = params or roofline.DEFAULTS.get(self.kind, roofline.DEFAULTS["gpu"])

    def _rates(self, profile: Profile) -> tuple[roofline.DeviceRates, bool]:
        if self.spec is not None:
            try:
                return device_rates(self.spec, profile.precision), False
            except AccelscopeError:
                pass
        return NOMINAL_CPU_RATES, True

    def _loss(self, terms, measured: np.ndarray, host_overhead: np.ndarray, bs: np.ndarray,
              sm: np.ndarray, sc: np.ndarray | None, sb: np.ndarray) -> np.ndarray:
        """Sum of absolute log errors over the points, shape (len(host_overhead), len(bs),
        len(sm), len(sc), len(sb)); ``sc is None`` ties the convolution scale to ``sm``."""
        floor = self.params.kernel_floor_s
        tied = sc is None
        sc_axis = np.ones(1) if tied else sc  # tied: convolutions are folded into gemm below
        loss = 0.0
        for (n_fwd, n_later, gemm, conv, vec, mem, work, alloc, layout, dispatch), y in zip(terms, measured):
            if tied:
                gemm, conv = gemm + conv, np.zeros_like(conv)
            # per op: (ops, sm, sc, sb)
            busy = np.maximum(
                np.maximum(gemm[:, None, None, None] / sm[None, :, None, None],
                           conv[:, None, None, None] / sc_axis[None, None, :, None]),
                np.maximum(vec, mem)[:, None, None, None] / sb[None, None, None, :])
            fl = (floor * work)[:, None, None, None]
            t = ((busy + fl) if self.params.floor_adds else np.maximum(busy, fl)) \
                + alloc[:, None, None, None] + layout[:, None, None, None] / sb[None, None, None, :]
            device = (np.tensordot(n_fwd, t, axes=1)[None]
                      + bs[:, None, None, None] * np.tensordot(n_later, t, axes=1)[None])
            host = host_overhead[:, None, None, None, None] * float((n_fwd + n_later) @ dispatch)
            # On accelerators the predictor bounds each stretch between synchronisations by
            # max(device, host) plus an op of the other side (roofline.segment_time); over this
            # grid the step's max(device, host) stands in for it; errors_ below are the full
            # predictor's.
            step = (np.maximum(device[None], host) if self.params.host_overlaps_device
                    else device[None] + host)
            loss = loss + np.abs(np.log(step / y))
        return loss

    def fit(self, profiles: list[Profile], step_times_s: list[float]) -> "Calibrator":
        if len(profiles) != len(step_times_s):
            raise CalibrationError("profiles and step_times_s differ in length")
        if len(profiles) < 2:
            raise CalibrationError(
                f"{self.device}: calibration needs at least 2 measurements (got {len(profiles)}); "
                "run `accelscope bench` on more workloads or batch sizes first")
        measured = np.asarray(step_times_s, dtype=float)
        if np.any(measured <= 0):
            raise CalibrationError("measured step times must be positive")
        rates_used = {}
        terms = []
        for prof in profiles:
            rates, nominal = self._rates(prof)
            rates_used[prof.precision] = (rates, nominal)
            terms.append(_op_terms(prof, rates, self.params))
        trains = any(t[1].any() for t in terms)
        # Convolutions get their own scale only when both they and matrix products carry a
        # real share of the measured work; otherwise the two are tied.
        gemm_work = sum(float(t[0] @ t[2] + t[1] @ t[2]) for t in terms)
        conv_work = sum(float(t[0] @ t[3] + t[1] @ t[3]) for t in terms)
        separate = min(gemm_work, conv_work) > 0.05 * max(gemm_work, conv_work, 1e-30)
        coarse = np.logspace(-2, 1.5, 22 if separate else 43)
        h, sm, sb = _OVERHEADS, coarse, coarse
        sc = coarse if separate else None
        bs = _BACKWARD_SCALES if trains else np.ones(1)
        width = 0.15
        for _ in range(5):  # a coarse grid, then finer grids around the best point
            loss = self._loss(terms, measured, h, bs, sm, sc, sb)
            i, b, j, c, k = np.unravel_index(np.argmin(loss), loss.shape)
            best = (h[i], bs[b], sm[j], sc[c] if separate else sm[j], sb[k])
            fine = np.logspace(-width, width, 11 if separate else 15)
            sm, sb = best[2] * fine, best[4] * fine
            sc = best[3] * fine if separate else None
            bs = best[1] * np.logspace(-width, width, 9) if trains else bs
            h = best[0] * np.logspace(-2 * width, 2 * width, 15) if best[0] > 0 else h
            width /= 3
        host, backward_scale, matrix_scale, conv_scale, bandwidth_scale = best
        params = replace(self.params, host_overhead_s=float(host))
        rates, nominal = next(iter(rates_used.values()))
        self.calibration_ = Calibrated(
            device=self.device, params=params, matrix_scale=float(matrix_scale),
            conv_scale=float(conv_scale) if separate else None,
            bandwidth_scale=float(bandwidth_scale), backward_scale=float(backward_scale),
            rates=rates if nominal else None,
            fitted_on=len(profiles),
        )
        pred = np.array([self.predict_step_time(p) for p in profiles])
        self.errors_ = pred / measured - 1
        self.median_abs_error_ = float(np.median(np.abs(self.errors_)))
        self.calibration_ = replace(self.calibration_, median_abs_error=self.median_abs_error_)
        return self

    def _spec(self) -> HardwareSpec:
        if self.spec is not None:
            return self.spec
        return HardwareSpec(name=self.device, kind=self.kind, vendor="local", display_name=self.device)

    def predict_step_time(self, profile: Profile) -> float:
        return self.predict(profile).step_time_s

    def predict(self, profile: Profile):
        if not hasattr(self, "calibration_"):
            raise CalibrationError("call fit() before predict()")
        return RooflineModel().predict(profile, self._spec(), calibration=self.calibration_)


#: fewest points a fit can be checked on: each held-out fold leaves at least two to fit
MIN_VALIDATION_POINTS = 3
MAX_FOLDS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Validation:
    """Whether a calibration is worth using: held-out errors of the calibrated and of the
    uncalibrated model on the same points (k-fold: each point predicted by a fit that did
    not see it)."""

    accepted: bool
    reason: str
    folds: int
    calibrated_errors: tuple[float, ...]    # held out, relative (pred / measured - 1)
    uncalibrated_errors: tuple[float, ...]

    @property
    def calibrated_median(self) -> float | None:
        return float(np.median(np.abs(self.calibrated_errors))) if self.calibrated_errors else None

    @property
    def uncalibrated_median(self) -> float | None:
        return float(np.median(np.abs(self.uncalibrated_errors))) if self.uncalibrated_errors else None

    def to_dict(self) -> dict:
        return {"accepted": self.accepted, "reason": self.reason, "folds": self.folds,
                "held_out_median_abs_error": self.calibrated_median,
                "uncalibrated_median_abs_error": self.uncalibrated_median}


def uncalibrated_step_time(profile: Profile, device: str, spec: HardwareSpec | None, kind: str) -> float:
    """What the model predicts without a calibration: the catalog entry's figures, or (a
    device with no usable entry) the nominal CPU rates at the kind's default parameters."""
    if spec is not None:
        try:
            return RooflineModel().predict(profile, spec).step_time_s
        except AccelscopeError:
            pass
    nominal = Calibrated(device=device, params=roofline.DEFAULTS.get(kind, roofline.DEFAULTS["gpu"]),
                         rates=NOMINAL_CPU_RATES)
    local = spec or HardwareSpec(name=device, kind=kind, vendor="local", display_name=device)
    return RooflineModel().predict(profile, local, calibration=nominal).step_time_s


def validate(device: str, spec: HardwareSpec | None, profiles: list[Profile], step_times_s: list[float], *,
             kind: str | None = None) -> Validation:
    """Accept a calibration of these points only if, held out, it predicts them better than the
    uncalibrated model does (median absolute error, k-fold with up to ``MAX_FOLDS`` folds)."""
    kind = kind or (spec.kind if spec is not None else "cpu")
    n = len(profiles)
    if n < MIN_VALIDATION_POINTS:
        return Validation(accepted=False, folds=0, calibrated_errors=(), uncalibrated_errors=(),
                          reason=f"{n} points cannot show that a fit predicts points it has not seen; measure at "
                                 f"least {MIN_VALIDATION_POINTS} (more workloads or batch sizes)")
    folds = min(n, MAX_FOLDS)
    cal_err = [0.0] * n
    for f in range(folds):
        held = [i for i in range(n) if i % folds == f]
        fit = [i for i in range(n) if i % folds != f]
        c = Calibrator(device, spec, kind=kind).fit([profiles[i] for i in fit], [step_times_s[i] for i in fit])
        for i in held:
            cal_err[i] = c.predict_step_time(profiles[i]) / step_times_s[i] - 1
    unc_err = [uncalibrated_step_time(p, device, spec, kind) / t - 1 for p, t in zip(profiles, step_times_s)]
    cal_med, unc_med = float(np.median(np.abs(cal_err))), float(np.median(np.abs(unc_err)))
    accepted = cal_med < unc_med
    verdict = "better than" if accepted else "no better than"
    reason = (f"held out ({folds} folds), the calibrated model's median |error| is {cal_med:.1%}, {verdict} the "
              f"uncalibrated model's {unc_med:.1%}")
    return Validation(accepted=accepted, reason=reason, folds=folds, calibrated_errors=tuple(cal_err),
                      uncalibrated_errors=tuple(unc_err))
