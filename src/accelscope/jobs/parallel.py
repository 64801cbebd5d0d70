"""predict on many devices: a parallel layout (given, the default, or searched) per device.

``Parallel`` is what the user asks (``predict --devices N [--system S | --devices-per-node
K] [--parallel dp=..,tp=..] [--zero Z | --fsdp] [--micro-batch B --global-batch G]
[--recompute R] [--schedule S] [--search]``). For each catalog device :class:`Evaluator`
prices layouts with ``models.distributed``: a decoder's pieces traced once per shard shape
(``workload.shard``), each piece timed by the device's own model and calibration, once.

Defaults a user would expect: the system is the one the device's file names (``host =
"dgx-h100"``) when ``systems.toml`` has it; with ``--devices`` alone the layout is pure data
parallelism when the model fits a device that way, else the fastest layout that fits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from accelscope.errors import AccelscopeError, ConfigError, PredictionError
from accelscope.hardware.schema import HardwareSpec
from accelscope.hardware.systems import Fabric, SystemSpec, fabric, load_system, systems
from accelscope.models.distributed.layout import Layout, complete, parse_parallel, parse_schedule
from accelscope.models.distributed.model import predict_parallel
from accelscope.models.distributed.search import Candidate, layouts, search
from accelscope.models.estimate import Estimate
from accelscope.models.predict import predict as model_predict
from accelscope.workload import Profile, WorkloadSpec, profile


@dataclass(frozen=True, slots=True, kw_only=True)
class Parallel:
    """A request to predict on ``devices`` devices (see the module docstring)."""

    devices: int
    system: str | None = None
    devices_per_node: int | None = None
    parallel: str | None = None
    zero: int | None = None
    fsdp: bool = False
    micro_batch: int | None = None
    global_batch: int | None = None
    recompute: str = "none"
    schedule: str = "1f1b"
    sequence_parallel: bool | None = None
    search: bool = False
    top: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.devices, int) or isinstance(self.devices, bool) or self.devices < 1:
            raise ConfigError(f"--devices must be a positive integer, got {self.devices!r}")
        if self.fsdp and self.zero not in (None, 3):
            raise ConfigError("--fsdp is ZeRO stage 3; give --fsdp or --zero, not both")
        if self.search and self.parallel:
            raise ConfigError("--search enumerates the layouts; give --search or --parallel, not both")
        for name in ("devices_per_node", "micro_batch", "global_batch"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 1):
                raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer, got {v!r}")
        parse_parallel(self.parallel)
        parse_schedule(self.schedule)
        if self.system is not None:
            load_system(self.system)  # an unknown system fails here, before any work

    @property
    def zero_stage(self) -> int:
        return 3 if self.fsdp else (self.zero or 0)


def system_for(req: Parallel, hw: HardwareSpec, comm: dict | None = None) -> tuple[Fabric, list[str]]:
    """The fabric the devices sit in, and notes (ConfigError when none is known); ``comm``:
    link calibrations stored by ``calibrate --comm``, by (system, scope)."""
    notes: list[str] = []
    sysspec: SystemSpec | None
    if req.system is not None:
        sysspec = load_system(req.system)
        if sysspec.device and sysspec.device != hw.name and hw.name not in _aliases(sysspec.device):
            notes.append(f"system {sysspec.name} holds {sysspec.device}; its fabric is used for {hw.name}")
    else:
        known = systems()
        sysspec = known.get(hw.host or "") or next((s for s in known.values() if s.device == hw.name), None)
        if sysspec is None:
            raise ConfigError(f"{hw.name}: no system is known for it; give --system (see `accelscope hardware "
                              f"systems`) to say how its devices are joined")
    fab = fabric(sysspec, devices_per_node=req.devices_per_node)
    return calibrated_fabric(fab, sysspec.name, comm or {}, notes), notes


def calibrated_fabric(fab: Fabric, system: str, comm: dict, notes: list[str]) -> Fabric:
    """``fab`` with the links ``calibrate --comm`` fitted for ``system``: the all-reduce fit's
    busbw as the link's bandwidth (a network's divided among the ranks of a node that shared
    it) and its fixed cost per call as the collective's latency (per hop: none)."""
    for scope in ("intra-node", "inter-node"):
        c = comm.get((system, scope))
        if c is None:
            continue
        if scope == "intra-node":
            fab = dataclasses.replace(fab, intra_bandwidth_bytes_per_s=c["beta_bytes_per_s"], intra_latency_s=0.0,
                                      base_latency_s=c["alpha_s"])
        else:
            fab = dataclasses.replace(fab, inter_bandwidth_bytes_per_s=c["beta_bytes_per_s"] / c["nproc_per_node"],
                                      inter_latency_s=0.0, base_latency_s=c["alpha_s"])
        notes.append(f"{scope} link calibrated on bench-comm run {c['run_id']} ({c['backend']}, "
                     f"{c['world_size']} ranks): busbw {c['beta_bytes_per_s'] / 1e9:.3g} GB/s, "
                     f"{c['alpha_s'] * 1e6:.3g} us per call")
    return fab


