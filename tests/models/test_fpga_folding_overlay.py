"""Automatic folding respects budgets; DPU overlay peaks and efficiency."""

import csv
import time
from pathlib import Path

import pytest

from accelscope.hardware.catalog import load_hardware
from accelscope.models.fpga.dataflow import DesignOptions, LayerFold, LayerSpec, dataflow
from accelscope.models.fpga.folding import fastest_that_fits, fold_to_target
from accelscope.models.fpga.network import load_layer_list, published_folding, reference_design
from accelscope.models.fpga.overlay import OverlayConfig, configs, layer_cycles, overlay, peak_ops_per_clock
from accelscope.models.fpga.resources import Budget, budget_from_spec

REF = Path(__file__).resolve().parents[1] / "data" / "fpga_reference.csv"


def _ref():
    with REF.open() as f:
        return list(csv.DictReader(f))


def test_fold_to_target_meets_target_with_cheapest_folds():
    layers, cfg = reference_design("cnv")
    opts = DesignOptions(w_bits=1, a_bits=1, first_layer_a_bits=8)
    fr = fold_to_target(layers, opts, budget_from_spec(load_hardware("zc706")), target_fps=10_000)
    assert fr.target_cycles == 20_000
    assert all(l.cycles <= 20_000 for l in fr.design.layers)
    assert fr.design.throughput_fps >= 10_000 and fr.fits


@pytest.mark.parametrize("lut", [20_000, 60_000, 150_000])
def test_fastest_that_fits_respects_the_budget(lut):
    layers, _ = reference_design("sfc")
    opts = DesignOptions(w_bits=1, a_bits=1)
    budget = Budget(device="test", lut=lut, dsp=0, bram36=100, uram=0, utilisation=1.0)
    fr = fastest_that_fits(layers, opts, budget)
    assert fr.fits and fr.design.resources.lut <= lut and fr.design.resources.bram36 <= 100
    assert "LUT" in fr.limited_by or "BRAM" in fr.limited_by  # a resource stops it
    faster = fold_to_target(layers, opts, budget, target_fps=200e6 / (fr.design.ii_cycles - 1))
    assert not faster.fits or faster.design.ii_cycles >= fr.design.ii_cycles


def test_too_small_device_reports_the_overflowing_resource():
    layers, _ = reference_design("cnv")
    fr = fastest_that_fits(layers, DesignOptions(w_bits=8, a_bits=8),
                           Budget(device="tiny", lut=5_000, dsp=10, bram36=5, uram=0))
    assert not fr.fits and "does not fit even fully folded" in fr.limited_by
    assert "% of budget" in fr.limited_by


def test_cnv_max_is_bound_by_the_first_sliding_window():
    layers, cfg = reference_design("cnv")
    fr = fastest_that_fits(layers, DesignOptions(w_bits=1, a_bits=1, first_layer_a_bits=8),
                           budget_from_spec(load_hardware("zc706"), 1.0))
    # conv0's SWG (SIMD 3): 32 * 3 + 30 * 270 = 8196 cycles per frame (FINN get_exp_cycles)
    assert fr.design.ii_cycles == 8196 and "structure" in fr.limited_by
    # a structural bound: the published CNV-max (21,906 images/s) cannot beat it
    published = next(float(r["value"]) for r in _ref() if r["design"] == "FINN CNV-max")
    assert published <= fr.design.throughput_fps == pytest.approx(200e6 / 8196)


def test_published_cnv_folding_is_the_bnn_pynq_release():
    folds, info = published_folding("cnv")
    layers, _ = reference_design("cnv")
    by = {l.name: f for l, f in zip(layers, folds)}
    assert by["conv0"] == LayerFold(pe=16, simd=3) and by["conv5"] == LayerFold(pe=1, simd=32)
    assert by["fc1"] == LayerFold(pe=1, simd=8) and by["pool1"].pe == 128
    assert "BNN-PYNQ" in info["source"] and "not the paper's CNV-max" in info["design"]
    d = dataflow(layers, folds, DesignOptions(w_bits=1, a_bits=1, first_layer_a_bits=8))
    # slowest: fc0 and fc1, 512 outputs x 256/4 (512/8) input words = 32,768 cycles; conv0:
    # 900 pixels x (64/16) x (27/3) = 32,400 (BNN-PYNQ config.h "Ext Latency" figures)
    assert d.ii_cycles == 32768 and d.layers[0].compute_cycles == 32400
    assert d.latency_cycles > 4 * d.ii_cycles  # three layers wait for a whole input vector
    assert published_folding("sfc") is None


