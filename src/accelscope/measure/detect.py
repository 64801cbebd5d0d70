"""What this machine has: its devices and the catalog entries they correspond to."""

from __future__ import annotations

from dataclasses import dataclass

from accelscope.hardware.detect import match_catalog
from accelscope.hardware.schema import HardwareSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalDevice:
    name: str          # accelscope device name: cpu, cuda:0, mps
    kind: str          # catalog kind: cpu or gpu
    model: str | None  # what the OS / driver reports
    spec: HardwareSpec | None


def detect() -> list[LocalDevice]:
    """The devices of this machine, CPU first, each with its catalog entry (or None)."""
    import torch

    from accelscope.measure.environment import cpu_model

    cpu = cpu_model()
    out = [LocalDevice(name="cpu", kind="cpu", model=cpu, spec=match_catalog(cpu or "", "cpu"))]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            name = torch.cuda.get_device_name(i)
            out.append(LocalDevice(name=f"cuda:{i}", kind="gpu", model=name, spec=match_catalog(name, "gpu")))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        out.append(LocalDevice(name="mps", kind="gpu", model="Apple GPU (MPS)", spec=None))
    return out
