"""A calibration is kept only if it predicts held-out points better than the uncalibrated model."""

from dataclasses import replace

import numpy as np
import pytest

import accelscope
from accelscope.jobs.predict import load_calibrations
from accelscope.models import roofline
from accelscope.models.calibrate import NOMINAL_CPU_RATES, uncalibrated_step_time, validate
from accelscope.models.roofline_model import Calibrated, RooflineModel
from accelscope.hardware.schema import HardwareSpec
from accelscope.store import Store
from accelscope.workload import WorkloadSpec

CPU = HardwareSpec(name="x", kind="cpu", vendor="v", display_name="x")
WORKLOADS = [("mlp", 1, {}), ("mlp", 64, {}), ("cnn", 8, {}), ("resnet18", 1, {}), ("resnet18", 8, {}),
             ("gpt2-small", 1, {}), ("mobilenet_v2", 16, {})]


@pytest.fixture(scope="module")
def profiles():
    return [accelscope.profile(m, batch_size=b, **kw) for m, b, kw in WORKLOADS]


def test_a_fit_of_a_device_unlike_the_default_is_accepted(profiles):
    truth = Calibrated(device="x", params=replace(roofline.DEFAULTS["cpu"], host_overhead_s=12e-6), matrix_scale=0.37,
                       bandwidth_scale=2.1, rates=NOMINAL_CPU_RATES)
    measured = [RooflineModel().predict(p, CPU, calibration=truth).step_time_s for p in profiles]
    v = validate("x", None, profiles, measured)
    assert v.accepted and v.folds == 5 and len(v.calibrated_errors) == len(profiles)
    assert v.calibrated_median < 0.15 and v.uncalibrated_median > 0.3  # held out: each fit saw 5 or 6 points
    assert "better than the uncalibrated" in v.reason


def test_a_fit_to_noise_that_would_make_predictions_worse_is_rejected(profiles):
    """Points the uncalibrated model predicts within noise: a fit chasing the noise does worse held out."""
    rng = np.random.default_rng(3)
    noise = np.exp(rng.normal(0, 0.45, len(profiles)))
    measured = [uncalibrated_step_time(p, "x", None, "cpu") * f for p, f in zip(profiles, noise)]
    v = validate("x", None, profiles, measured)
    assert not v.accepted and v.calibrated_median >= v.uncalibrated_median
    assert "no better than the uncalibrated" in v.reason
    few = validate("x", None, profiles[:2], measured[:2])
    assert not few.accepted and "at least 3" in few.reason


def test_the_job_stores_both_and_predict_uses_only_the_accepted_one(tmp_path, profiles):
    """Through the store: a rejected fit is kept as rejected and not used; an accepted one is used."""
    def store_points(db, times):
        run = db.begin_run(kind="measurement", config={})
        for p, t in zip(profiles, times):
            db.add_point(run, kind="measurement", record={"spec": p.spec.to_dict()}, status="ok", device="cpu",
                         model=p.model, time_s=t)
        db.finish_run(run)

    good_truth = Calibrated(device="cpu", params=roofline.DEFAULTS["cpu"], matrix_scale=0.3, bandwidth_scale=3.0,
                            rates=NOMINAL_CPU_RATES)
    rng = np.random.default_rng(3)
    noisy = [uncalibrated_step_time(p, "cpu", None, "cpu") * f
             for p, f in zip(profiles, np.exp(rng.normal(0, 0.45, len(profiles))))]
    with Store(tmp_path / "bad.sqlite") as db:
        store_points(db, noisy)
        res = accelscope.calibrate("cpu", hardware=None, store=db)
        assert not res.accepted and res.to_dict()["accepted"] is False
        assert load_calibrations(db) == {}  # kept in the store, not used
        assert db.list_runs(kind="calibration")[0].n_points == 1
    with Store(tmp_path / "good.sqlite") as db:
        store_points(db, [RooflineModel().predict(p, CPU, calibration=good_truth).step_time_s for p in profiles])
        res = accelscope.calibrate("cpu", store=db)
        assert res.accepted and res.validation.calibrated_median < res.validation.uncalibrated_median
        assert all(r["held_out_error"] is not None for r in res.points)
        [used] = {id(c): c for c in load_calibrations(db).values()}.values()
        assert used.matrix_scale == pytest.approx(0.3, rel=0.1)
        # this machine's CPU is now predictable from the calibration alone
        pred = accelscope.predict("mlp", batch_size=8, hardware="cpu", store=db)
        if pred.results:  # the local CPU is not in the catalog: predicted as `cpu`
            [r] = pred.results
            assert r.estimate.calibrated and r.step_time_s > 0
    with Store(tmp_path / "none.sqlite") as db:
        pred = accelscope.predict("mlp", batch_size=8, hardware="cpu", store=db)
        assert not pred.results or pred.results[0].hardware != "cpu"
        if not pred.results:
            assert "accelscope calibrate" in pred.unavailable[0].reason
