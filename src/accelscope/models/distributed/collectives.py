"""Alpha-beta costs of collectives on a two-level fabric (devices in nodes, nodes on a network).

A group of ``n`` ranks ``stride`` apart (``layout.Layout.strides``) has ``k`` members per node
and spans ``m`` nodes. Ring algorithms (Thakur, Rabenseifner & Gropp 2005; the busbw
definitions of NVIDIA's nccl-tests, doc/PERFORMANCE.md), with ``S`` the buffer each rank
holds, ``B`` a link's bandwidth per device per direction and ``a`` its per-message latency:

* all-reduce inside a node: ``2 (k-1)/k * S/B + 2 (k-1) a``;
* all-gather, reduce-scatter (``S`` the gathered size): ``(k-1)/k * S/B + (k-1) a``;
* across nodes, one ring through all ``n`` ranks, pipelined, as NCCL's ring runs it (one
  ring per NIC rail): every byte crosses each hop once, so the slowest hop sets the pace,
  ``min(B_intra, k x B_net)`` with ``B_net`` each device's share of its node's NICs (the
  ``k`` members of a node send through ``k`` shares): a rail-optimised DGX's all-reduce
  busbw is its node's NIC total (NVIDIA's nccl-tests charts: DGX A100 192 of 200 GB/s,
  DGX H100 370-380 of 400); a group with one member per node rings over the network at its
  device's share; the latency is the network's per hop;
* point-to-point: ``a + S/B`` on the link the two ranks share;
* every collective call also pays NCCL's fixed ``baseLat`` (8.4 us for Ring/Simple).

``a`` per hop is NCCL's own ``hwLat`` for the link type (``src/graph/tuning.cc``: 3.4 us on
NVLink, 5.7 us on PCIe, 14 us per network step, Ring/Simple).

``B`` is the link's achievable bandwidth where the catalog has a measured one (nccl-tests
busbw of large messages), else its nominal bandwidth (``hardware.systems.fabric``).
"""

from __future__ import annotations

from dataclasses import dataclass

from accelscope.hardware.systems import Fabric


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    size: int
    per_node: int
    nodes: int


def span(size: int, stride: int, devices_per_node: int) -> Span:
    """How a group of ``size`` ranks ``stride`` apart falls on nodes of ``devices_per_node``."""
    if size <= 1:
        return Span(size=1, per_node=1, nodes=1)
    if stride >= devices_per_node:
        return Span(size=size, per_node=1, nodes=size)
    k = max(1, min(size, devices_per_node // stride))
    return Span(size=size, per_node=k, nodes=-(-size // k))


def _need_network(f: Fabric, s: Span) -> tuple[float, float]:
    if f.inter_bandwidth_bytes_per_s is None or f.inter_latency_s is None:
        from accelscope.errors import PredictionError

        raise PredictionError(f"a group of {s.size} ranks spans {s.nodes} nodes of {f.devices_per_node} devices, but "
                              f"the system has no network between nodes; give a --system with one, or fewer devices")
    return f.inter_bandwidth_bytes_per_s, f.inter_latency_s


def _ring(n: int, nbytes: float, bw: float, lat: float, passes: int) -> float:
    """``passes`` = 1: reduce-scatter or all-gather; 2: all-reduce."""
    if n <= 1 or nbytes <= 0:
        return 0.0
    return passes * ((n - 1) / n * nbytes / bw + (n - 1) * lat)


def all_reduce_s(nbytes: float, s: Span, f: Fabric) -> float:
    return _collective(nbytes, s, f, passes=2)


def all_gather_s(nbytes: float, s: Span, f: Fabric) -> float:
    """All-gather (or reduce-scatter) of an ``nbytes`` result over the group."""
    return _collective(nbytes, s, f, passes=1)


reduce_scatter_s = all_gather_s


def _collective(nbytes: float, s: Span, f: Fabric, *, passes: int) -> float:
    if s.size <= 1 or nbytes <= 0:
        return 0.0
    bi, ai = f.intra_bandwidth_bytes_per_s, f.intra_latency_s
    if s.nodes == 1:
        return f.base_latency_s + _ring(s.per_node, nbytes, bi, ai, passes)
    bn, an = _need_network(f, s)
    return f.base_latency_s + _ring(s.size, nbytes, min(bi, s.per_node * bn), an, passes)


def p2p_s(nbytes: float, stride: int, f: Fabric) -> float:
    """A send between ranks ``stride`` apart (pipeline neighbours)."""
    if nbytes <= 0:
        return 0.0
    if stride < f.devices_per_node:
        return f.intra_latency_s + nbytes / f.intra_bandwidth_bytes_per_s
    bn, an = _need_network(f, Span(size=2, per_node=1, nodes=2))
    return an + nbytes / bn
