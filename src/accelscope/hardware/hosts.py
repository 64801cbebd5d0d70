"""Host CPUs and systems: the machine that drives an accelerator.

Eager PyTorch spends host time on every aten op (Python, the dispatcher, autograd, the
library's set-up and the kernel launch) on one CPU thread, so small-batch work on a GPU is
as fast as its host's single thread. ``hardware/data/hosts.toml`` holds:

* ``[reference]``: the eager dispatch cost per op of a reference host: the one figure of the GPU
  predictor fitted to published throughput (no published measurement names its CPU; the
  file gives the fit, its leave-one-GPU-out check and the measured cross-checks);
* ``[cpu.NAME]``: host CPUs with a single-thread score from one published benchmark (the
  same benchmark for all, so their ratios mean something), and their clocks;
* ``[system.NAME]``: machines that name their host CPU (DGX-1: Xeon E5-2698 v4, DGX A100:
  EPYC 7742, DGX H100: Xeon Platinum 8480C, cloud instances, a workstation), each sourced.

A host's eager cost per op is derived, and says so: the reference cost times the reference
CPU's single-thread score over the host's (``Host.eager_op_s``): the Python interpreter, the
dispatcher and the driver's launch path run on one thread. A device file names the
system it usually sits in (``host = "dgx-a100"``); ``--host-cpu NAME`` (a system or a CPU)
overrides it, and ``accelscope calibrate`` fits the user's own host from measurements.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from accelscope.errors import CatalogError, UnknownNameError
from accelscope.hardware.schema import Figure

#: What a device without a ``host`` key is driven from: a dual-socket server of the
#: reference CPU's generation (said in every estimate that uses it).
DEFAULT_HOST = "reference"


@dataclass(frozen=True, slots=True, kw_only=True)
class HostCPU:
    name: str
    display_name: str
    microarchitecture: str
    max_turbo_hz: Figure
    single_thread_score: Figure
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "display_name": self.display_name, "microarchitecture": self.microarchitecture,
                "max_turbo_hz": self.max_turbo_hz.to_dict(), "single_thread_score": self.single_thread_score.to_dict(),
                "aliases": list(self.aliases)}


@dataclass(frozen=True, slots=True, kw_only=True)
class System:
    name: str
    display_name: str
    host_cpu: str
    source: str
    accelerators: str | None = None
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "display_name": self.display_name, "host_cpu": self.host_cpu,
                "accelerators": self.accelerators, "source": self.source, "aliases": list(self.aliases)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    """The host an estimate assumes: its CPU, the system that names it (if any), and the
    eager per-op cost derived for it."""

    cpu: HostCPU
    system: System | None
    eager_op_s: Figure

    @property
    def name(self) -> str:
        return self.system.name if self.system else self.cpu.name

    @property
    def label(self) -> str:
        return f"{self.system.display_name} ({self.cpu.display_name})" if self.system else self.cpu.display_name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cpu": self.cpu.to_dict(), "system": self.system.to_dict() if self.system else None,
                "eager_op_s": self.eager_op_s.to_dict()}


@dataclass(frozen=True, slots=True)
class HostCatalog:
    reference_cpu: str
    reference_op_s: Figure
    cpus: dict[str, HostCPU]
    systems: dict[str, System]

    def _find(self, name: str) -> HostCPU | System | None:
        from accelscope.hardware.catalog import normalize_name

        key = normalize_name(name)
        if key == DEFAULT_HOST:
            return self.cpus[self.reference_cpu]
        for table in (self.systems, self.cpus):
            for entry in table.values():
                if key == entry.name or key in entry.aliases or key == normalize_name(entry.display_name):
                    return entry
        return None

    def host(self, name: str) -> Host:
        """The host called ``name`` (a system, a host CPU, or ``reference``), or UnknownNameError."""
        entry = self._find(name)
        if entry is None:
            raise UnknownNameError("host", name,
                                   [*self.systems, *self.cpus, DEFAULT_HOST])
        system = entry if isinstance(entry, System) else None
        cpu = self.cpus[system.host_cpu] if system else entry
        return Host(cpu=cpu, system=system, eager_op_s=self.eager_op_s(cpu))  # type: ignore[arg-type]

    def eager_op_s(self, cpu: HostCPU) -> Figure:
        ref = self.cpus[self.reference_cpu]
        base = self.reference_op_s.number
        r_score, h_score = ref.single_thread_score.number, cpu.single_thread_score.number
        if cpu.name == ref.name:
            return self.reference_op_s
        if not (base and r_score and h_score):
            return Figure(reason=f"no single-thread score for {cpu.display_name}")
        return Figure(value=base * r_score / h_score,
                      source=f"{self.reference_op_s.source}; scores: {cpu.single_thread_score.source}",
                      derived=f"{base * 1e6:.1f} us per op on the {ref.display_name} x its single-thread "
                              f"score {r_score:g} / the {cpu.display_name}'s {h_score:g}")


def _figure(where: str, raw: Any, sources: dict[str, str]) -> Figure:
    if isinstance(raw, dict) and set(raw) == {"unknown"}:
        return Figure(reason=raw["unknown"])
    if not isinstance(raw, dict) or "value" not in raw or "source" not in raw:
        raise CatalogError(f"hosts.toml: {where}: expected {{ value = ..., source = \"...\" }}, got {raw!r}")
    src = sources.get(raw["source"], raw["source"])
    return Figure(value=raw["value"], source=src, note=raw.get("note"))


@lru_cache(maxsize=1)
def host_catalog() -> HostCatalog:
    """The built-in systems and host CPUs (``hardware/data/hosts.toml``)."""
    text = resources.files("accelscope.hardware").joinpath("data", "hosts.toml").read_text()
    data = tomllib.loads(text)
    sources = data.get("sources", {})
    cpus = {}
    for name, t in data["cpu"].items():
        cpus[name] = HostCPU(name=name, display_name=t["display_name"], microarchitecture=t["microarchitecture"],
                             max_turbo_hz=_figure(f"cpu.{name}.max_turbo_hz", t["max_turbo_hz"], sources),
                             single_thread_score=_figure(f"cpu.{name}.single_thread_score",
                                                         t["single_thread_score"], sources),
                             aliases=tuple(t.get("aliases", ())))
    systems = {}
    for name, t in data["system"].items():
        if t["host_cpu"] not in cpus:
            raise CatalogError(f"hosts.toml: system.{name}: host_cpu {t['host_cpu']!r} is not a [cpu.*] entry")
        systems[name] = System(name=name, display_name=t["display_name"], host_cpu=t["host_cpu"],
                               accelerators=t.get("accelerators"), source=sources.get(t["source"], t["source"]),
                               aliases=tuple(t.get("aliases", ())))
    ref = data["reference"]
    if ref["cpu"] not in cpus:
        raise CatalogError(f"hosts.toml: reference.cpu {ref['cpu']!r} is not a [cpu.*] entry")
    return HostCatalog(reference_cpu=ref["cpu"], reference_op_s=_figure("reference.eager_op_s", ref["eager_op_s"], sources),
                       cpus=cpus, systems=systems)


def load_host(name: str) -> Host:
    """A system or host CPU by name (``dgx-a100``, ``epyc-7742``, ``reference``)."""
    return host_catalog().host(name)


def host_of(spec: Any, override: str | None = None) -> Host:
    """The host a device is driven from: ``override`` (``--host-cpu``), else the system its
    file names, else the default host."""
    return load_host(override or getattr(spec, "host", None) or DEFAULT_HOST)
