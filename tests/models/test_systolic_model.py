"""The systolic engine as a performance model: TPU v1, design files from dse/simulate, explore."""

import json

import pytest

import accelscope
from accelscope.cost import price
from accelscope.errors import ConfigError, PredictionError
from accelscope.hardware.catalog import load_hardware, load_spec_file
from accelscope.models.predict import model_for, predict
from accelscope.models.systolic import EnergyModel, map_profile, simulate
from accelscope.models.systolic.model import array_config
from accelscope.models.systolic.presets import tpu_v1
from tests.helpers import run_cli


_cli = run_cli


def test_tpu_v1_is_a_catalog_entry_the_systolic_engine_predicts(capsys):
    spec = load_hardware("tpu-v1")
    assert model_for(spec).name == "systolic"
    cfg = tpu_v1()  # the preset is the catalog entry's array, as published
    assert (cfg.rows, cfg.cols, cfg.dataflow, cfg.word_bytes, cfg.clock_hz) == (256, 256, "ws", 1, 700e6)
    assert (cfg.ifmap_sram_bytes, cfg.filter_sram_bytes, cfg.ofmap_sram_bytes) == (24 * 2**20, 256 * 2**10, 4 * 2**20)
    assert cfg.dram_bandwidth_bytes_per_s == 34e9 and cfg.offchip_operands == ("filter",)
    code, out, _ = _cli(["predict", "resnet50", "--batch", "4", "--hardware", "tpu-v1", "--json"], capsys)
    assert code == 0
    [e] = json.loads(out)["estimates"]
    assert e["model"].startswith("systolic-scalesim/1") and e["precision"] == "int8"
    assert 0 < e["mfu"] <= 1 and e["energy_j_per_sample"] > 0 and e["bound"] in ("compute", "memory")
    # the step is the engine's time for the profile's matrix layers, one after another
    prof = accelscope.profile("resnet50", batch_size=4)
    res = simulate(list(map_profile(prof).layers), array_config(spec))
    assert e["step_time_s"] == pytest.approx(res.time_s, rel=1e-12)
    assert e["executed_flops"] == 2 * res.macs and e["flops"] == prof.flops


def test_what_the_engine_refuses():
    spec = load_hardware("tpu-v1")
    train = accelscope.profile("mlp", task="train", batch_size=8)
    with pytest.raises(PredictionError, match="quantised inference"):
        predict(train, spec)
    pred = accelscope.predict("mlp", task="train", batch_size=8, hardware="tpu-v1,h100-sxm")
    assert [r.hardware for r in pred.results] == ["h100-sxm"]
    assert pred.unavailable[0].hardware == "tpu-v1" and "inference" in pred.unavailable[0].reason
    bert = accelscope.profile("bert-base", task="train", batch_size=1, seq_len=16, precision="amp-fp16")
    fp16 = load_spec_file(_design(accelscope.dse, "mlp", "fp16"))
    with pytest.raises(PredictionError, match="attention"):  # flash-attention backward has no lowering
        predict(bert, fp16)
    with pytest.raises(PredictionError, match="computes in fp16"):
        predict(accelscope.profile("mlp", batch_size=8), fp16)


_DESIGNS = {}


def _design(dse, model, precision):
    """A design file saved by dse (cached per precision for the module)."""
    if precision not in _DESIGNS:
        import tempfile
        from pathlib import Path

        from accelscope.models.systolic.dse import DesignSpace

        path = Path(tempfile.mkdtemp()) / f"my-{precision}-array.toml"
        dse(model, batch_size=8, space=DesignSpace(rows=(16, 64), cols=(16, 64), ifmap_sram_kib=(64,),
                                                   filter_sram_kib=(64,), ofmap_sram_kib=(64,), dataflows=("ws",),
                                                   clocks_hz=(1e9,), nodes_nm=(16,), precision=precision),
            save_design_path=path)
        _DESIGNS[precision] = path
    return _DESIGNS[precision]


