"""NVIDIA (and ROCm, through the same torch.cuda API) GPUs: CUDA-event timing, allocator peaks, NVML energy."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from accelscope.measure.devices import DEVICES
from accelscope.measure.devices.base import Device, DeviceError, MemoryPeak


@DEVICES.register("cuda")
class CudaDevice(Device):
    """``cuda:N``. Steps are timed with CUDA events recorded on the current stream.

    Events measure the GPU's time between two points of the stream; the stream is drained
    before the start event, so the time also covers any gap while the CPU launches kernels,
    as the synchronised wall time of a step would.
    """

    kind = "cuda"

    def __init__(self, index: int | None = None):
        index = 0 if index is None else index
        if not torch.cuda.is_available():
            raise DeviceError(f"device 'cuda:{index}' was asked for, but torch sees no CUDA GPU "
                              f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}). "
                              "Check the driver with nvidia-smi, or pick another --device (see 'auto').")
        count = torch.cuda.device_count()
        if not 0 <= index < count:
            raise DeviceError(f"device 'cuda:{index}' does not exist: this machine has {count} CUDA "
                              f"device(s), cuda:0 to cuda:{count - 1}.")
        super().__init__(index)

    def activate(self):
        return torch.cuda.device(self.index)

    def describe(self) -> dict:
        p = torch.cuda.get_device_properties(self.index)
        return {"name": self.name, "kind": self.kind, "model": p.name,
                "compute_capability": f"{p.major}.{p.minor}", "total_memory_bytes": int(p.total_memory),
                "multiprocessors": p.multi_processor_count, "uuid": str(getattr(p, "uuid", "")) or None}

    def unsupported_reason(self, precision: str) -> str | None:
        if precision in ("bf16", "amp-bf16"):
            major, _ = torch.cuda.get_device_capability(self.index)
            if major < 8:
                return (f"{precision}: {torch.cuda.get_device_name(self.index)} (compute capability "
                        f"{major}.x) has no native bfloat16 arithmetic (needs 8.0+, Ampere or newer)")
        return None

    def precision_note(self, precision: str) -> str | None:
        if precision == "tf32" and torch.cuda.get_device_capability(self.index)[0] < 8:
            return "tf32: this GPU has no TensorFloat-32 units (needs Ampere or newer); runs as float32"
        return None

    def synchronize(self) -> None:
        torch.cuda.synchronize(self.index)

    def time_block(self, fn: Callable[[], object], iterations: int) -> float:
        with torch.cuda.device(self.index):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            for _ in range(iterations):
                fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3  # milliseconds -> seconds

    def reset_peak_memory(self) -> None:
        super().reset_peak_memory()
        torch.cuda.reset_peak_memory_stats(self.index)

    def peak_memory(self) -> MemoryPeak:
        host = super().peak_memory()
        return MemoryPeak(allocated_bytes=int(torch.cuda.max_memory_allocated(self.index)),
                          reserved_bytes=int(torch.cuda.max_memory_reserved(self.index)),
                          rss_bytes=host.rss_bytes, note=host.note)

    def empty_cache(self) -> None:
        torch.cuda.empty_cache()

    def nvml_ids(self) -> tuple[str | None, int | None]:
        """(NVML uuid ``GPU-...``, NVML index) of this device, honouring CUDA_VISIBLE_DEVICES."""
        uuid = None
        with contextlib.suppress(Exception):
            u = getattr(torch.cuda.get_device_properties(self.index), "uuid", None)
            if u is not None and str(u):
                uuid = str(u) if str(u).startswith(("GPU-", "MIG-")) else f"GPU-{u}"
        nvml_index = None
        with contextlib.suppress(Exception):
            nvml_index = torch.cuda._get_nvml_device_index(self.index)
        return uuid, nvml_index

    def energy_meter(self):
        from accelscope.measure.energy import open_nvml_meter

        uuid, nvml_index = self.nvml_ids()
        return open_nvml_meter(uuid=uuid, nvml_index=nvml_index, label=self.name, clock=self.clock)