def test_dpu_peak_ops_per_clock_exact():
    rows = [r for r in _ref() if r["metric"] == "ops_per_clock"]
    assert len(rows) == 8
    for r in rows:
        assert peak_ops_per_clock(r["design"].split()[1]) == int(r["value"])
    assert set(configs()) == {r["design"].split()[1] for r in rows}
    cfg = OverlayConfig(arch="B4096", cores=3, clock_hz=281e6)
    assert cfg.peak_ops_per_s == pytest.approx(3.45e12, rel=0.002)


def test_dpu_layer_cycles_by_hand():
    conv = LayerSpec(name="c", kind="conv", in_ch=64, out_ch=64, kernel=(3, 3), in_hw=(30, 30), out_hw=(28, 28))
    assert layer_cycles(conv, "B4096") == 4 * 28 * 4 * 4 * 9  # ceil(28/8) * 28 * ceil(64/16)^2 * 9
    fc = LayerSpec(name="f", kind="dense", in_ch=512, out_ch=1000)
    assert layer_cycles(fc, "B4096") == 1 * 32 * 63


MOBILE = [{"kind": "conv", "in": 3, "out": 32, "kernel": 3, "in_hw": 224, "stride": 2, "padding": 1},
          {"kind": "depthwise", "in": 32, "kernel": 3, "in_hw": 112, "padding": 1},
          {"kind": "conv", "in": 32, "out": 64, "in_hw": 112},
          {"kind": "conv", "in": 64, "out": 128, "kernel": 3, "in_hw": 56, "padding": 1},
          {"kind": "conv", "in": 128, "out": 256, "kernel": 3, "in_hw": 28, "padding": 1},
          {"kind": "conv", "in": 256, "out": 512, "kernel": 3, "in_hw": 14, "padding": 1},
          {"kind": "dense", "in": 512, "out": 1000}]


def test_dpu_efficiency_falls_as_the_array_grows_and_cores_share_ddr():
    layers, _ = load_layer_list(MOBILE)
    eff = {a: overlay(layers, OverlayConfig(arch=a)).efficiency for a in ("B512", "B1024", "B1600", "B4096")}
    assert eff["B512"] > eff["B1024"] > eff["B1600"] > eff["B4096"]
    assert all(0 < e < 1 for e in eff.values())
    one = overlay(layers, OverlayConfig(arch="B4096", cores=1))
    three = overlay(layers, OverlayConfig(arch="B4096", cores=3))
    assert one.fps_single_thread == pytest.approx(three.fps_single_thread)
    assert one.fps_multi_thread < three.fps_multi_thread < 3 * one.fps_multi_thread  # DDR shared
    dw = next(l for l in one.layers if l.layer.kind == "depthwise")
    assert dw.efficiency <= 1 / 16 + 1e-9  # depthwise cannot use the OCP dimension


def test_hundred_layer_estimate_under_a_second():
    from accelscope.models.fpga import fpga_estimate

    spec = load_hardware("alveo-u55c")
    layers = []
    for i in range(100):
        if i % 2:
            layers.append({"name": f"c{i}", "kind": "conv", "in": 64, "out": 64, "kernel": 3, "in_hw": 16, "padding": 1})
        else:
            layers.append({"name": f"f{i}", "kind": "dense", "in": 256, "out": 256, "vectors": 4})
    specs, _ = load_layer_list(layers)
    t = time.perf_counter()
    e = fpga_estimate(specs, spec, w_bits=4, a_bits=4)
    o = fpga_estimate(specs, load_hardware("zcu102"), style="overlay")
    assert time.perf_counter() - t < 1.0
    assert len(e.parameters["layers"]) == 100 and e.step_time_s > 0 and o.step_time_s > 0


def _tiny_layers():
    return [LayerSpec(name="c", kind="conv", in_ch=64, out_ch=64, kernel=(3, 3), in_hw=(30, 30), out_hw=(28, 28))]


