"""Interconnects and multi-device systems as data.

``hardware/data/interconnects.toml`` holds links: intra-node fabrics (NVLink generations and
NVSwitch, PCIe, Infinity Fabric, TPU ICI, Gaudi's integrated RoCE) and inter-node networks
(InfiniBand, RoCE, EFA), each with its bandwidth per device and per direction and a
per-message latency, every figure sourced. ``hardware/data/systems.toml`` holds systems
(``--system``): how many devices a node has, which link joins them, which network joins
nodes and through how many NICs per node (DGX-1 to DGX B200, cloud instances, a PCIe box,
TPU slices).

:func:`fabric` turns a system (or a bare device count per node with a device's own links)
into the :class:`Fabric` the collective model prices: the intra-node link and the network
bandwidth each device gets when every device of a node sends at once (the node's NICs
shared by its devices).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from accelscope.errors import CatalogError, ConfigError, UnknownNameError
from accelscope.hardware.schema import Figure


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One kind of link: bandwidth per device per direction, and per-message latency."""

    name: str
    display_name: str
    scope: str  # "intra-node" or "inter-node"
    topology: str | None
    bandwidth_bytes_per_s: Figure
    latency_s: Figure
    #: what collectives measure on it (nccl-tests busbw of large messages), when published
    achievable_bandwidth_bytes_per_s: Figure = Figure(reason="not measured")
    aliases: tuple[str, ...] = ()

    @property
    def usable_bandwidth_bytes_per_s(self) -> Figure:
        """The measured bandwidth where there is one, else the nominal."""
        a = self.achievable_bandwidth_bytes_per_s
        return a if a.number else self.bandwidth_bytes_per_s

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "display_name": self.display_name, "scope": self.scope,
                "topology": self.topology, "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s.to_dict(),
                "achievable_bandwidth_bytes_per_s": self.achievable_bandwidth_bytes_per_s.to_dict(),
                "latency_s": self.latency_s.to_dict(), "aliases": list(self.aliases)}


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSpec:
    """A node design: its devices, the link inside it, the network between nodes."""

    name: str
    display_name: str
    devices_per_node: Figure
    intra_node: Link
    network: Link | None
    nics_per_node: Figure
    device: str | None = None
    notes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "display_name": self.display_name, "device": self.device,
                "devices_per_node": self.devices_per_node.to_dict(), "intra_node": self.intra_node.name,
                "network": self.network.name if self.network else None,
                "nics_per_node": self.nics_per_node.to_dict(), "notes": list(self.notes),
                "aliases": list(self.aliases)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Fabric:
    """What the collective model needs: devices per node, the intra-node link's bandwidth
    and latency, and each device's share of the network (None: a single node only)."""

    devices_per_node: int
    intra_bandwidth_bytes_per_s: float
    intra_latency_s: float
    inter_bandwidth_bytes_per_s: float | None
    inter_latency_s: float | None
    #: fixed cost of one collective call (NCCL's baseLat, Ring/Simple)
    base_latency_s: float = 0.0
    system: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "devices_per_node": self.devices_per_node,
                "base_latency_s": self.base_latency_s,
                "intra_bandwidth_bytes_per_s": self.intra_bandwidth_bytes_per_s,
                "intra_latency_s": self.intra_latency_s,
                "inter_bandwidth_bytes_per_s": self.inter_bandwidth_bytes_per_s,
                "inter_latency_s": self.inter_latency_s, "notes": list(self.notes)}


def _figure(where: str, raw: Any, sources: dict[str, str]) -> Figure:
    if raw is None:
        return Figure(reason="not in the file")
    if isinstance(raw, dict) and set(raw) <= {"unknown", "note"} and "unknown" in raw:
        return Figure(reason=raw["unknown"])
    if not isinstance(raw, dict) or "value" not in raw or "source" not in raw:
        raise CatalogError(f"{where}: expected {{ value = ..., source = \"...\" }}, got {raw!r}")
    return Figure(value=raw["value"], source=sources.get(raw["source"], raw["source"]), note=raw.get("note"))


def _read(name: str) -> dict[str, Any]:
    text = resources.files("accelscope.hardware").joinpath("data", name).read_text()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"hardware/data/{name}: {exc}") from None


@lru_cache(maxsize=1)
def links() -> dict[str, Link]:
    """The built-in links by name (``interconnects.toml``)."""
    data = _read("interconnects.toml")
    sources = data.get("sources", {})
    out = {}
    for name, t in data.get("link", {}).items():
        where = f"interconnects.toml: link.{name}"
        out[name] = Link(name=name, display_name=t.get("display_name", name), scope=t.get("scope", "intra-node"),
                         topology=t.get("topology"),
                         bandwidth_bytes_per_s=_figure(f"{where}.bandwidth_bytes_per_s",
                                                       t.get("bandwidth_bytes_per_s"), sources),
                         latency_s=_figure(f"{where}.latency_s", t.get("latency_s"), sources),
                         achievable_bandwidth_bytes_per_s=_figure(f"{where}.achievable_bandwidth_bytes_per_s",
                                                                  t.get("achievable_bandwidth_bytes_per_s"), sources),
                         aliases=tuple(t.get("aliases", ())))
    return out


