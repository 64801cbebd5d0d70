"""Measure real devices: the only package that runs models for real (it imports torch).

>>> import accelscope.measure as m
>>> run = m.bench("mlp", devices="cpu", tasks="infer,train", batch_sizes=[1, 8], max_time_s=2)
>>> [(r.task, r.batch_size, r.throughput_samples_per_s) for r in run.measurements]

Modules: ``devices/`` (one backend per file, found by name), ``timer`` (warm-up and adaptive
repetitions), ``stats`` (summaries and confidence intervals), ``energy`` (NVML and RAPL
counters), ``environment`` (what the run ran on), ``detect`` (this machine's devices and their
catalog entries), ``bench`` (the sweep), ``result`` (the :class:`Measurement` dataclass).
"""

from accelscope.measure.bench import BenchConfig, BenchRun, bench, build_step, measure_point
from accelscope.measure.detect import LocalDevice, detect
from accelscope.measure.devices import available_devices, get_device, resolve_devices
from accelscope.measure.energy import EnergyReading
from accelscope.measure.environment import Environment, collect_environment
from accelscope.measure.result import Measurement
from accelscope.measure.stats import RatioCI, Stats, bootstrap_ratio_ci, mann_whitney_p, summarize
from accelscope.measure.timer import TimerConfig, TimingResult, time_step

__all__ = ["BenchConfig", "BenchRun", "EnergyReading", "Environment", "LocalDevice", "Measurement", "RatioCI",
           "Stats", "TimerConfig", "TimingResult", "available_devices", "bench", "bootstrap_ratio_ci",
           "build_step", "collect_environment", "detect", "get_device", "mann_whitney_p", "measure_point",
           "resolve_devices", "summarize", "time_step"]
