import pytest

from accelscope.measure.devices import get_device
from accelscope.measure.timer import TimerConfig, time_step


def _null(samples, **kw):
    return get_device("null", samples=samples, run="none", **kw)


def _noop():
    return None


def test_constant_step_converges_at_min_samples_and_records_cold_start():
    dev = _null([0.5] + [0.01] * 10_000)
    r = time_step(_noop, dev, TimerConfig(max_time_s=5, min_samples=10))
    assert r.cold_start_s == 0.5
    assert r.converged and "CI" in r.stop_reason
    assert r.stats.n == 10 and r.stats.median == pytest.approx(0.01)
    assert r.block_size == 1 and r.iterations == 10
    assert r.warmup_steady and r.warmup_samples == 10  # two windows of 5 identical samples
    assert not r.noisy


def test_warmup_runs_until_times_settle_and_is_excluded():
    ramp = [1.0, 0.5, 0.3, 0.2, 0.15, 0.12, 0.1, 0.09, 0.085, 0.08]
    dev = _null(ramp + [0.05] * 10_000)
    r = time_step(_noop, dev, TimerConfig(max_time_s=100, min_samples=10))
    assert r.cold_start_s == 1.0
    assert r.warmup_steady
    assert r.warmup_samples >= len(ramp) - 1 + 5  # the ramp plus at least one steady window
    assert r.stats.median == pytest.approx(0.05) and r.stats.max == pytest.approx(0.05)


def test_warmup_budget_runs_out_when_never_steady():
    # every step 20% slower than the one before: never steady
    dev = _null([0.001 * 1.2 ** i for i in range(200)])
    r = time_step(_noop, dev, TimerConfig(max_time_s=1.0, warmup_max_s=0.2))
    assert not r.warmup_steady
    assert 0.001 * sum(1.2 ** i for i in range(1, r.warmup_samples)) < 0.2  # stopped at the budget


def test_noisy_steps_hit_the_time_cap_and_say_so():
    dev = _null([0.01, 0.02])
    r = time_step(_noop, dev, TimerConfig(max_time_s=2.0, min_samples=10))
    assert not r.converged
    assert "time cap 2 s" in r.stop_reason
    assert r.noisy and r.stats.rel_iqr > 0.10
    # stops at the first sample that reaches the cap: cap <= measured < cap + one sample
    assert 2.0 <= r.measured_time_s < 2.0 + 0.02 + 1e-12
    assert r.stats.n == pytest.approx(2.0 / 0.015, abs=2)


def test_sub_millisecond_steps_are_timed_in_blocks():
    dev = _null([1e-5])
    r = time_step(_noop, dev, TimerConfig(max_time_s=5, min_sample_s=1e-3))
    assert r.block_size == 100
    assert r.iterations == r.stats.n * 100
    assert r.stats.median == pytest.approx(1e-5)


def test_sample_cap():
    dev = _null([0.01, 0.02])
    r = time_step(_noop, dev, TimerConfig(max_time_s=1e6, min_samples=5, max_samples=40))
    assert r.stats.n == 40 and not r.converged and "sample cap" in r.stop_reason


def test_hooks_run_outside_the_timed_region():
    calls = []
    dev = _null([0.01])
    r = time_step(_noop, dev, TimerConfig(max_time_s=5), on_start=lambda: calls.append("start"),
                  on_sample=lambda: calls.append("sample"))
    assert calls[0] == "start" and calls.count("start") == 1
    assert calls.count("sample") == r.stats.n


def test_real_cpu_step_is_timed():
    import torch

    x = torch.randn(64, 64)
    dev = get_device("cpu")
    r = time_step(lambda: x @ x, dev, TimerConfig(max_time_s=0.2))
    assert r.stats.n >= 1 and r.stats.median > 0 and r.cold_start_s > 0
    assert r.iterations == r.stats.n * r.block_size


def test_bad_config_is_rejected():
    from accelscope.errors import ConfigError

    with pytest.raises(ConfigError):
        TimerConfig(max_time_s=0)
    with pytest.raises(ConfigError):
        TimerConfig(target_rel_ci=2)
