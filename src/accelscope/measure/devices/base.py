"""What every device backend provides: synchronise, time, peak memory, energy, describe itself.

A backend is a subclass of :class:`Device` in its own module (``cpu.py``, ``cuda.py``,
``mps.py``, ``null.py``), registered by name in :data:`accelscope.measure.devices.DEVICES`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from accelscope.errors import AccelscopeError


class DeviceError(AccelscopeError):
    """A device that was asked for is not present or cannot be used."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryPeak:
    """Peak memory over a measured point. ``None`` means the backend cannot read it (see ``note``)."""

    allocated_bytes: int | None  #: peak bytes held by tensors on the device
    reserved_bytes: int | None   #: peak bytes the caching allocator held (>= allocated)
    rss_bytes: int | None        #: peak resident set size of this process (host memory)
    note: str = ""

    def to_dict(self) -> dict:
        return {"allocated": self.allocated_bytes, "reserved": self.reserved_bytes, "rss": self.rss_bytes,
                "note": self.note}


def _read_vmhwm() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux ``clear_refs``); True on success."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> tuple[int | None, str]:
    """Peak RSS of this process and how it was read.

    ``/proc/self/status`` VmHWM (resettable per point) on Linux; otherwise
    ``resource.getrusage`` ``ru_maxrss``, which is the peak over the whole process life.
    """
    v = _read_vmhwm()
    if v is not None:
        return v, "VmHWM"
    try:
        import resource
        import sys

        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (r if sys.platform == "darwin" else r * 1024), "ru_maxrss (process-lifetime peak)"
    except Exception:  # pragma: no cover - Windows
        return None, "unavailable"


class Device:
    """Base class of a device backend. Subclasses override what differs."""

    #: backend name in the registry ("cpu", "cuda", "mps", "null")
    kind: str = ""

    def __init__(self, index: int | None = None):
        self.index = index
        self._rss_resettable = False

    # -- identity ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The name a user types: ``cpu``, ``cuda:0``, ``mps``, ``null``."""
        return self.kind if self.index is None else f"{self.kind}:{self.index}"

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.kind if self.index is None else f"{self.kind}:{self.index}")

    @property
    def autocast_device_type(self) -> str:
        return self.torch_device.type

    def activate(self):
        """A context in which this device is the current one (CUDA sets the current GPU)."""
        import contextlib

        return contextlib.nullcontext()

    def describe(self) -> dict:
        """Name, model and capabilities, for the run record."""
        return {"name": self.name, "kind": self.kind}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # -- precision support ------------------------------------------------------------
    def unsupported_reason(self, precision: str) -> str | None:
        """Why ``precision`` cannot run here, or None to just try it (failures are recorded)."""
        return None

    def precision_note(self, precision: str) -> str | None:
        """A caveat about what ``precision`` means on this device (e.g. tf32 on a CPU)."""
        return None

    # -- clock ------------------------------------------------------------------------
    def synchronize(self) -> None:
        """Wait until all queued work on the device has finished."""

    def clock(self) -> float:
        """Seconds from a monotonic clock (the null device substitutes a fake one)."""
        return time.perf_counter()

    def time_block(self, fn: Callable[[], object], iterations: int) -> float:
        """Synchronised seconds to run ``fn`` ``iterations`` times back to back."""
        self.synchronize()
        t0 = time.perf_counter()
        for _ in range(iterations):
            fn()
        self.synchronize()
        return time.perf_counter() - t0

    # -- memory -----------------------------------------------------------------------
    def reset_peak_memory(self) -> None:
        self._rss_resettable = reset_peak_rss()

    def peak_memory(self) -> MemoryPeak:
        rss, how = peak_rss_bytes()
        note = "" if self._rss_resettable else f"rss from {how}"
        return MemoryPeak(allocated_bytes=None, reserved_bytes=None, rss_bytes=rss, note=note)

    def empty_cache(self) -> None:
        """Give cached device memory back (after a failed point)."""

    # -- energy -----------------------------------------------------------------------
    def energy_meter(self):
        """An :class:`accelscope.measure.energy.EnergyMeter` for this device."""
        from accelscope.measure.energy import UnavailableMeter

        return UnavailableMeter(f"the {self.kind} backend has no energy counter")
