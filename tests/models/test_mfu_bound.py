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
    if name.startswith("llama:"):
        return {"seq_len": 128}
    entry = ZOO.get(name)
    return {"seq_len": min(entry.default_size, 128)} if entry.modality == "tokens" else {}


#: One model per kind of op mix in the zoo: the bound is a property of each op's shape, so the
#: larger siblings (resnet18 of resnet50, resnext101 of se-resnext101, bert-base of bert-large,
#: bert-large-eager of bert-base-eager) repeat what these check, and the LLaMA presets are
#: checked at their own widths with two layers instead of 32 or 80 (identical layers).
MODELS = ["mlp", "cnn", "resnet50", "mobilenet_v2", "efficientnet_b0", "vit_b_16",
          "se-resnext101-32x4d", "bert-large", "bert-base-eager", "gpt2-small", "lstm-lm",
          "llama:layers=2,hidden=4096,heads=32",  # llama-7b's layer
          "llama:layers=2,hidden=8192,heads=64,kv_heads=8,ffn=28672"]  # llama-70b's (GQA)


def test_the_checked_models_cover_the_zoos_op_mixes():
    names = set(ZOO.names())
    assert set(MODELS) & names == names - {"resnet18", "resnext101-32x4d", "bert-base",
                                           "bert-large-eager", "llama-7b", "llama-70b"}


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
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
