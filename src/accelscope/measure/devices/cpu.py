"""The host CPU: wall-clock timing, process RSS, RAPL package energy, an explicit thread count."""

from __future__ import annotations

import platform

import torch

from accelscope.measure.devices import DEVICES
from accelscope.measure.devices.base import Device, DeviceError


@DEVICES.register("cpu")
class CpuDevice(Device):
    """The CPU. Nothing is queued asynchronously, so synchronising is a no-op."""

    kind = "cpu"

    def __init__(self, index: int | None = None):
        if index is not None:
            raise DeviceError(f"device 'cpu:{index}': the CPU takes no index; use 'cpu' "
                              "(all its cores, or --threads N)")
        super().__init__(None)

    def describe(self) -> dict:
        from accelscope.measure.environment import cpu_model, logical_cores, physical_cores

        return {"name": self.name, "kind": self.kind, "model": cpu_model(), "machine": platform.machine(),
                "physical_cores": physical_cores(), "logical_cores": logical_cores(),
                "threads": torch.get_num_threads()}

    def precision_note(self, precision: str) -> str | None:
        if precision == "tf32":
            return "tf32 has no effect on a CPU: matmuls run in full float32"
        return None

    def energy_meter(self):
        from accelscope.measure.energy import open_rapl_meter

        return open_rapl_meter(clock=self.clock)