@pytest.mark.parametrize("board, says", [("zc706", "carries no current Vitis AI DPU"),
                                         ("agilex7-m", "carries no current Vitis AI DPU"),
                                         ("alveo-u250", "DPUCADF8H"), ("alveo-v70", "DPUCV2DX8G")])
def test_a_board_is_never_given_a_dpu_it_cannot_carry(board, says):
    from accelscope.errors import ConfigError
    from accelscope.hardware.catalog import load_hardware
    from accelscope.models.fpga import fpga_estimate
    from accelscope.models.fpga.overlay import dpu_family

    spec = load_hardware(board)
    with pytest.raises(ConfigError, match=says):
        fpga_estimate(_tiny_layers(), spec, style="overlay")
    assert dpu_family("XCZU7EV") == dpu_family("XCK26") == "DPUCZDX8G" and dpu_family("XC7Z045") is None
    # the Zynq UltraScale+ boards do carry one
    assert fpga_estimate(_tiny_layers(), load_hardware("zcu104"), style="overlay").parameters["arch"] == "B4096"


def test_a_board_without_resource_counts_gets_one_answer_everywhere():
    from accelscope.errors import PredictionError
    from accelscope.jobs.predict import predict
    from accelscope.models.fpga import fpga_estimate

    spec = load_hardware("alveo-v70")  # no LUT, DSP, BRAM or URAM counts in the catalog
    with pytest.raises(PredictionError, match="not estimable, its resource counts are not in the catalog") as exc:
        fpga_estimate(_tiny_layers(), spec)
    pred = predict("mlp", hardware="alveo-v70", calibrations={})
    from accelscope.models.fpga.estimate import unknown_resources

    assert str(exc.value) == unknown_resources("alveo-v70", "layers")
    assert not pred.results and pred.unavailable[0].reason == unknown_resources("alveo-v70", "mlp")
    # sized by hand it is estimated
    e = fpga_estimate(_tiny_layers(), spec, reuse_factor=4, framework="hls4ml")
    assert e.step_time_s > 0 and e.fits_in_memory is None


def test_the_zcu104_reference_design_fits_with_its_weights_in_ultraram():
    from accelscope.models.fpga import fpga_estimate
    from accelscope.models.fpga.overlay import ram_banks

    # the DPU IP's RAM formula reproduces PG338's B4096 row (255 BRAM36, no URAM) ...
    assert ram_banks("B4096") == (255.0, 0)
    # ... and the ZCU104 TRD's URAM_ENABLE split (5 image, 17 weight, 1 bias banks): 23 banks
    # x 2 URAM, the 11 image banks left x 7.5 BRAM36
    assert ram_banks("B4096", [5, 17, 1]) == (82.5, 46)
    e = fpga_estimate(_tiny_layers(), load_hardware("zcu104"), style="overlay")
    util = e.parameters["utilisation"]
    assert e.fits_in_memory is True
    assert util["uram"] == pytest.approx(92 / 96) and util["bram"] == pytest.approx(165 / 312)


