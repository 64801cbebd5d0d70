"""predict(profile, hardware) -> Estimate, through a registry of performance models.

Pure functions: a Profile (hardware-agnostic counts) and a catalog entry in, an Estimate
(time, memory, bounds) out. The hardware entry chooses the model: its ``model`` key when the
file has one (``model = "systolic"`` for a systolic-array design such as TPU v1 or a design
saved by ``accelscope dse``), otherwise its kind's default (:data:`DEFAULT_BY_KIND`):

* ``roofline``: the per-op roofline with wave quantisation and launch overhead for CPUs,
  GPUs, TPUs and commercial ASICs at spec level (:mod:`accelscope.models.roofline_model`);
* ``systolic``: SCALE-Sim 3.0.0's cycle model of a systolic array, vectorised
  (:mod:`accelscope.models.systolic.model`);
* ``fpga``: the FPGA dataflow (FINN) and overlay (DPU) models (:mod:`accelscope.models.fpga.estimate`).

Models are registered by name (:data:`MODELS`, which rejects duplicates and answers unknown
names with the valid ones) and imported when first used. Each has ``predict(profile, spec,
*, calibration=None)`` and ``auto_precision(spec)``: the precision a practitioner would use
on that device, which ``precision="auto"`` resolves to. Energy and money are added by
:func:`accelscope.cost.price`.
"""

from __future__ import annotations

import dataclasses

import importlib
from typing import Any, Protocol

from accelscope.errors import PredictionError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.estimate import Estimate
from accelscope.registry import Registry
from accelscope.workload.profile import Profile

__all__ = ["DEFAULT_BY_KIND", "MODELS", "PerformanceModel", "PredictionError", "auto_precision",
           "model_for", "naive_step_time", "predict"]


class PerformanceModel(Protocol):
    name: str

    def auto_precision(self, spec: HardwareSpec) -> str: ...

    def predict(self, profile: Profile, spec: HardwareSpec, *, calibration: Any = None) -> Estimate: ...


#: ``name -> "module:class"``; the class is imported and instantiated on first use.
MODELS: Registry[str] = Registry("performance model")
MODELS.add("roofline", "accelscope.models.roofline_model:RooflineModel")
MODELS.add("systolic", "accelscope.models.systolic.model:SystolicModel")
MODELS.add("fpga", "accelscope.models.fpga.estimate:FpgaModel")

DEFAULT_BY_KIND = {"cpu": "roofline", "gpu": "roofline", "tpu": "roofline", "asic": "roofline", "fpga": "fpga"}
_loaded: dict[str, PerformanceModel] = {}


def get_model(name: str) -> PerformanceModel:
    """The performance model registered as ``name`` (UnknownNameError lists the valid ones)."""
    if name not in _loaded:
        module, _, cls = MODELS.get(name).partition(":")
        _loaded[name] = getattr(importlib.import_module(module), cls)()
    return _loaded[name]


def model_for(spec: HardwareSpec) -> PerformanceModel:
    """The model the hardware entry asks for, or its kind's default."""
    return get_model(spec.performance_model or DEFAULT_BY_KIND[spec.kind])


def auto_precision(spec: HardwareSpec) -> str:
    """The precision ``auto`` means on ``spec`` (its performance model decides)."""
    return model_for(spec).auto_precision(spec)


def predict(profile: Profile, spec: HardwareSpec, calibration: Any = None) -> Estimate:
    """Estimate ``profile`` on ``spec`` with the model its entry names (optionally with
    parameters fitted to measurements; only the roofline takes a calibration)."""
    model = model_for(spec)
    if calibration is not None and model.name != "roofline":
        raise PredictionError(f"{spec.name}: calibrations fit the roofline's parameters; the "
                              f"{model.name} model takes none")
    est = model.predict(profile, spec, calibration=calibration)
    if profile.spec.is_onnx:  # say where the counts came from
        est = dataclasses.replace(est, parameters=est.parameters | {"frontend": "onnx"},
                                  notes=est.notes + (f"profiled by the ONNX frontend from {profile.spec.model}",))
    return est


def naive_step_time(profile: Profile, spec: HardwareSpec) -> float | None:
    """The baseline the accuracy benchmarks compare against: total FLOPs / datasheet peak."""
    peak = spec.peak_flops_per_s(profile.precision)
    return profile.flops / peak if peak else None