@lru_cache(maxsize=1)
def base_latency() -> Figure:
    """NCCL's fixed cost per collective (baseLat, Ring algorithm, Simple protocol)."""
    data = _read("interconnects.toml")
    return _figure("interconnects.toml: nccl_base_latency.ring_simple_s",
                   data.get("nccl_base_latency", {}).get("ring_simple_s"), data.get("sources", {}))


@lru_cache(maxsize=1)
def systems() -> dict[str, SystemSpec]:
    """The built-in systems by name (``systems.toml``)."""
    data = _read("systems.toml")
    sources = data.get("sources", {})
    known = links()
    out = {}
    for name, t in data.get("system", {}).items():
        where = f"systems.toml: system.{name}"
        intra, net = t.get("intra_node"), t.get("network")
        for label, ref in (("intra_node", intra), ("network", net)):
            if ref is not None and find_link(ref) is None:
                raise CatalogError(f"{where}.{label}: {ref!r} is not a link of interconnects.toml "
                                   f"(known: {', '.join(sorted(known))})")
        if intra is None:
            raise CatalogError(f"{where}: give intra_node, the link between its devices")
        notes = t.get("notes", ())
        out[name] = SystemSpec(name=name, display_name=t.get("display_name", name), device=t.get("device"),
                               devices_per_node=_figure(f"{where}.devices_per_node", t.get("devices_per_node"),
                                                        sources),
                               intra_node=find_link(intra),  # type: ignore[arg-type]
                               network=find_link(net) if net else None,
                               nics_per_node=_figure(f"{where}.nics_per_node", t.get("nics_per_node"), sources),
                               notes=tuple([notes] if isinstance(notes, str) else notes),
                               aliases=tuple(t.get("aliases", ())))
    return out


def find_link(name: str) -> Link | None:
    from accelscope.hardware.catalog import normalize_name

    key = normalize_name(name)
    for link in links().values():
        if key == link.name or key in link.aliases:
            return link
    return None


def load_system(name: str) -> SystemSpec:
    """A system by name or alias (UnknownNameError lists the valid ones)."""
    from accelscope.hardware.catalog import normalize_name

    key = normalize_name(name)
    for s in systems().values():
        if key == s.name or key in s.aliases:
            return s
    raise UnknownNameError("system", name, list(systems()))


def _number(fig: Figure, what: str) -> float:
    if fig.number is None:
        from accelscope.errors import PredictionError

        raise PredictionError(f"{what} is unknown ({fig.reason or 'no figure'}); collectives over it cannot be "
                              "priced")
    return float(fig.number)


def _latency(link: Link, notes: list[str]) -> float:
    if link.latency_s.number is None:
        notes.append(f"{link.display_name}: latency unknown; collectives over it are priced by bandwidth alone "
                     "(small messages come out too fast)")
        return 0.0
    return float(link.latency_s.number)


def fabric(system: SystemSpec | None = None, *, devices_per_node: int | None = None,
           intra: Link | None = None, network: Link | None = None, nics_per_node: int | None = None) -> Fabric:
    """The fabric of ``system``, or of a node of ``devices_per_node`` devices joined by
    ``intra`` and a ``network`` with ``nics_per_node`` NICs (each device's network share is the
    node's NIC bandwidth over its devices: in data- and pipeline-parallel traffic every
    device of a node sends at once)."""
    notes: list[str] = []
    if system is not None:
        intra, network = system.intra_node, system.network
        dpn = devices_per_node or int(_number(system.devices_per_node, f"{system.name}: devices per node"))
        nics = nics_per_node or (int(system.nics_per_node.number) if system.nics_per_node.number else None)
        notes.extend(system.notes)
    else:
        dpn, nics = devices_per_node, nics_per_node
    if dpn is None or dpn < 1 or intra is None:
        raise ConfigError("a fabric needs the devices per node and the link between them")
    inter_bw = inter_lat = None
    for link in (intra, network):
        if link is not None and not link.achievable_bandwidth_bytes_per_s.number:
            notes.append(f"{link.display_name}: no measured collective bandwidth; its nominal one is used")
    if network is not None:
        per_nic = _number(network.usable_bandwidth_bytes_per_s, f"{network.display_name}: bandwidth")
        inter_bw = per_nic * (nics or dpn) / dpn
        inter_lat = _latency(network, notes)
        if nics is None:
            notes.append(f"NICs per node unknown: one {network.display_name} port per device assumed")
    return Fabric(devices_per_node=dpn,
                  intra_bandwidth_bytes_per_s=_number(intra.usable_bandwidth_bytes_per_s,
                                                      f"{intra.display_name}: bandwidth"),
                  intra_latency_s=_latency(intra, notes),
                  inter_bandwidth_bytes_per_s=inter_bw, inter_latency_s=inter_lat,
                  base_latency_s=float(base_latency().number or 0.0),
                  system=system.name if system else None, notes=tuple(notes))