def test_an_overlay_runs_pooling_and_residual_adds_on_its_alu_and_element_wise_engines():
    import accelscope
    from accelscope.errors import ConfigError
    from accelscope.models.fpga import overlay as ovl
    from accelscope.models.fpga.dataflow import DesignOptions, LayerSpec, dataflow
    from accelscope.models.fpga.network import layers_from_profile

    prof = accelscope.profile("resnet50", task="infer", batch_size=1)
    plain, _ = layers_from_profile(prof)
    with_ov, _ = layers_from_profile(prof, overlay=True)
    kinds = [l.kind for l in with_ov]
    assert kinds.count("eltwise") == 16 and kinds.count("pool") == 1  # 16 bottlenecks, the stem's max pool
    from dataclasses import replace

    assert [replace(l, name="") for l in with_ov if l.kind not in ("eltwise", "pool")] == \
        [replace(l, name="") for l in plain]  # the same convolutions and dense layers besides
    pool = next(l for l in with_ov if l.kind == "pool")
    assert (pool.in_hw, pool.out_hw, pool.kernel, pool.stride) == ((114, 114), (56, 56), (3, 3), (2, 2))
    add = next(l for l in with_ov if l.kind == "eltwise")
    assert (add.in_ch, add.out_hw) == (256, (56, 56)) and add.macs == 0 and add.weights == 0
    # B4096: ICP 16 x ALU_PP 4 (PP/2) per clock, both on the ALU and on the element-wise engine
    assert ovl.alu_pixel_parallel("B4096") == 4 and ovl.alu_pixel_parallel("B512") == 2
    assert ovl.layer_cycles(add, "B4096") == 14 * 56 * 16
    assert ovl.layer_cycles(pool, "B4096") == 14 * 56 * 4 * 9
    dw = LayerSpec(name="dw", kind="depthwise", in_ch=32, out_ch=32, kernel=(3, 3), in_hw=(114, 114),
                   out_hw=(112, 112))
    assert ovl.layer_cycles(dw, "B4096") == 28 * 112 * 2 * 9  # half the conv array's 8 pixels
    # the add reads two maps and writes one: memory-bound at what one core's two 128-bit data ports
    # sustained in DNNDK's profiles (0.55 of 2 x 16 B x 300 MHz), below the board's 0.7 x 19.2 GB/s
    res = ovl.overlay([add], ovl.OverlayConfig(arch="B4096", cores=2, clock_hz=300e6))
    assert res.layers[0].bound == "memory"
    assert res.layers[0].memory_s == pytest.approx(3 * 256 * 56 * 56 / (2 * 16 * 300e6 * 0.55))
    with pytest.raises(ConfigError, match="overlay processor"):
        dataflow([add], None, DesignOptions())


def test_a_dpuczdx8g_core_streams_at_its_ports_measured_rate_and_shares_the_board_ddr():
    from accelscope.models.fpga import overlay as ovl

    core_bw, conv_eff = ovl.core_rates("B4096", 300e6)
    assert core_bw == pytest.approx(5.28e9) and conv_eff == pytest.approx(0.912)
    assert ovl.core_rates("B4096", 150e6)[0] == pytest.approx(2.64e9)  # the ports run at the DPU clock
    for other in (("C32", 1.25e9), ("DPUCAHX8H", 300e6)):  # no per-core measurement for the other families
        assert ovl.core_rates(*other) == (None, 1.0)
    weights = LayerSpec(name="fc", kind="dense", in_ch=4096, out_ch=4096, kernel=(1, 1), in_hw=(1, 1),
                        out_hw=(1, 1))
    conv = LayerSpec(name="c", kind="conv", in_ch=64, out_ch=64, kernel=(3, 3), in_hw=(226, 226),
                     out_hw=(224, 224))
    res = ovl.overlay([weights, conv], ovl.OverlayConfig(arch="B4096", cores=3, clock_hz=300e6))
    fc, cv = res.layers
    assert fc.bound == "memory" and fc.memory_s == pytest.approx((4096 * 4096 + 2 * 4096) / 5.28e9)
    # the engine's measured ceiling: 28 x 224 x 4 x 4 x 9 cycles at 300 MHz run at 0.912 of peak
    assert cv.bound == "compute" and cv.compute_s == pytest.approx(28 * 224 * 4 * 4 * 9 / 300e6 / 0.912)
    assert cv.cycles == 28 * 224 * 4 * 4 * 9
    # three cores streaming at once ask 15.8 GB/s of a board that gives 0.7 x 19.2 = 13.4: each gets a third
    over = ovl.LAYER_OVERHEAD_CYCLES / 300e6
    shared_fc = (4096 * 4096 + 2 * 4096) / (0.7 * 19.2e9 / 3)
    assert res.latency_shared_s == pytest.approx(shared_fc + cv.compute_s + 2 * over)
    assert res.latency_s == pytest.approx(fc.memory_s + cv.compute_s + 2 * over)


