"""Every measured figure carries its verdict: into the Measurement, speedups, explore, comparisons."""

import pytest

from accelscope.jobs.explore import Row, _doubt
from accelscope.measure.bench import cpu_load, with_speedup
from accelscope.measure.result import FEW_SAMPLES, Measurement
from accelscope.measure.stats import summarize
from accelscope.store import compare_points
from accelscope.workload import WorkloadSpec

SPEC = WorkloadSpec(model="mlp", batch_size=8)


def _m(device="cpu", samples=None, **kw):
    samples = samples or [0.010, 0.0101, 0.0099, 0.0100, 0.0101, 0.0100, 0.0099, 0.0100, 0.0101, 0.0100, 0.0100]
    base = dict(spec=SPEC, device=device, threads=2, status="ok", step_time_s=summarize(samples), converged=True,
                warmup_steady=True)
    return Measurement(**(base | kw))


def test_the_verdict_names_every_flag():
    assert _m().verdict == "converged" and _m().flags == ()
    assert _m(converged=False).verdict == "capped"
    assert "noisy" in _m(samples=[0.01, 0.02] * 6).flags
    assert "warm-up exhausted" in _m(warmup_steady=False).flags
    few = _m(samples=[0.01] * (FEW_SAMPLES - 1))
    assert few.flags == ("few samples",)
    assert _m(oversubscribed=True, busy_cores_before=1.8).flags == ("oversubscribed",)
    failed = Measurement(spec=SPEC, device="cpu", threads=2, status="failed", error="boom")
    assert failed.verdict == "failed"
    d = _m(converged=False, warmup_steady=False).to_dict()
    assert d["verdict"] == "capped, warm-up exhausted"


def test_a_speedup_over_a_doubtful_baseline_says_so():
    cpu = _m(converged=False, samples=[0.02] * 2)
    gpu = with_speedup(_m("cuda:0", samples=[0.001] * 20), {("infer", 8, "fp32"): cpu})
    assert gpu.speedup_vs_cpu == pytest.approx(20) and gpu.speedup_note == "baseline: capped, few samples"
    good = with_speedup(_m("cuda:0", samples=[0.001] * 20), {("infer", 8, "fp32"): _m()})
    assert good.speedup_note is None


def test_explore_rows_carry_the_baselines_doubt():
    row = Row(device="tpu-v5e", kind="tpu", source="predicted", precision="amp-bf16", step_time_s=1e-3,
              throughput_samples_per_s=8e3, speedup_vs_cpu=None, energy_j_per_sample=None, energy_method="",
              usd_per_million_samples=None, offering=None, fits_in_memory=True)
    assert _doubt(row, "CPU baseline: capped") == "CPU baseline: capped"
    assert _doubt(row, None) is None


def test_cpu_load_flags_oversubscription(monkeypatch):
    import importlib

    b = importlib.import_module("accelscope.measure.bench")  # the module (the package's `bench` is its function)

    monkeypatch.setattr(b, "busy_cores", lambda: 1.7)
    monkeypatch.setattr(b, "physical_cores", lambda: 2)
    notes = []
    assert cpu_load(2, notes) == {"busy_cores_before": 1.7, "oversubscribed": True}
    assert notes and "--threads 1" in notes[0]
    monkeypatch.setattr(b, "busy_cores", lambda: 0.1)
    assert cpu_load(2, []) == {"busy_cores_before": 0.1, "oversubscribed": False}


def test_comparisons_say_when_threads_or_verdicts_differ():
    a = _m(threads=2).to_dict()
    b = _m(threads=1, converged=False).to_dict()
    [p] = compare_points([a], [b]).points
    assert "CPU threads differ: A 2, B 1" in p.note and "B capped" in p.note
