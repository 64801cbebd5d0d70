"""No estimate's MFU exceeds 1: every zoo model on every catalog GPU (issue 13).

Each model is predicted at a large inference batch and a training step, in every precision a
GPU runs, with the step as short as the model makes it (CUDA graphs: no host time; compile
where a device has no graphs), which is where an MFU is highest."""

from dataclasses import replace

import pytest

import accelscope
from accelscope.errors import PredictionError
from accelscope.hardware.catalog import builtin_specs
from accelscope.models.predict import auto_precision, predict
from accelscope.workload.zoo import ZOO

GPUS = [s for s in builtin_specs() if s.kind == "gpu"]


def _sizes(name: str) -> dict:
    entry = ZOO.get(name)
    return {"seq_len": min(entry.default_size, 128)} if entry.modality == "tokens" else {}


@pytest.mark.slow
@pytest.mark.parametrize("model", list(ZOO.names()))
def test_mfu_never_exceeds_one(model):
    precisions = {"fp32", "tf32"} | {auto_precision(s) for s in GPUS}
    checked = 0
    for task, batch in (("infer", 64), ("train", 4)):
        profiles = {}
        for prec in sorted(precisions - {"tf32"}):
            try:
                profiles[prec] = accelscope.profile(model, task=task, batch_size=batch, precision=prec, **_sizes(model))
            except accelscope.AccelscopeError:
                continue  # a precision the model cannot be traced in
        if "fp32" in profiles:  # tf32 runs the same ops as fp32; only the matrix rate differs
            profiles["tf32"] = replace(profiles["fp32"], spec=profiles["fp32"].spec.with_(precision="tf32"))
        for spec in GPUS:
            for prec, prof in profiles.items():
                mode = "cuda-graphs" if spec.vendor in ("NVIDIA", "AMD") else "compile"
                try:
                    est = predict(replace(prof, spec=prof.spec.with_(mode=mode)), spec)
                except PredictionError:
                    continue  # no peak for that precision there
                if est.mfu is not None:
                    assert 0 < est.mfu <= 1.0, (model, task, batch, prec, mode, spec.name, est.mfu)
                    checked += 1
    assert checked > len(GPUS)
