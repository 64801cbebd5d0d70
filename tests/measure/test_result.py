import json

import pytest

from accelscope.measure.environment import collect_environment
from accelscope.measure.result import Measurement
from accelscope.measure.stats import summarize
from accelscope.workload import WorkloadSpec


def _m(**kw):
    base = dict(spec=WorkloadSpec(model="mlp", task="train", batch_size=8, precision="amp-bf16"), device="cuda:0",
                threads=4,
                status="ok", step_time_s=summarize([0.010, 0.011, 0.012, 0.010, 0.011, 0.010]),
                energy_j=24.0, energy_window_s=1.2, energy_iterations=100, energy_method="nvml-energy-counter",
                energy_scope="gpu board", energy_confidence="high")
    base.update(kw)
    return Measurement(**base)


def test_derived_figures():
    m = _m()
    assert m.throughput_samples_per_s == pytest.approx(8 / 0.0105)
    assert m.energy_j_per_sample == pytest.approx(24.0 / (100 * 8))
    assert m.mean_power_w == pytest.approx(20.0)
    assert m.noisy is False


def test_roundtrip_through_json():
    m = _m(environment=collect_environment(), notes=("a",), run_id=3)
    back = Measurement.from_dict(json.loads(json.dumps(m.to_dict())))
    assert back == m
    d = m.to_dict(samples=False, environment=False)
    assert "samples" not in d["step_time_s"] and "environment" not in d


def test_invariants():
    with pytest.raises(ValueError, match="error message"):
        _m(status="failed", step_time_s=None)
    with pytest.raises(ValueError, match="method"):
        _m(energy_method="unavailable")  # a figure without a method
    with pytest.raises(ValueError):
        _m(status="maybe")
    failed = _m(status="failed", error="out of memory", step_time_s=None, energy_j=None,
                energy_method="unavailable")
    assert failed.throughput_samples_per_s is None and failed.energy_j_per_sample is None
