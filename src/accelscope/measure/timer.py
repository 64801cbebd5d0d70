"""Time one step on one device: cold start, warm-up until steady, adaptive repetitions.

The method, in order:

1. **Cold start.** The first call is timed on its own (synchronised) and reported as
   ``cold_start_s``: it includes lazy initialisation, ``torch.compile`` compilation,
   cuDNN/cuBLAS autotuning and allocator growth, none of which a steady step pays.
2. **Warm-up until steady.** Further calls are timed until the median of the last
   ``steady_window`` samples is within ``steady_tol`` (5%) of the median of the window
   before it, or the warm-up budget (half the time cap) is spent; ``warmup_steady`` says
   which. Warm-up samples are not part of the statistics.
3. **Blocks.** A step shorter than ``min_sample_s`` (1 ms) is timed in blocks of
   ``ceil(min_sample_s / step)`` back-to-back calls, so each sample is long compared to
   the clock's resolution and the synchronisation cost; a sample is the block's time
   divided by its size (a per-step time).
4. **Adaptive repetitions.** Samples are added until the 95% confidence interval of the
   median (order statistics, see :mod:`accelscope.measure.stats`) lies within
   ``target_rel_ci`` (1%) of the median on both sides, with at least ``min_samples``;
   then ``converged`` is True. Otherwise the time cap ``max_time_s`` (or ``max_samples``)
   stops it and ``converged`` is False: ``stop_reason`` says which.

Every sample is synchronised: the device's :meth:`~Device.time_block` drains the device
before starting the clock and waits for it before reading it (CUDA events on a GPU).
All samples are kept. Python's cyclic garbage collector is paused while timing (as
``timeit`` does), so its pauses do not land in random samples; it is restored afterwards.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accelscope.measure.stats import Stats, summarize


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerConfig:
    max_time_s: float = 10.0          #: cap on the measured (post-warm-up) phase, device clock
    warmup_max_s: float | None = None  #: warm-up budget; default max_time_s / 2
    target_rel_ci: float = 0.01       #: stop when the median's 95% CI is within this fraction
    min_samples: int = 10
    max_samples: int = 50_000
    min_sample_s: float = 1e-3        #: steps shorter than this are timed in blocks
    max_block: int = 10_000
    steady_window: int = 5
    steady_tol: float = 0.05
    max_warmup_samples: int = 200

    def __post_init__(self) -> None:
        from accelscope.errors import ConfigError

        if not self.max_time_s > 0:
            raise ConfigError(f"max_time_s must be positive, got {self.max_time_s!r} (e.g. --max-time 10)")
        if self.min_samples < 1 or self.max_samples < self.min_samples:
            raise ConfigError("need 1 <= min_samples <= max_samples")
        if not 0 < self.target_rel_ci < 1:
            raise ConfigError(f"target_rel_ci must be in (0, 1), got {self.target_rel_ci!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TimingResult:
    stats: Stats                 #: per-step seconds of the measured samples
    cold_start_s: float          #: the first call, alone
    warmup_samples: int
    warmup_steady: bool          #: False when the warm-up budget ran out before the times settled
    block_size: int              #: steps per sample
    iterations: int              #: steps in the measured phase (samples x block size)
    converged: bool              #: the median's 95% CI reached the target before the cap
    stop_reason: str
    measured_time_s: float       #: device-clock seconds spent in the measured phase

    @property
    def noisy(self) -> bool:
        return self.stats.noisy


def _steady(samples: list[float], window: int, tol: float) -> bool:
    if len(samples) < 2 * window:
        return False
    last = float(np.median(samples[-window:]))
    prev = float(np.median(samples[-2 * window:-window]))
    return prev > 0 and abs(last / prev - 1) <= tol


def time_step(step: Callable[[], object], device, config: TimerConfig = TimerConfig(),
              on_sample: Callable[[], None] | None = None,
              on_start: Callable[[], None] | None = None) -> TimingResult:
    """Measure ``step`` on ``device`` (an :class:`accelscope.measure.devices.Device`).

    ``on_start`` is called once, after the warm-up, as the measured phase begins, and
    ``on_sample`` after every measured sample, both outside the timed regions (energy
    meters start and poll their counters there).
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _time_step(step, device, config, on_sample, on_start)
    finally:
        if gc_was_enabled:
            gc.enable()


def _time_step(step, device, config: TimerConfig, on_sample, on_start) -> TimingResult:
    cfg = config
    clock = device.clock
    cold = device.time_block(step, 1)

    # -- warm-up ------------------------------------------------------------------------
    warm_budget = cfg.warmup_max_s if cfg.warmup_max_s is not None else cfg.max_time_s / 2
    warm: list[float] = []
    block = 1
    t0 = clock()
    steady = False
    while True:
        dt = device.time_block(step, block)
        warm.append(dt / block)
        est = float(np.median(warm[-cfg.steady_window:]))
        block = _block_size(est, cfg, block)
        if _steady(warm, cfg.steady_window, cfg.steady_tol):
            steady = True
            break
        if clock() - t0 >= warm_budget or len(warm) >= cfg.max_warmup_samples:
            break

    # -- measured phase -----------------------------------------------------------------
    samples: list[float] = []
    iterations = 0
    converged = False
    reason = ""
    next_check = cfg.min_samples
    if on_start is not None:
        on_start()
    t0 = clock()
    while True:
        dt = device.time_block(step, block)
        samples.append(dt / block)
        iterations += block
        if on_sample is not None:
            on_sample()
        n = len(samples)
        if n >= next_check:
            next_check = max(n + 1, int(n * 1.05))
            rel = summarize(samples).rel_ci_halfwidth
            if rel is not None and rel <= cfg.target_rel_ci:
                converged, reason = True, f"95% CI of the median within {cfg.target_rel_ci:.0%} after {n} samples"
                break
        if clock() - t0 >= cfg.max_time_s:
            reason = f"time cap {cfg.max_time_s:g} s reached after {n} samples"
            break
        if n >= cfg.max_samples:
            reason = f"sample cap {cfg.max_samples} reached"
            break
    return TimingResult(stats=summarize(samples), cold_start_s=cold, warmup_samples=len(warm),
                        warmup_steady=steady, block_size=block, iterations=iterations, converged=converged,
                        stop_reason=reason, measured_time_s=clock() - t0)


def _block_size(step_s: float, cfg: TimerConfig, current: int = 1) -> int:
    if step_s <= 0:  # the clock did not tick during a whole block: grow it tenfold
        return int(min(cfg.max_block, current * 10))
    return int(min(cfg.max_block, max(1, math.ceil(cfg.min_sample_s / step_s))))
