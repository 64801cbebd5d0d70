"""Device backends, found by name: ``cpu``, ``cuda[:N]``, ``mps``, ``null``.

>>> from accelscope.measure.devices import get_device, resolve_devices
>>> get_device("cpu").name
'cpu'

``auto`` means every device present (the CPU, each CUDA GPU, the Metal GPU); the null
device is never part of ``auto``.
"""

from __future__ import annotations

from collections.abc import Iterable

from accelscope.errors import ConfigError
from accelscope.registry import Registry

DEVICES: Registry = Registry("device")

# Backends register themselves on import (one module per backend).
from accelscope.measure.devices.base import Device, DeviceError, MemoryPeak  # noqa: E402
from accelscope.measure.devices import cpu, cuda, mps, null  # noqa: E402,F401


def parse_device_name(spec: str) -> tuple[str, int | None]:
    """``'cuda:1' -> ('cuda', 1)``, ``'cpu' -> ('cpu', None)``; the kind must be registered."""
    text = spec.strip().lower()
    kind, sep, idx = text.partition(":")
    kind = DEVICES.get(kind) and kind  # unknown kinds raise UnknownNameError with the valid list
    if not sep:
        return kind, None
    if not idx.isdigit():
        raise ConfigError(f"device {spec!r}: the index after ':' must be a non-negative integer, e.g. cuda:0")
    return kind, int(idx)


def get_device(spec: str, **options) -> Device:
    """The device named ``spec`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``, ``null``)."""
    kind, index = parse_device_name(spec)
    return DEVICES.get(kind)(index, **options)


def available_devices() -> list[str]:
    """Names of the devices present on this machine: ``cpu``, then ``cuda:N``..., then ``mps``."""
    import torch

    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if mps.mps_available():
        names.append("mps")
    return names


def resolve_devices(specs: str | Iterable[str]) -> list[Device]:
    """Devices for a comma-separated list or a list of names; ``auto`` = every device present.

    Duplicates are dropped (``cuda`` and ``cuda:0`` are the same device).
    """
    items = specs.split(",") if isinstance(specs, str) else list(specs)
    names: list[str] = []
    for item in (s.strip() for s in items):
        if not item:
            continue
        expanded = available_devices() if item.lower() == "auto" else [item]
        for n in expanded:
            kind, index = parse_device_name(n)
            if kind == "cuda" and index is None:
                index = 0
            canonical = kind if index is None else f"{kind}:{index}"
            if canonical not in names:
                names.append(canonical)
    if not names:
        raise ConfigError("no device given: use e.g. --device cpu, --device cuda:0 or --device auto")
    return [get_device(n) for n in names]


__all__ = ["DEVICES", "Device", "DeviceError", "MemoryPeak", "available_devices", "get_device",
           "parse_device_name", "resolve_devices"]
