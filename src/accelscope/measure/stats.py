"""Statistics of timing samples: summaries, the median's confidence interval, ratios of medians.

Pure functions on plain sequences of floats (numpy only); nothing here touches a device.

* Percentiles use linear interpolation between order statistics (numpy's default, the
  "type 7" estimator of Hyndman & Fan 1996), so p50 of ``[1, 2, 3, 4]`` is 2.5.
* The 95% confidence interval of the median is distribution-free: the order statistics
  of ranks ``j = floor(n/2 - 1.96 sqrt(n)/2)`` and ``k = ceil(1 + n/2 + 1.96 sqrt(n)/2)``
  (1-based), from the normal approximation to the Binomial(n, 1/2) count of samples below
  the median (Conover, *Practical Nonparametric Statistics*, 3rd ed., section 3.2). It
  needs no assumption about the shape of the timing distribution, which is skewed.
* The confidence interval of a ratio of medians (a speedup, a regression) is a percentile
  bootstrap (Efron & Tibshirani 1993, ch. 13): both sample sets are resampled with
  replacement, independently, and the 2.5th and 97.5th percentiles of the ratio of the
  resampled medians are reported. It assumes samples are independent draws, which holds
  for steady-state steps up to slow drifts (the "noisy" verdict flags those).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: IQR / median above which a measurement is called noisy.
NOISY_REL_IQR = 0.10
_Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    """Summary of ``n`` samples (seconds per step), with the raw samples kept in order."""

    median: float
    mean: float
    p10: float
    p90: float
    iqr: float
    min: float
    max: float
    n: int
    ci_low: float | None  #: 95% CI of the median; None when n is too small (< 6)
    ci_high: float | None
    samples: tuple[float, ...]

    @property
    def rel_iqr(self) -> float:
        """IQR / median: the spread, relative."""
        return self.iqr / self.median if self.median > 0 else math.inf

    @property
    def noisy(self) -> bool:
        """True when IQR / median > 10% (:data:`NOISY_REL_IQR`)."""
        return self.rel_iqr > NOISY_REL_IQR

    @property
    def rel_ci_halfwidth(self) -> float | None:
        """The larger distance from the median to a CI bound, relative to the median."""
        if self.ci_low is None or self.ci_high is None or self.median <= 0:
            return None
        return max(self.median - self.ci_low, self.ci_high - self.median) / self.median

    def to_dict(self, samples: bool = True) -> dict:
        d = {"median": self.median, "mean": self.mean, "p10": self.p10, "p90": self.p90,
             "iqr": self.iqr, "min": self.min, "max": self.max, "n": self.n,
             "ci_low": self.ci_low, "ci_high": self.ci_high}
        if samples:
            d["samples"] = list(self.samples)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Stats":
        return cls(**{**{k: d.get(k) for k in ("median", "mean", "p10", "p90", "iqr", "min", "max", "n",
                                                "ci_low", "ci_high")},
                      "samples": tuple(d.get("samples") or ())})


def median_ci(samples: Sequence[float], confidence_z: float = _Z95) -> tuple[float, float] | None:
    """Distribution-free 95% CI of the median (order statistics), or None for n < 6.

    With n < 6 even the widest interval (min, max) covers the median with less than 95%
    probability (1 - 2 * 0.5**n < 0.95), so no interval is claimed.
    """
    x = np.sort(np.asarray(samples, dtype=float))
    n = x.size
    if n < 6:
        return None
    half = confidence_z * math.sqrt(n) / 2
    j = max(1, math.floor(n / 2 - half))
    k = min(n, math.ceil(1 + n / 2 + half))
    return float(x[j - 1]), float(x[k - 1])


def summarize(samples: Sequence[float]) -> Stats:
    """Median, mean, p10, p90, IQR, min, max, n and the median's 95% CI of ``samples``."""
    x = np.asarray(samples, dtype=float)
    if x.size == 0:
        raise ValueError("cannot summarise an empty list of samples")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or infinity")
    p10, q1, med, q3, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    ci = median_ci(x)
    return Stats(median=float(med), mean=float(x.mean()), p10=float(p10), p90=float(p90),
                 iqr=float(q3 - q1), min=float(x.min()), max=float(x.max()), n=int(x.size),
                 ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None,
                 samples=tuple(float(v) for v in x))


@dataclass(frozen=True, slots=True, kw_only=True)
class RatioCI:
    """``ratio = median(numerator) / median(denominator)`` with its bootstrap 95% CI."""

    ratio: float
    ci_low: float
    ci_high: float
    resamples: int

    def excludes(self, value: float = 1.0) -> bool:
        """True when the whole interval lies on one side of ``value`` (a significant change)."""
        return self.ci_low > value or self.ci_high < value


def _bootstrap_medians(x: np.ndarray, resamples: int, rng: np.random.Generator, chunk: int = 256) -> np.ndarray:
    out = np.empty(resamples)
    if x.size == 1:
        out[:] = x[0]
        return out
    for start in range(0, resamples, chunk):
        m = min(chunk, resamples - start)
        idx = rng.integers(0, x.size, size=(m, x.size))
        out[start:start + m] = np.median(x[idx], axis=1)
    return out


def bootstrap_ratio_ci(numerator: Sequence[float], denominator: Sequence[float], *,
                       resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> RatioCI:
    """Percentile-bootstrap CI of ``median(numerator) / median(denominator)``.

    For a speedup of device D over the CPU, pass the CPU step times as ``numerator`` and
    D's as ``denominator``. The generator is seeded, so the interval is reproducible.
    """
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("bootstrap_ratio_ci needs at least one sample on each side")
    if np.median(b) <= 0:
        raise ValueError("the denominator's median must be positive")
    rng = np.random.default_rng(seed)
    ratios = _bootstrap_medians(a, resamples, rng) / _bootstrap_medians(b, resamples, rng)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(ratios, [tail, 100 - tail])
    return RatioCI(ratio=float(np.median(a) / np.median(b)), ci_low=float(lo), ci_high=float(hi),
                   resamples=resamples)


def mann_whitney_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U test p-value (normal approximation with tie correction).

    A second opinion next to the bootstrap CI: it asks whether one sample set tends to be
    larger than the other, without assuming a distribution. Valid for n >= ~8 per side.
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    n1, n2 = a.size, b.size
    if n1 == 0 or n2 == 0:
        raise ValueError("mann_whitney_p needs samples on both sides")
    allv = np.concatenate([a, b])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(allv.size)
    sorted_v = allv[order]
    # average ranks for ties
    i = 0
    while i < sorted_v.size:
        j = i
        while j + 1 < sorted_v.size and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u1 = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    _, counts = np.unique(sorted_v, return_counts=True)
    n = n1 + n2
    tie = (counts ** 3 - counts).sum() / (n * (n - 1)) if n > 1 else 0.0
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie))
    if sigma == 0:
        return 1.0
    z = (abs(u1 - mu) - 0.5) / sigma  # continuity correction
    return float(min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2))))
