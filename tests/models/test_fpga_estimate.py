"""fpga_estimate (the Estimate the lead shows next to GPUs), layer files and the CLI."""

import json

import pytest

from accelscope.cli.main import run
from accelscope.errors import ConfigError
from accelscope.hardware.catalog import load_hardware
from accelscope.models.estimate import Estimate
from accelscope.models.fpga import fpga_estimate
from accelscope.models.fpga.dataflow import DesignOptions, LayerFold, dataflow
from accelscope.models.fpga.network import layers_from_profile, load_layer_list, reference_design
from accelscope.cost import Assumptions, price
from accelscope.workload.profile import Op, Profile
from accelscope.workload.spec import WorkloadSpec


def _profile(task="infer"):
    ops = (
        Op(name="aten.convolution.default", category="conv", phase="forward", flops=1, bytes_read=1,
           bytes_written=1, input_shapes=((2, 3, 32, 32), (16, 3, 3, 3), (16,)), output_shapes=((2, 16, 32, 32),),
           attrs={"stride": (1, 1), "padding": (1, 1), "groups": 1}),
        Op(name="aten.convolution.default", category="conv", phase="forward", flops=1, bytes_read=1,
           bytes_written=1, input_shapes=((2, 16, 32, 32), (16, 1, 3, 3), None), output_shapes=((2, 16, 16, 16),),
           attrs={"stride": (2, 2), "padding": (1, 1), "groups": 16}),
        Op(name="aten.addmm.default", category="matmul", phase="forward", flops=1, bytes_read=1, bytes_written=1,
           input_shapes=((10,), (2, 4096), (4096, 10)), output_shapes=((2, 10),), count=2),
        Op(name="aten.relu.default", category="elementwise", phase="forward", flops=1, bytes_read=1, bytes_written=1),
    )
    return Profile(spec=WorkloadSpec(model="toy", task=task, batch_size=2), ops=ops, params=0, trainable_params=0,
                   param_bytes=0, grad_bytes=0, optimizer_state_bytes=0, activation_bytes=0, input_bytes=0)


def test_layers_from_profile_maps_conv_depthwise_dense_and_counts():
    layers, skipped = layers_from_profile(_profile())
    assert [l.kind for l in layers] == ["conv", "depthwise", "dense", "dense"]
    assert layers[0].in_ch == 3 and layers[0].out_hw == (32, 32) and layers[0].mw == 27
    assert layers[1].stride == (2, 2) and layers[1].out_hw == (16, 16)
    assert layers[2].in_ch == 4096 and layers[2].out_ch == 10 and layers[2].vectors == 1
    with pytest.raises(ConfigError, match="inference"):
        layers_from_profile(_profile("train"))


def test_fpga_estimate_dataflow_fields():
    e = fpga_estimate(_profile(), load_hardware("zcu104"), w_bits=4, a_bits=4)
    assert isinstance(e, Estimate) and e.kind == "fpga" and e.model.startswith("fpga-dataflow/1")
    p = e.parameters
    assert e.step_time_s == pytest.approx(1 / p["throughput_fps"])
    assert p["latency_s"] >= e.step_time_s
    assert e.fits_in_memory is True and any(n.startswith("fits (") for n in e.notes)
    priced = price(e, load_hardware("zcu104"))  # energy is the cost layer's: board power x time per frame
    assert priced.energy_j_per_step is None and priced.energy_method.startswith("unavailable")
    e2 = price(e, load_hardware("zcu104"), Assumptions(power_w=10.0))
    assert e2.energy_j_per_sample == pytest.approx(10.0 * e.step_time_s)


def test_fpga_estimate_does_not_fit_says_which_resource():
    layers, _ = load_layer_list([{"kind": "dense", "in": 4096, "out": 4096}])
    e = fpga_estimate(layers, load_hardware("zc706"), w_bits=8, a_bits=8,
                      folds=[LayerFold(pe=4096, simd=64)], resource_type="dsp")
    assert e.fits_in_memory is False
    assert any(n.startswith("does not fit (DSP") for n in e.notes)


def test_fpga_estimate_reuse_factor_replaced_by_closest_valid():
    layers, _ = load_layer_list([{"kind": "dense", "in": 12, "out": 4}])
    e = fpga_estimate(layers, load_hardware("zc706"), framework="hls4ml", reuse_factor=8)
    assert e.parameters["layers"][0]["fold"] == {"reuse_factor": 6}
    assert any("closest valid 6" in n for n in e.notes)


def test_fpga_estimate_overlay_and_errors():
    e = fpga_estimate(_profile(), load_hardware("zcu102"), style="overlay")
    assert e.model == "fpga-overlay-dpu/2 (3xB4096)" and e.peak_flops_per_s == pytest.approx(3 * 4096 * 281e6)
    assert e.parameters["fps_multi_thread"] >= e.parameters["fps_single_thread"]
    with pytest.raises(ConfigError, match="needs an FPGA"):
        fpga_estimate(_profile(), load_hardware("a100-sxm4-80gb"))
    with pytest.raises(ConfigError, match="at most one"):
        fpga_estimate(_profile(), load_hardware("zc706"), target_fps=10, reuse_factor=2)


def test_jet_tagger_latency_order_of_100_ns():
    layers, cfg = reference_design("jet_tagger")
    d = dataflow(layers, [LayerFold(reuse_factor=1)] * 4,
                 DesignOptions(framework="hls4ml", w_bits=16, a_bits=16, resource_type="dsp", clock_hz=200e6))
    assert d.ii_cycles == 1
    assert 50e-9 < d.latency_s < 200e-9
    assert d.resources.dsp == 16 * 64 + 64 * 32 + 32 * 32 + 32 * 5


def test_layer_list_and_fold_files(tmp_path):
    (tmp_path / "net.toml").write_text(
        'layers = [{ name = "c0", kind = "conv", in = 3, out = 8, kernel = 3, in_hw = 8, padding = 1 },\n'
        '          { name = "f", kind = "dense", in = 512, out = 10 }]\n'
        'folding = { c0 = { pe = 8, simd = 27 } }\n')
    layers, folds = load_layer_list(tmp_path / "net.toml")
    assert layers[0].out_hw == (8, 8) and layers[0].in_hw == (10, 10)
    assert folds[0] == LayerFold(pe=8, simd=27) and folds[1] == LayerFold()
    (tmp_path / "bad.json").write_text(json.dumps({"layers": [{"kind": "dense", "inputs": 3}]}))
    with pytest.raises(ConfigError, match="unknown keys"):
        load_layer_list(tmp_path / "bad.json")


def test_cli_fpga_json_and_table(tmp_path, capsys):
    net = tmp_path / "net.json"
    net.write_text(json.dumps({"layers": [{"name": "fc1", "kind": "dense", "in": 16, "out": 64},
                                          {"name": "fc2", "kind": "dense", "in": 64, "out": 5}]}))
    with pytest.raises(SystemExit) as ex:
        run(["fpga", str(net), "--device", "zc706", "--reuse-factor", "4", "--bits", "16,6", "--json"])
    assert ex.value.code in (0, None)
    d = json.loads(capsys.readouterr().out)
    assert d["kind"] == "fpga" and d["parameters"]["framework"] == "hls4ml"
    with pytest.raises(SystemExit):
        run(["fpga", str(net), "--device", "zc706", "--target-fps", "1e6"])
    out = capsys.readouterr().out
    assert "per layer" in out and "fc1" in out
    with pytest.raises(SystemExit) as ex:
        run(["fpga", str(net), "--device", "zc706", "--bits", "8"])
    assert ex.value.code == 2
