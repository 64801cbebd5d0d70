"""Apple-silicon GPUs through Metal (``mps``): synchronised wall-clock timing, allocator readings."""

from __future__ import annotations

import torch

from accelscope.measure.devices import DEVICES
from accelscope.measure.devices.base import Device, DeviceError, MemoryPeak


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


@DEVICES.register("mps")
class MpsDevice(Device):
    """The Metal GPU. torch has no peak-memory counter for MPS: memory is read after the run."""

    kind = "mps"

    def __init__(self, index: int | None = None):
        if index not in (None, 0):
            raise DeviceError(f"device 'mps:{index}': there is one Metal device; use 'mps'")
        if not mps_available():
            raise DeviceError("device 'mps' was asked for, but torch.backends.mps.is_available() is "
                              "False (needs Apple silicon, macOS 12.3+ and an arm64 Python).")
        super().__init__(None)

    def describe(self) -> dict:
        import platform

        return {"name": self.name, "kind": self.kind, "model": f"Apple GPU ({platform.machine()})",
                "recommended_max_memory_bytes": int(torch.mps.recommended_max_memory())
                if hasattr(torch.mps, "recommended_max_memory") else None}

    def unsupported_reason(self, precision: str) -> str | None:
        return None

    def synchronize(self) -> None:
        torch.mps.synchronize()

    def peak_memory(self) -> MemoryPeak:
        host = super().peak_memory()
        return MemoryPeak(allocated_bytes=int(torch.mps.current_allocated_memory()),
                          reserved_bytes=int(torch.mps.driver_allocated_memory()), rss_bytes=host.rss_bytes,
                          note="mps has no peak counter: allocated/reserved are read at the end of the run")

    def empty_cache(self) -> None:
        torch.mps.empty_cache()

    def energy_meter(self):
        from accelscope.measure.energy import UnavailableMeter

        return UnavailableMeter("Apple GPUs expose power only through powermetrics (needs root); "
                                "accelscope does not read it", self.clock)
