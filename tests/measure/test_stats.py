import math

import numpy as np
import pytest

from accelscope.measure.stats import bootstrap_ratio_ci, mann_whitney_p, median_ci, summarize


def test_summary_of_known_samples():
    s = summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])  # 1..10, shuffled
    assert s.median == 5.5 and s.mean == 5.5 and s.min == 1 and s.max == 10 and s.n == 10
    # numpy "linear" percentiles: p10 = 1 + 0.9 * 1, p90 = 9 + 0.1 * 1, IQR = 7.75 - 3.25
    assert s.p10 == pytest.approx(1.9) and s.p90 == pytest.approx(9.1)
    assert s.iqr == pytest.approx(4.5)
    assert s.samples == (10, 1, 9, 2, 8, 3, 7, 4, 6, 5)  # raw samples kept in order
    assert s.rel_iqr == pytest.approx(4.5 / 5.5) and s.noisy


def test_noise_verdict_threshold_is_ten_percent():
    quiet = summarize([1.0, 1.02, 1.04, 1.06, 1.08])  # IQR 0.04 / median 1.04
    assert not quiet.noisy
    loud = summarize([1.0, 1.0, 1.05, 1.2, 1.2])      # IQR 0.2 / 1.05
    assert loud.noisy


def test_median_ci_order_statistics():
    x = np.arange(1, 101, dtype=float)
    # n = 100: ranks floor(50 - 9.8) = 40 and ceil(51 + 9.8) = 61 (1-based)
    assert median_ci(x[::-1]) == (40.0, 61.0)
    assert median_ci(np.arange(1, 11)) == (1.0, 10.0)  # n = 10: ranks 1 and 10
    assert median_ci([1, 2, 3, 4, 5]) is None  # too few samples for a 95% claim
    s = summarize(np.full(20, 3.0))
    assert s.ci_low == s.ci_high == 3.0 and s.rel_ci_halfwidth == 0.0


def test_median_ci_covers_the_true_median_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    true_median = math.log(2)  # exponential(1), a skewed "timing-like" distribution
    trials, hits = 2000, 0
    for _ in range(trials):
        lo, hi = median_ci(rng.exponential(size=60))
        hits += lo <= true_median <= hi
    assert 0.93 <= hits / trials <= 0.99


def test_summarize_rejects_empty_and_nan():
    with pytest.raises(ValueError):
        summarize([])
    with pytest.raises(ValueError):
        summarize([1.0, float("nan")])


def test_bootstrap_ratio_of_medians():
    exact = bootstrap_ratio_ci([0.02] * 30, [0.001] * 30)
    assert exact.ratio == pytest.approx(20) and exact.ci_low == pytest.approx(20) and exact.ci_high == pytest.approx(20)
    rng = np.random.default_rng(0)
    cpu = rng.normal(10.0, 0.2, 200)
    gpu = rng.normal(2.0, 0.04, 200)
    ci = bootstrap_ratio_ci(cpu, gpu)
    assert ci.ci_low < ci.ratio < ci.ci_high
    assert ci.ci_low < 5.0 < ci.ci_high and ci.ci_high - ci.ci_low < 0.2
    assert ci.excludes(1.0) and not ci.excludes(5.0)
    assert bootstrap_ratio_ci(cpu, gpu) == ci  # seeded: reproducible


def test_bootstrap_ci_coverage():
    rng = np.random.default_rng(3)
    hits, trials = 0, 100
    for _ in range(trials):
        a, b = rng.lognormal(0.0, 0.1, 80), rng.lognormal(math.log(0.5), 0.1, 80)
        ci = bootstrap_ratio_ci(a, b, resamples=400, seed=int(rng.integers(1 << 30)))
        hits += ci.ci_low <= 2.0 <= ci.ci_high
    assert hits >= 85


def test_mann_whitney():
    rng = np.random.default_rng(2)
    a = rng.normal(1.0, 0.05, 50)
    assert mann_whitney_p(a, a * 1.2) < 1e-6
    assert mann_whitney_p(a, rng.normal(1.0, 0.05, 50)) > 0.01
    assert mann_whitney_p([1.0] * 10, [1.0] * 10) == 1.0


def test_mann_whitney_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(4)
    a = np.round(rng.normal(1.0, 0.1, 40), 2)  # rounding makes ties
    b = np.round(rng.normal(1.05, 0.1, 35), 2)
    ref = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", use_continuity=True, method="asymptotic")
    assert mann_whitney_p(a, b) == pytest.approx(ref.pvalue, rel=1e-6)
