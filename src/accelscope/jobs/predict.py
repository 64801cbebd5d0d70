"""predict: a workload on catalog hardware you do not have, timed and priced.

For each device: the workload is profiled in the device's precision (``auto``: the one its
performance model picks; profiles come from the on-disk cache when traced before), the
model the hardware entry names predicts it (``models.predict``), with the device's stored
calibration where one exists, and ``cost.price`` adds energy, money and carbon. A device the
model cannot handle (a missing figure, an unsupported precision, a workload it refuses) is
listed in ``unavailable`` with the reason, never guessed.
"""

from __future__ import annotations

import dataclasses

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accelscope.cost import Assumptions, Priced, price
from accelscope.errors import AccelscopeError, ConfigError, WorkloadError
from accelscope.hardware.catalog import list_hardware, load_hardware
from accelscope.hardware.schema import KINDS, HardwareSpec
from accelscope.models.predict import auto_precision, model_for, predict as model_predict
from accelscope.models.roofline_model import Calibrated
from accelscope.workload import AUTO, Profile, WorkloadSpec, as_spec, profile


@dataclass(frozen=True, slots=True, kw_only=True)
class Unavailable:
    """A device without an estimate, and why."""

    hardware: str
    kind: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"hardware": self.hardware, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class Prediction:
    """The result of :func:`predict`: priced estimates, fastest first, and the devices without one."""

    spec: WorkloadSpec
    results: tuple[Priced, ...]
    unavailable: tuple[Unavailable, ...] = ()
    #: the profiles predicted, by precision (resolved specs)
    profiles: Mapping[str, Profile] = field(default_factory=dict, repr=False)
    #: ``--search``: the ranked layouts per device (``models.distributed.search.Candidate``)
    searches: Mapping[str, Sequence[Any]] = field(default_factory=dict, repr=False)
    #: the request for several devices (``jobs.parallel.Parallel``), None for one
    parallel: Any = None
    #: a serving request (``jobs.serving.Serving``) when the workload is ``task="serve"``
    serving: Any = None

    def to_dict(self, include_ops: bool = False, samples: float | None = None) -> dict[str, Any]:
        out = []
        for r in self.results:
            d = r.to_dict(include_ops=include_ops)
            if samples is not None:
                d["samples"], d["usd_for_samples"] = samples, r.usd_for_samples(samples)
            out.append(d)
        d = {"spec": self.spec.to_dict(), "estimates": out, "unavailable": [u.to_dict() for u in self.unavailable]}
        if self.searches:
            top = self.parallel.top if self.parallel is not None else 10
            d["search"] = {hw: {"candidates": len(c), "ranked": [x.to_dict() for x in c[:top]]}
                           for hw, c in self.searches.items()}
        return d


#: the name that means "this machine's CPU" in ``--hardware``
LOCAL_CPU = "cpu"


def local_cpu() -> HardwareSpec:
    """This machine's CPU: its catalog entry when the reported model matches one, else an entry
    of its own named ``cpu`` (no peaks: the roofline predicts it from a stored calibration,
    whose fitted rates are absolute)."""
    from accelscope.hardware.detect import match_catalog
    from accelscope.hardware.schema import Figure
    from accelscope.measure.environment import cpu_model, physical_cores

    model = cpu_model()
    spec = match_catalog(model or "", "cpu")
    if spec is not None:
        return spec
    return HardwareSpec(name=LOCAL_CPU, kind="cpu", vendor="local", display_name=model or "this machine's CPU",
                        compute_units=Figure(value=physical_cores(), source="detected: the kernel's CPU topology"),
                        compute_unit_kind="physical cores",
                        notes=("this machine's CPU, not in the catalog: predicted from its calibration "
                               "(`accelscope bench` a few workloads, then `accelscope calibrate`)",))


def select_hardware(hardware: "str | HardwareSpec | Iterable[str | HardwareSpec] | None" = None,
                    kind: "str | Sequence[str] | None" = None,
                    hardware_paths: Sequence[str | Path] | None = None,
                    host_cpu: str | None = None) -> list[HardwareSpec]:
    """Catalog entries by name (comma-separated names, ``.toml`` files or specs; ``cpu`` is this
    machine's CPU), by kind (one or several), or every entry when neither is given (user
    directories included). ``host_cpu`` (a system or host CPU of ``accelscope hardware hosts``)
    replaces the host of every GPU selected."""
    specs = _select(hardware, kind, hardware_paths)
    if host_cpu is None:
        return specs
    from accelscope.hardware.hosts import load_host

    host = load_host(host_cpu)  # an unknown name fails here, before any work
    return [dataclasses.replace(s, host=host.name) if s.kind == "gpu" else s for s in specs]


