"""Every command takes every workload option; predict's auto precision; bad options fail early."""

import json

import pytest

import accelscope
from accelscope.hardware.catalog import list_hardware
from tests.helpers import run_cli


_cli = run_cli


@pytest.fixture
def user_model(tmp_path, monkeypatch):
    (tmp_path / "mynets.py").write_text(
        "import torch\n"
        "def small():\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),\n"
        "                               torch.nn.Flatten(), torch.nn.Linear(8 * 32 * 32, 10))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "s.sqlite"))
    return "mynets:small"


@pytest.mark.slow
def test_explore_takes_a_user_factory_with_an_input_shape(user_model, capsys):
    code, out, err = _cli(["explore", user_model, "--input-shape", "3,32,32", "--batch", "4", "--device", "cpu",
                           "--kind", "gpu", "--max-time", "0.3", "--json"], capsys)
    assert code == 0, err
    [w] = json.loads(out)["workloads"]
    assert w["spec"]["input_shape"] == [3, 32, 32] and w["workload"]["batch_size"] == 4
    measured = [r for r in w["rows"] if r["source"] == "measured"]
    assert measured and measured[0]["step_time_s"] > 0
    assert len([r for r in w["rows"] if r["source"] == "predicted"]) > 5


def test_predict_takes_a_user_hardware_directory_and_auto_precision(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "s.sqlite"))
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "acme-x1.toml").write_text(
        'kind = "gpu"\nvendor = "Acme"\ndisplay_name = "Acme X1"\n[sources]\nds = "https://example.com/x1"\n'
        '[peak_flops_per_s]\nfp32 = { value = 20e12, source = "ds" }\nbf16 = { value = 100e12, source = "ds" }\n'
        '[memory]\nmem_bytes = { value = 24e9, source = "ds" }\nmem_bandwidth_bytes_per_s = { value = 1e12, source = "ds" }\n'
        '[compute]\ncompute_units = { value = 64, source = "ds" }\n')
    code, out, err = _cli(["predict", "mlp", "--batch", "8", "--hardware", "acme-x1", "--hardware-path",
                           str(tmp_path / "hw"), "--json"], capsys)
    assert code == 0, err
    [e] = json.loads(out)["estimates"]
    assert e["hardware"] == "acme-x1" and e["precision"] == "amp-bf16"
    # --kind tpu predicts every TPU in its own precision (fp32 would have left most unpredicted)
    code, out, _ = _cli(["predict", "mlp", "--kind", "tpu", "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and len(d["estimates"]) >= len(list_hardware("tpu")) - 1
    assert {e["precision"] for e in d["estimates"]} >= {"amp-bf16", "int8"}


@pytest.mark.parametrize("args,match", [
    (["predict", "mlp", "--hardware", "h100", "--samples", "-5"], "--samples must be a positive"),
    (["predict", "mlp", "--hardware", "h100", "--batch", "1,2"], "only `accelscope bench` sweeps"),
    (["predict", "mlp", "--kind", "nonsense"], "unknown hardware kind 'nonsense'"),
    (["explore", "mlp", "--kind", "nonsense", "--device", "cpu"], "unknown hardware kind 'nonsense'"),
    (["fpga", "mlp", "--device", "zcu102", "--style", "overlay", "--cores", "0"], "--cores must be at least 1"),
    (["profile", "mlp", "--precision", "auto"], "chosen per device"),
    (["bench", "mlp", "--precision", "auto", "--no-store"], "needs a concrete precision"),
])
def test_bad_options_exit_2_with_a_message(args, match, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "s.sqlite"))
    code, _, err = _cli(args, capsys)
    assert code == 2 and match in err and "Traceback" not in err


def test_every_mfu_is_at_most_one():
    """Across zoo workloads and every catalog device the models can predict."""
    for name, opts in (("resnet50", dict(batch_size=64)), ("gpt2-small", dict(batch_size=8, seq_len=256)),
                       ("bert-large", dict(task="train", batch_size=8, seq_len=128)),
                       ("vit_b_16", dict(batch_size=32))):
        pred = accelscope.predict(name, calibrated=False, **opts)
        assert pred.results
        for r in pred.results:
            assert r.mfu is None or 0 < r.mfu <= 1, (name, r.hardware, r.mfu)
