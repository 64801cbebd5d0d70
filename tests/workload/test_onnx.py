"""The ONNX frontend against the PyTorch one: the zoo's resnet50, bert-base and gpt2-small exported
with torch.onnx.export profile to the same FLOPs and predict the same step times; symbolic
dimensions bind from the options; bad files are refused with what to do."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnx", reason="the ONNX frontend needs the onnx extra (pip install -e '.[onnx]')")
pytest.importorskip("onnxscript", reason="torch.onnx.export (dynamo) needs onnxscript (the test extra)")

import torch  # noqa: E402

from accelscope.errors import ConfigError  # noqa: E402
from accelscope.jobs.predict import predict  # noqa: E402
from accelscope.workload import load_workload, profile  # noqa: E402
from tests.helpers import run_cli  # noqa: E402

GPUS = ("h100-sxm", "a100-sxm4-80gb")


def _export(name: str, path, *, batch: int, dynamic: dict | None = None) -> str:
    w = load_workload(name, task="infer", batch_size=batch)
    model = w.build_model().eval()
    args, kwargs = w.make_model_inputs()
    torch.onnx.export(model, args, str(path), kwargs=kwargs, dynamo=True, dynamic_shapes=dynamic)
    return str(path)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx")
    batch = torch.export.Dim("batch", min=1, max=1024)
    return {"resnet50": _export("resnet50", d / "resnet50.onnx", batch=2, dynamic=({0: batch},)),
            "bert-base": _export("bert-base", d / "bert-base.onnx", batch=2),
            "gpt2-small": _export("gpt2-small", d / "gpt2-small.onnx", batch=1, dynamic=({0: batch},))}


@pytest.mark.parametrize("name,batch", [("resnet50", 8), ("bert-base", 2), ("gpt2-small", 1)])
def test_onnx_flops_and_parameters_agree_with_the_pytorch_profile(exported, name, batch):
    torch_p = profile(name, task="infer", batch_size=batch)
    onnx_p = profile(exported[name], task="infer", batch_size=batch)
    assert onnx_p.flops == pytest.approx(torch_p.flops, rel=0.02)
    assert onnx_p.total_flops == pytest.approx(torch_p.total_flops, rel=0.02)
    # resnet50's export folds batch norm into the convolutions: its statistics are not parameters there
    assert onnx_p.params == pytest.approx(torch_p.params, rel=0.01)
    assert onnx_p.uncovered_ops == [] and onnx_p.spec.batch_size == batch and onnx_p.samples_per_step == batch
    assert any("ONNX frontend" in n for n in onnx_p.notes)
    if name != "resnet50":
        assert sum(op.count for op in onnx_p.ops if op.category == "attention") == 12


@pytest.mark.parametrize("name,batch", [("resnet50", 32), ("bert-base", 2), ("gpt2-small", 1)])
def test_onnx_predictions_agree_with_the_pytorch_path_on_two_gpus(exported, name, batch, tmp_path):
    """The same computation predicts the same: resnet50's export folds batch norm into its
    convolutions (the exporter's optimiser), so its PyTorch side is the zoo model with the same
    fold (torch.fx's conv-bn fusion)."""
    model = _fused_resnet50_spec(batch) if name == "resnet50" else name
    for hw in GPUS:
        t = predict(model, hardware=hw, precision="fp32", calibrations={}, task="infer", batch_size=batch)
        o = predict(exported[name], hardware=hw, precision="fp32", calibrations={}, task="infer", batch_size=batch)
        te, oe = t.results[0].estimate, o.results[0].estimate
        assert oe.step_time_s == pytest.approx(te.step_time_s, rel=0.05), (hw, te.step_time_s, oe.step_time_s)
        assert oe.parameters["frontend"] == "onnx" and any("ONNX frontend" in n for n in oe.notes)


def _fused_resnet50_spec(batch: int):
    from accelscope.workload import WorkloadSpec

    return WorkloadSpec(model="tests.workload.test_onnx:fused_resnet50", input_shape=(3, 224, 224), batch_size=batch)


def fused_resnet50():
    """The zoo's resnet50 with each batch norm folded into the convolution before it, as the
    exporter folds it: the norm gone, the convolution given a bias. (Built structurally: the
    tracer builds models on the meta device, where the fold's arithmetic cannot run.)"""
    from torch import nn

    model = load_workload("resnet50", task="infer").build_model().eval()

    def fold(conv: nn.Conv2d) -> None:
        conv.bias = nn.Parameter(torch.empty(conv.out_channels, device=conv.weight.device))

    for module in model.modules():
        for name, child in list(module.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                if isinstance(module, nn.Sequential):
                    fold(module[int(name) - 1])
                else:
                    fold(getattr(module, name.replace("bn", "conv")))
                setattr(module, name, nn.Identity())
    return model


def test_symbolic_dimensions_bind_from_the_options_or_by_name(exported, tmp_path):
    gpt = exported["gpt2-small"]
    one, four = profile(gpt, batch_size=1), profile(gpt, batch_size=4)
    assert four.flops == pytest.approx(4 * one.flops, rel=1e-6)
    # a sequence dimension left symbolic: bound by --seq-len, or by name with --dim; unbound is refused
    small = "gpt:layers=2,hidden=64,heads=2,vocab=500,seq=256"
    w = load_workload(small, task="infer", batch_size=2, seq_len=32)
    args, _ = w.make_model_inputs()
    seq = torch.export.Dim("sequence_length", min=2, max=256)
    path = tmp_path / "gpt-dyn.onnx"
    torch.onnx.export(w.build_model().eval(), args, str(path), dynamo=True,
                      dynamic_shapes=({0: torch.export.Dim("batch"), 1: seq},))
    p128 = profile(str(path), batch_size=2, seq_len=128)
    assert p128.flops == pytest.approx(profile(small, batch_size=2, seq_len=128).flops, rel=0.02)
    p64 = profile(str(path), batch_size=2, dims={"sequence_length": 64})
    assert p64.flops < p128.flops / 1.9
    with pytest.raises(ConfigError, match=r"sequence_length.*--dim sequence_length=VALUE"):
        profile(str(path), batch_size=2)
    with pytest.raises(ConfigError, match="no such symbolic dimension"):
        profile(str(path), batch_size=2, seq_len=64, dims={"height": 3})
    with pytest.raises(ConfigError, match="fixed batch of 2"):
        profile(exported["bert-base"], batch_size=8)
    with pytest.raises(ConfigError, match="needs the PyTorch model"):
        profile(exported["bert-base"], task="train")


def test_bad_onnx_files_are_refused_with_what_to_do(tmp_path, exported, capsys):
    import onnx

    text = tmp_path / "notes.onnx"
    text.write_text("not a model\n" * 100)
    truncated = tmp_path / "cut.onnx"
    truncated.write_bytes(open(exported["resnet50"], "rb").read()[:5000])
    m = onnx.load(exported["resnet50"], load_external_data=False)
    m.opset_import[0].version = onnx.defs.onnx_opset_version() + 5
    newer = tmp_path / "newer.onnx"
    onnx.save(m, str(newer))
    for path, words in ((text, "not an ONNX model"), (truncated, "not an ONNX model"),
                        (newer, "upgrade onnx"), (tmp_path / "missing.onnx", "no ONNX file")):
        code, out, err = run_cli(["profile", str(path)], capsys)
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err


def test_profile_predict_and_bench_an_onnx_file_from_the_cli(exported, capsys):
    code, out, err = run_cli(["profile", exported["bert-base"], "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["flops"] == profile(exported["bert-base"]).flops and d["batch_size"] == 2 and d["seq_len"] == 128
    code, out, err = run_cli(["predict", exported["bert-base"], "--hardware", ",".join(GPUS), "--json"], capsys)
    assert code == 0, err
    for e in json.loads(out)["estimates"]:
        assert e["parameters"]["frontend"] == "onnx"
    code, out, err = run_cli(["bench", exported["resnet50"], "--device", "cpu", "--batch", "1", "--max-time", "0.5",
                              "--json"], capsys)
    assert code == 0, err
    (m,) = json.loads(out)["results"]
    assert m["status"] == "ok" and m["spec"]["model"] == exported["resnet50"] and m["step_time_s"]["median"] > 0
    assert any("ONNX Runtime" in n for n in m["notes"])
    from accelscope.store import Store

    with Store() as s:  # stored like any run
        (run,) = s.list_runs(kind="measurement")
        assert s.points(run.id)[0]["spec"]["model"] == exported["resnet50"]
    code, _, err = run_cli(["bench", exported["resnet50"], "--device", "cpu", "--precision", "bf16"], capsys)
    assert code == 2 and "--precision fp32" in err