def _select(hardware, kind, hardware_paths) -> list[HardwareSpec]:
    paths = list(hardware_paths) if hardware_paths else None
    if hardware is not None:
        items = [h.strip() for h in hardware.split(",")] if isinstance(hardware, str) else list(hardware)
        specs = [h if isinstance(h, HardwareSpec) else local_cpu() if h == LOCAL_CPU else load_hardware(h, paths=paths)
                 for h in items if h]
        if not specs:
            raise ConfigError("no hardware named; give catalog names, e.g. h100-sxm,tpu-v5e")
        return specs
    kinds = [k.strip() for k in kind.split(",")] if isinstance(kind, str) else list(kind or [])
    for k in kinds:
        if k not in KINDS:
            raise ConfigError(f"unknown hardware kind {k!r}; expected one or more of {', '.join(KINDS)}")
    specs = [s for s in list_hardware(paths=paths) if not kinds or s.kind in kinds]
    if not specs:
        raise ConfigError(f"no catalog devices of kind {', '.join(kinds)}; see `accelscope hardware list`")
    return specs


def load_calibrations(store=None) -> dict[str, Calibrated]:
    """Calibrations stored by ``accelscope calibrate``, keyed by device and catalog name
    (from ``store``, or the default store when it exists)."""
    from accelscope.store.calibrations import load_all

    return {k: Calibrated.from_dict(d) for k, d in load_all(store).items()}


class Profiler:
    """Profiles of one workload by precision, traced (or read from the cache) once each."""

    def __init__(self, spec: WorkloadSpec, *, cache: bool = True):
        self.spec, self.cache = spec, cache
        self.profiles: dict[str, Profile] = {}

    def precision_for(self, hw: HardwareSpec) -> str:
        return auto_precision(hw) if self.spec.precision == AUTO else self.spec.precision

    def __call__(self, precision: str) -> Profile:
        if precision not in self.profiles:
            self.profiles[precision] = profile(self.spec.with_(precision=precision), cache=self.cache)
        return self.profiles[precision]


def estimate_all(profiler: Profiler, hardware: Sequence[HardwareSpec], *,
                 calibrations: Mapping[str, Calibrated], assumptions: Assumptions | None,
                 progress: Callable[[str], None] | None = None) -> tuple[list[Priced], list[Unavailable]]:
    """Each device: profile in its precision, predict with its model (and its calibration, if
    any), price. A device its model cannot handle is listed as unavailable; a workload that
    does not build fails at once, for all. ``progress(name)`` after each device."""
    results, unavailable = [], []
    for hw in hardware:
        got = _estimate_one(profiler, hw, calibrations, assumptions)
        (unavailable if isinstance(got, Unavailable) else results).append(got)
        if progress:
            progress(hw.name)
    return results, unavailable


def _estimate_one(profiler: Profiler, hw: HardwareSpec, calibrations: Mapping[str, Calibrated],
                  assumptions: Assumptions | None) -> Priced | Unavailable:
    try:
        precision = profiler.precision_for(hw)  # the entry's model decides (an unknown one: unavailable)
    except AccelscopeError as exc:
        return Unavailable(hardware=hw.name, kind=hw.kind, reason=str(exc))
    prof = profiler(precision)
    calibration = calibrations.get(hw.name) if model_for(hw).name == "roofline" else None
    if calibration is None and hw.name == LOCAL_CPU:
        return Unavailable(hardware=hw.name, kind=hw.kind, reason=(
            f"this machine's CPU ({hw.display_name}) has no catalog entry and no accepted calibration: "
            "`accelscope bench` a few workloads on it, then `accelscope calibrate`"))
    try:
        return price(model_predict(prof, hw, calibration), hw, assumptions)
    except AccelscopeError as exc:  # a missing figure, or a workload the model refuses
        return Unavailable(hardware=hw.name, kind=hw.kind, reason=str(exc))


def estimate_parallel(req, spec: WorkloadSpec, hardware: Sequence[HardwareSpec], *,
                      calibrations: Mapping[str, Calibrated], assumptions: Assumptions | None, cache: bool,
                      comm: Mapping | None = None, progress=None
                      ) -> tuple[list[Priced], list[Unavailable], dict[str, list]]:
    """Each device: the layout asked for (or chosen, or searched) on ``req.devices`` of it
    (``comm``: link calibrations by (system, scope), from ``calibrate --comm``;
    ``progress(done, total, what)``: the layouts searched on each device in turn)."""
    from accelscope.jobs.parallel import predict_on

    results, unavailable, searches = [], [], {}
    for n, hw in enumerate(hardware, 1):
        step = None if progress is None else (
            lambda done, total, layout, hw=hw, n=n: progress(done, total, f"{hw.name} ({n}/{len(hardware)}): {layout}"))
        try:
            precision = auto_precision(hw) if spec.precision == AUTO else spec.precision
            concrete = spec.with_(precision=precision).resolved()
            calibration = calibrations.get(hw.name) if model_for(hw).name == "roofline" else None
            if model_for(hw).name != "roofline":
                raise AccelscopeError(f"{hw.name}: several devices are predicted with the roofline's per-device "
                                      f"times; its {model_for(hw).name} model is for one device")
            est, ranked = predict_on(req, concrete, hw, calibration=calibration, cache=cache, comm=dict(comm or {}),
                                     progress=step)
        except ConfigError:
            raise  # a bad layout is the user's to fix, whatever the device
        except AccelscopeError as exc:
            unavailable.append(Unavailable(hardware=hw.name, kind=hw.kind, reason=str(exc)))
            continue
        results.append(price(est, hw, assumptions))
        if ranked:
            searches[hw.name] = ranked
    return results, unavailable, searches