def test_a_design_saved_by_dse_is_hardware_predict_and_explore_take(tmp_path, capsys, monkeypatch):
    path = _design(accelscope.dse, "mlp", "int8")
    spec = load_spec_file(path)
    assert spec.kind == "asic" and spec.performance_model == "systolic" and spec.systolic.dataflow == "ws"
    assert (spec.systolic.rows, spec.systolic.cols) == (64, 64)  # the fastest point of the front
    assert spec.dense_peaks.int8.value == pytest.approx(2 * 64 * 64 * 1e9)
    code, out, _ = _cli(["predict", "mlp", "--batch", "8", "--hardware", str(path), "--json"], capsys)
    assert code == 0
    [e] = json.loads(out)["estimates"]
    assert e["hardware"] == "my-int8-array" and e["model"].startswith("systolic-scalesim/1")
    # no TDP: energy from the engine's actions at the design's node (16 nm)
    assert e["energy_method"].startswith("model: per-action energy at 16 nm")
    mapped = simulate(list(map_profile(accelscope.profile("mlp", batch_size=8)).layers), array_config(spec),
                      EnergyModel(node_nm=16))
    assert e["energy_j_per_step"] == pytest.approx(mapped.energy.total_j, rel=1e-9)
    # explore ranks it next to the catalog's devices
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "s.sqlite"))
    code, out, _ = _cli(["explore", "mlp", "--batch", "8", "--device", "cpu", "--kind", "asic,tpu",
                         "--hardware-path", str(path.parent), "--max-time", "0.3", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["workloads"][0]["rows"]
    mine = [r for r in rows if r["device"] == "my-int8-array"]
    assert mine and mine[0]["model"].startswith("systolic") and mine[0]["speedup_vs_cpu"] > 0
    assert any(r["device"] == "tpu-v1" and r["model"].startswith("systolic") for r in rows)


def test_save_design_never_overwrites_and_is_checked(tmp_path):
    path = tmp_path / "one.toml"
    accelscope.simulate("mlp", batch_size=4, array="32x32", save_design_path=path)
    assert load_spec_file(path).systolic.rows == 32
    with pytest.raises(ConfigError, match="exists"):
        accelscope.simulate("mlp", batch_size=4, array="16x16", save_design_path=path)
    assert load_spec_file(path).systolic.rows == 32
    with pytest.raises(ConfigError, match=".toml"):
        accelscope.simulate("mlp", batch_size=4, save_design_path=tmp_path / "design.txt")
    with pytest.raises(ConfigError, match="is a file"):
        accelscope.simulate("mlp", batch_size=4, out=path)


def test_a_catalog_entry_without_the_array_is_refused(tmp_path):
    (tmp_path / "half.toml").write_text('kind = "asic"\nvendor = "x"\ndisplay_name = "half"\nmodel = "systolic"\n'
                                        '[sources]\ns = "a design of mine"\n'
                                        '[compute]\nclock_hz = { value = 1e9, source = "s" }\n'
                                        '[systolic]\nrows = 8\ncols = 8\ncount = 2\ndtype = "int8"\nsource = "s"\n')
    spec = load_spec_file(tmp_path / "half.toml")
    with pytest.raises(PredictionError, match="lacks dataflow"):
        predict(accelscope.profile("mlp", batch_size=1), spec)
    (tmp_path / "bad.toml").write_text('kind = "gpu"\nvendor = "x"\ndisplay_name = "bad"\nmodel = "nonsense"\n')
    pred = accelscope.predict("mlp", batch_size=1, hardware=[load_spec_file(tmp_path / "bad.toml")])
    assert "unknown performance model 'nonsense'" in pred.unavailable[0].reason
    assert "roofline" in pred.unavailable[0].reason and "systolic" in pred.unavailable[0].reason


def test_priced_energy_of_tpu_v1_uses_its_tdp():
    spec = load_hardware("tpu-v1")
    e = predict(accelscope.profile("mlp", batch_size=64), spec)
    p = price(e, spec)
    assert p.energy_method.startswith("model: idle + (TDP - idle)") and p.power_w == pytest.approx(75.0)
