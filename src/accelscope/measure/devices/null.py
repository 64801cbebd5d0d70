"""The null device: a fake clock and fake energy, so every path can be tested without a GPU.

It runs the step on the CPU (so shape or dtype errors still surface) but its clock is
fake and deterministic: each iteration "takes" the next value of ``samples`` (cycled), or
``step_time_s``; energy is ``power_w`` times the fake elapsed time, labelled ``fake``.

``run`` chooses how much real work is done: ``"once"`` (default) calls the step once per
timed block whatever the block size, ``"all"`` calls it every iteration, ``"none"`` never.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import torch

from accelscope.measure.devices import DEVICES
from accelscope.measure.devices.base import Device, DeviceError, MemoryPeak
from accelscope.measure.energy import EnergyMeter, EnergyReading


class FakeMeter(EnergyMeter):
    """Constant power over the null device's fake clock."""

    method = "fake"
    scope = "null device (fake constant power)"
    confidence = "none"

    def __init__(self, power_w: float, clock: Callable[[], float]):
        super().__init__(clock)
        self.power_w = power_w

    def stop(self) -> EnergyReading:
        window = self._window()
        return EnergyReading(energy_j=self.power_w * window, window_s=window, method=self.method,
                             scope=self.scope, confidence=self.confidence,
                             note="null device: not a measurement")


@DEVICES.register("null")
class NullDevice(Device):
    kind = "null"

    def __init__(self, index: int | None = None, *, step_time_s: float = 1e-3,
                 samples: Iterable[float] | None = None, power_w: float = 100.0, run: str = "once",
                 fail_precisions: Iterable[str] = ()):
        if index is not None:
            raise DeviceError(f"device 'null:{index}': the null device takes no index; use 'null'")
        if run not in ("once", "all", "none"):
            raise DeviceError(f"null device: run must be 'once', 'all' or 'none', not {run!r}")
        super().__init__(None)
        seq = list(samples) if samples is not None else [step_time_s]
        if not seq or any(s <= 0 for s in seq):
            raise DeviceError("null device: sample times must be positive")
        self._times = itertools.cycle(seq)
        self.power_w, self.run = power_w, run
        self.fail_precisions = frozenset(fail_precisions)
        self._now = 0.0
        self.calls = 0  #: how many times the step really ran

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cpu")

    def describe(self) -> dict:
        return {"name": self.name, "kind": self.kind, "model": "null device (fake clock; runs on the CPU)",
                "run": self.run, "power_w": self.power_w}

    def unsupported_reason(self, precision: str) -> str | None:
        if precision in self.fail_precisions:
            return f"{precision}: the null device was told to reject it (test double)"
        return None

    def clock(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def time_block(self, fn: Callable[[], object], iterations: int) -> float:
        real = {"all": iterations, "once": 1, "none": 0}[self.run]
        for _ in range(real):
            fn()
        self.calls += real
        dt = sum(next(self._times) for _ in range(iterations))
        self._now += dt
        return dt

    def peak_memory(self) -> MemoryPeak:
        host = super().peak_memory()
        return MemoryPeak(allocated_bytes=None, reserved_bytes=None, rss_bytes=host.rss_bytes,
                          note="null device: no device memory")

    def energy_meter(self):
        return FakeMeter(self.power_w, self.clock)