def _aliases(name: str) -> tuple[str, ...]:
    from accelscope.hardware.catalog import load_hardware

    try:
        spec = load_hardware(name)
    except AccelscopeError:  # a system naming a device that is not in the catalog
        return ()
    return (spec.name, *spec.aliases)


class Evaluator:
    """Layouts of one workload on one device, priced with shared, cached pieces."""

    def __init__(self, spec: WorkloadSpec, hw: HardwareSpec, fab: Fabric, *, calibration=None, cache: bool = True):
        from accelscope.workload.shard import decoder_shape

        self.spec, self.hw, self.fabric, self.calibration, self.cache = spec, hw, fab, calibration, cache
        self.shape = decoder_shape(spec)
        self._estimates: dict[tuple, Estimate] = {}
        self._pieces: dict[tuple, Any] = {}
        self._whole: dict[int, Profile] = {}

    def _estimate(self, key: tuple, p: Profile) -> Estimate:
        if key not in self._estimates:
            self._estimates[key] = model_predict(p, self.hw, self.calibration)
        return self._estimates[key]

    def __call__(self, layout: Layout) -> Estimate:
        spec = self.spec.with_(batch_size=layout.micro_batch)
        if self.shape is None:
            mb = layout.micro_batch
            if mb not in self._whole:
                self._whole[mb] = profile(spec, cache=self.cache)
            whole = self._whole[mb]
            return predict_parallel(spec, self.hw, layout, self.fabric, whole=whole,
                                    estimate=lambda p: self._estimate(("whole", mb), p))
        from accelscope.workload.shard import decoder_pieces

        def pieces(tp: int, cp: int):
            key = (tp, cp, layout.micro_batch)
            if key not in self._pieces:
                self._pieces[key] = decoder_pieces(spec, tp=tp, cp=cp, cache=self.cache)
            return self._pieces[key]

        def estimate(p: Profile) -> Estimate:
            return self._estimate((layout.tp, layout.cp, layout.micro_batch, p.spec.model), p)

        return predict_parallel(spec, self.hw, layout, self.fabric, pieces=pieces, estimate=estimate)


def _layout(req: Parallel, spec: WorkloadSpec, dims: dict[str, int]) -> Layout:
    sched, v = parse_schedule(req.schedule)
    return Layout(**dims, zero=req.zero_stage, micro_batch=req.micro_batch or spec.batch_size or 1,
                  global_batch=req.global_batch, recompute=req.recompute, schedule=sched, virtual_stages=v,
                  sequence_parallel=req.sequence_parallel)


def predict_on(req: Parallel, spec: WorkloadSpec, hw: HardwareSpec, *, calibration=None, cache: bool = True,
               comm: dict | None = None, progress=None) -> tuple[Estimate, list[Candidate]]:
    """The estimate of the layout asked for (or chosen) on ``req.devices`` of ``hw``, and
    the ranked candidates when a search ran (``comm``: stored link calibrations;
    ``progress(done, total, layout)``: the search's)."""
    fab, notes = system_for(req, hw, comm)
    ev = Evaluator(spec, hw, fab, calibration=calibration, cache=cache)
    if req.parallel:
        layout = _layout(req, spec, complete(req.devices, parse_parallel(req.parallel)))
        return _noted(ev(layout), notes), []
    if not req.search:  # data parallel when the model fits that way (and the global batch allows it)
        try:
            est = ev(_layout(req, spec, complete(req.devices, {})))
        except (PredictionError, ConfigError):
            est = None
        if est is not None and est.fits_in_memory is not False:
            return _noted(est, notes), []
    ranked = run_search(req, spec, ev, progress=progress)
    valid = [c for c in ranked if c.estimate is not None]
    if not valid:
        reasons = sorted({c.reason for c in ranked if c.reason})[:3]
        raise PredictionError(f"{hw.name}: no valid layout of {req.devices} devices" +
                              (f" ({'; '.join(reasons)})" if reasons else ""))
    best = valid[0]
    why = "searched: the fastest layout that fits" if best.fits else "searched: no layout fits; the fastest shown"
    if not req.search:
        why = "data parallelism does not fit; " + why
    return _noted(best.estimate, notes + [f"{why} ({best.layout.label})"]), ranked if req.search else []


def run_search(req: Parallel, spec: WorkloadSpec, ev: Evaluator, *, progress=None) -> list[Candidate]:
    gb = req.global_batch or (req.micro_batch or spec.batch_size or 1) * req.devices
    zero = (req.zero_stage,) if (req.zero is not None or req.fsdp) else (0, 1, 2, 3)
    recompute = (req.recompute,) if req.recompute != "none" else ("none", "selective", "full")
    mbs = (req.micro_batch,) if req.micro_batch else (1, 2, 4, 8, 16)
    cands = layouts(req.devices, devices_per_node=ev.fabric.devices_per_node, global_batch=gb, shape=ev.shape,
                    seq_len=spec.seq_len, zero=zero, recompute=recompute, micro_batches=mbs)
    return search(cands, ev, progress=progress)


def _noted(e: Estimate, notes: list[str]) -> Estimate:
    return dataclasses.replace(e, notes=e.notes + tuple(notes)) if notes else e


__all__ = ["Evaluator", "Parallel", "predict_on", "run_search", "system_for"]