def test_versal_and_alveo_hbm_dpus_are_modelled_from_their_own_engines_and_mismatches_are_refused():
    from dataclasses import replace

    import accelscope
    from accelscope.errors import ConfigError, PredictionError
    from accelscope.hardware.schema import Figure
    from accelscope.models.fpga import overlay as ovl
    from accelscope.models.fpga.estimate import fpga_estimate

    # peaks as the product guides state them: PG389 C32B3 30.72 TOPS, PG367 U50 7373 GOPS, U280 17203 GOPS
    assert 3 * ovl.peak_ops_per_clock("C32") * 1.25e9 == pytest.approx(30.72e12)
    assert 5 * ovl.peak_ops_per_clock("C64") * 1.25e9 == pytest.approx(102.4e12)
    assert 6 * ovl.peak_ops_per_clock("DPUCAHX8H") * 300e6 == pytest.approx(7373e9, rel=1e-3)
    assert 14 * ovl.peak_ops_per_clock("DPUCAHX8H") * 300e6 == pytest.approx(17203e9, rel=1e-3)
    assert ovl.engines("DPUCAHX8H").dw_pp is None and ovl.engines("DPUCAHX8H-DWC").dw_pp == 2
    assert ovl.engines("B4096").family == "DPUCZDX8G" and ovl.engines("c32").family == "DPUCVDX8G"
    prof = accelscope.profile("resnet50", task="infer", batch_size=1)
    vck = replace(load_hardware("vck190"), mem_bandwidth_bytes_per_s=Figure(value=25.6e9, source="test"))
    e = fpga_estimate(prof, vck, style="overlay")
    p = e.parameters
    assert (p["arch"], p["cores"], p["family"], p["clock_hz"], p["alu_clock_hz"]) == ("C32", 3, "DPUCVDX8G", 1.25e9,
                                                                                     333e6)
    zcu = fpga_estimate(prof, load_hardware("zcu104"), style="overlay")
    assert p["fps_multi_thread"] > 1.5 * zcu.parameters["fps_multi_thread"]  # 30.7 vs 2.46 peak TOPS, DDR-bound
    # the ALU-side layers run at the PL's 333 MHz, the convolutions at the AI Engines' 1.25 GHz
    res = ovl.overlay([LayerSpec(name="add", kind="eltwise", in_ch=64, out_ch=64, in_hw=(8, 8), out_hw=(8, 8))],
                      ovl.OverlayConfig(arch="C32", clock_hz=1.25e9, alu_clock_hz=333e6, ddr_bandwidth_bytes_per_s=1e12))
    assert res.layers[0].compute_s == pytest.approx(1 * 8 * 4 / 333e6)
    with pytest.raises(PredictionError, match="memory bandwidth unknown"):
        fpga_estimate(prof, load_hardware("vck190"), style="overlay")
    with pytest.raises(ConfigError, match="C32 is a DPUCVDX8G configuration"):
        fpga_estimate(prof, load_hardware("zcu104"), style="overlay", dpu_arch="C32")
    with pytest.raises(ConfigError, match="no reference DPUCAHX8H integration"):
        fpga_estimate(prof, load_hardware("alveo-u55c"), style="overlay")
    mobile = accelscope.profile("mobilenet_v2", task="infer", batch_size=1)
    with pytest.raises(ConfigError, match="no depthwise-convolution engine"):
        fpga_estimate(mobile, load_hardware("alveo-u55c"), style="overlay", dpu_arch="DPUCAHX8H", dpu_cores=4,
                      clock_hz=300e6)
    with pytest.raises(ConfigError, match="DPUCADF8H DPU, whose architecture is not modelled"):
        fpga_estimate(prof, load_hardware("alveo-u250"), style="overlay")


def test_an_overlay_refuses_a_model_whose_activations_the_dpu_cannot_run():
    import accelscope
    from accelscope.errors import PredictionError
    from accelscope.models.fpga import overlay as ovl
    from accelscope.models.fpga.estimate import fpga_estimate

    eff = accelscope.profile("efficientnet_b0", task="infer", batch_size=1)
    assert ovl.host_ops(eff) == ["aten.sigmoid.default", "aten.silu_.default"]
    with pytest.raises(PredictionError, match="run on the host CPU"):
        fpga_estimate(eff, load_hardware("zcu104"), style="overlay")
    # ReLU6 (hardtanh) and ReLU are DPU activations
    assert ovl.host_ops(accelscope.profile("mobilenet_v2", task="infer", batch_size=1)) == []
    assert ovl.host_ops(accelscope.profile("vit_b_16", task="infer", batch_size=1)) == \
        ["aten.gelu.default", "aten.native_layer_norm.default"]