def estimate_serving(req, spec: WorkloadSpec, hardware: Sequence[HardwareSpec], *,
                     calibrations: Mapping[str, Calibrated], assumptions: Assumptions | None, cache: bool
                     ) -> tuple[list[Priced], list[Unavailable]]:
    """Each device: the serving workload as asked, or the best configuration meeting the targets."""
    from accelscope.jobs.serving import serve_on

    results, unavailable = [], []
    for hw in hardware:
        try:
            if model_for(hw).name != "roofline":
                raise AccelscopeError(f"{hw.name}: serving is predicted from the roofline's pass times; its "
                                      f"{model_for(hw).name} model predicts single passes only")
            precision = auto_precision(hw) if spec.precision == AUTO else spec.precision
            # serving runs the weights in the 16-bit type itself (no fp32 master copy to autocast from)
            precision = {"amp-bf16": "bf16", "amp-fp16": "fp16"}.get(precision, precision) \
                if spec.precision == AUTO else precision
            concrete = spec.with_(precision=precision).resolved()
            est = serve_on(req, concrete, hw, calibration=calibrations.get(hw.name), cache=cache)
        except (ConfigError, WorkloadError):
            raise  # the workload or its request is wrong whatever the device
        except AccelscopeError as exc:
            unavailable.append(Unavailable(hardware=hw.name, kind=hw.kind, reason=str(exc)))
            continue
        results.append(price(est, hw, assumptions))
    return results, unavailable


def predict(model: "str | WorkloadSpec", *, hardware=None, kind=None,
            hardware_paths: Sequence[str | Path] | None = None, host_cpu: str | None = None,
            calibrations: Mapping[str, Calibrated] | None = None, store=None,
            assumptions: Assumptions | None = None, cache: bool = True, parallel=None, serving=None,
            progress=None, **workload_options: Any) -> Prediction:
    """Predict a workload on catalog hardware (see the module docstring).

    ``model`` is a spec, or a model name with workload options (the spec's fields; the
    precision defaults to ``auto``). ``hardware``: names (``"h100-sxm,tpu-v5e"``), ``.toml``
    files or specs; ``kind``: every entry of these kinds; neither: the whole catalog.
    ``calibrations``: fitted parameters by device name (default: those stored in ``store``, or
    in the default store when it exists; ``{}`` for none). ``parallel``: a
    :class:`~accelscope.jobs.parallel.Parallel` request predicts one training iteration on
    that many devices of each entry (``models.distributed``); ``progress(done, total, what)``
    follows its layout search.
    """
    if isinstance(model, str) and "precision" not in workload_options:
        workload_options["precision"] = AUTO
    spec = as_spec(model, **workload_options)
    specs = select_hardware(hardware, kind, hardware_paths, host_cpu)
    comm = None
    if calibrations is None:
        from accelscope.store.calibrations import load_comm

        calibrations = load_calibrations(store)
        comm = load_comm(store) if parallel is not None else None
    if spec.task == "serve" or serving is not None:
        if spec.task != "serve":
            raise ConfigError("latency targets and serving devices need --task serve")
        if parallel is not None:
            raise ConfigError("--task serve spreads a model over --devices with tensor parallelism; the training "
                              "layout options (--parallel, --zero, --search, ...) do not apply")
        from accelscope.jobs.serving import Serving

        req = serving or Serving()
        results, unavailable = estimate_serving(req, spec, specs, calibrations=calibrations, assumptions=assumptions,
                                                cache=cache)
        results.sort(key=lambda r: -(r.estimate.tokens_per_s or 0) / r.estimate.devices)
        return Prediction(spec=spec, results=tuple(results), unavailable=tuple(unavailable), serving=req)
    if parallel is not None:
        results, unavailable, searches = estimate_parallel(parallel, spec, specs, calibrations=calibrations,
                                                           assumptions=assumptions, cache=cache, comm=comm,
                                                           progress=progress)
        results.sort(key=lambda r: -r.throughput_samples_per_s)
        return Prediction(spec=spec, results=tuple(results), unavailable=tuple(unavailable), searches=searches,
                          parallel=parallel)
    profiler = Profiler(spec, cache=cache)
    results, unavailable = estimate_all(profiler, specs, calibrations=calibrations, assumptions=assumptions)
    results.sort(key=lambda r: -r.throughput_samples_per_s)
    return Prediction(spec=spec, results=tuple(results), unavailable=tuple(unavailable),
                      profiles=dict(profiler.profiles))
