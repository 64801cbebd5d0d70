"""predict --task serve: serving a decoder on catalog hardware, with latency targets.

For each device: the prefill and decode pieces (``workload.serving``) are profiled in the
device's precision and timed by its own model (with its calibration), composed by
``models.serving`` on ``--devices`` tensor-parallel devices of the device's system. With
``--ttft-slo`` / ``--tpot-slo`` the job searches, per device, the batch (or concurrency, under
continuous batching) and the tensor-parallel degree, and keeps the configuration with the
most output tokens per second per device that meets both targets, saying which target binds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from accelscope.errors import ConfigError, PredictionError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.estimate import Estimate
from accelscope.models.predict import predict as model_predict
from accelscope.models.serving import predict_serving
from accelscope.workload import Profile, WorkloadSpec

#: tensor-parallel degrees and batches the latency-target search tries
SLO_TP = (1, 2, 4, 8)
SLO_BATCHES = tuple(2**k for k in range(0, 12))


@dataclass(frozen=True, slots=True, kw_only=True)
class Serving:
    """What ``predict --task serve`` was asked beyond the workload."""

    devices: int = 1
    system: str | None = None
    ttft_slo_s: float | None = None
    tpot_slo_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.devices, int) or self.devices < 1:
            raise ConfigError(f"--devices must be a positive integer, got {self.devices!r}")
        for name in ("ttft_slo_s", "tpot_slo_s"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise ConfigError(f"--{name[:4]}-slo must be a positive number of milliseconds, got {v!r}")
        if self.system is not None:
            from accelscope.hardware.systems import load_system

            load_system(self.system)

    @property
    def searching(self) -> bool:
        return self.ttft_slo_s is not None or self.tpot_slo_s is not None


class ServingEvaluator:
    """Serving estimates of one workload on one device, pieces and their estimates cached."""

    def __init__(self, spec: WorkloadSpec, hw: HardwareSpec, req: Serving, *, calibration=None, cache: bool = True):
        self.spec, self.hw, self.req, self.calibration, self.cache = spec, hw, req, calibration, cache
        self._est: dict[WorkloadSpec, Estimate] = {}

    def _estimate(self, p: Profile) -> Estimate:
        key = p.spec  # names the model, the piece, its shard, batch, precision and mode
        if key not in self._est:
            self._est[key] = model_predict(p, self.hw, self.calibration)
        return self._est[key]

    def fabric(self, tp: int):
        if tp == 1:
            return None
        from accelscope.jobs.parallel import Parallel, system_for

        fab, _ = system_for(Parallel(devices=tp, system=self.req.system), self.hw)
        return fab

    def __call__(self, spec: WorkloadSpec, tp: int) -> Estimate:
        from accelscope.workload.serving import serving_pieces

        return predict_serving(spec, self.hw, tp=tp, fabric=self.fabric(tp), estimate=self._estimate,
                               pieces=lambda b: serving_pieces(spec, batch=b, tp=tp, cache=self.cache))


def _meets(e: Estimate, req: Serving) -> tuple[bool, str]:
    """(meets both targets, which one binds: the one with the least slack)."""
    slack = {}
    if req.ttft_slo_s is not None:
        slack["ttft"] = req.ttft_slo_s / e.ttft_s
    if req.tpot_slo_s is not None:
        slack["tpot"] = req.tpot_slo_s / e.tpot_s
    ok = all(v >= 1 for v in slack.values())
    return ok, min(slack, key=lambda k: slack[k]) if slack else "none"


def serve_on(req: Serving, spec: WorkloadSpec, hw: HardwareSpec, *, calibration=None, cache: bool = True) -> Estimate:
    """The serving estimate of ``spec`` on ``hw``: as asked, or the best that meets the targets."""
    ev = ServingEvaluator(spec, hw, req, calibration=calibration, cache=cache)
    if not req.searching:
        e = ev(spec, req.devices)
        return e
    continuous = spec.concurrency is not None
    best: tuple[float, Estimate, str] | None = None
    tried = 0
    # --devices N bounds the tensor-parallel degrees tried; without it, all of SLO_TP
    for tp in SLO_TP if req.devices == 1 else [t for t in SLO_TP if t <= req.devices]:
        for b in SLO_BATCHES:
            candidate = spec.with_(concurrency=b) if continuous else spec.with_(batch_size=b)
            try:
                e = ev(candidate, tp)
            except ConfigError:
                break  # this tp does not divide the model
            tried += 1
            if e.fits_in_memory is False:
                break  # larger batches do not fit either
            ok, binding = _meets(e, req)
            if not ok:
                if binding == "ttft" and not continuous:
                    break  # a bigger static batch only makes the first token later
                continue
            per_device = e.tokens_per_s / e.devices
            if best is None or per_device > best[0]:
                best = (per_device, e, binding)
    if best is None:
        raise PredictionError(f"{hw.name}: no batch, concurrency or tensor-parallel degree meets the targets "
                              f"({_targets(req)}) among the {tried} tried")
    _, e, binding = best
    what = "concurrency" if continuous else "batch"
    n = e.spec.concurrency if continuous else e.spec.batch_size
    note = (f"the most output tokens/s per device that meets {_targets(req)}: {what} {n} on {e.devices} device(s); "
            f"the {binding} target binds")
    return dataclasses.replace(e, notes=e.notes + (note,),
                               parameters={**e.parameters, "slo": {"binding": binding, "ttft_slo_s": req.ttft_slo_s,
                                                                   "tpot_slo_s": req.tpot_slo_s}})


def _targets(req: Serving) -> str:
    bits = []
    if req.ttft_slo_s is not None:
        bits.append(f"TTFT <= {req.ttft_slo_s * 1e3:g} ms")
    if req.tpot_slo_s is not None:
        bits.append(f"TPOT <= {req.tpot_slo_s * 1e3:g} ms")
    return ", ".join(bits)


def describe(req: Serving) -> dict[str, Any]:
    return {"devices": req.devices, "system": req.system, "ttft_slo_s": req.ttft_slo_s, "tpot_slo_s": req.tpot_slo_s}


def bench_serving(spec: WorkloadSpec, *, device: str = "cpu", max_time_s: float = 10.0, threads: int | None = None,
                  store=None, command: str = ""):
    """Measure a serving workload on a local device (``measure.serve``) and store it as a run
    of kind ``serve`` (one point of kind ``serving``): (measurement, run id or None)."""
    from accelscope.measure.environment import collect_environment
    from accelscope.measure.serve import bench_serve

    m = bench_serve(spec, device=device, max_time_s=max_time_s, threads=threads)
    if store is None:
        return m, None
    run_id = store.add_run(kind="serve", point_kind="serving", record=m.to_dict(),
                           config={"spec": m.spec.to_dict(), "device": m.device},
                           environment=collect_environment().to_dict(), command=command,
                           label=f"{m.spec.label} on {m.device}", device=m.device, task="serve", time_s=m.e2e_s)
    return m, run_id
