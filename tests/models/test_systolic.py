"""Unit tests of the systolic-array simulator: lowering, files, energy, DSE, presets, mapping, CLI."""

from __future__ import annotations

import itertools
import json
import math
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelscope.errors import AccelscopeError, ConfigError
from accelscope.models.systolic import (
    ArrayConfig,
    DesignSpace,
    EnergyModel,
    Layer,
    explore,
    map_ops,
    pareto_front,
    scale_factor,
    simulate,
    simulate_layer,
)
from accelscope.models.systolic import scalesim_io as sio
from accelscope.models.systolic.presets import (CYCLE_CATEGORIES, PARTITION, tpu_v1, tpu_v1_apps,
                                                 tpu_v1_run)
from accelscope.workload.profile import Op
from tests.helpers import run_cli


# -- layers -------------------------------------------------------------------------------
def test_conv_lowering_follows_scalesim_ceil_and_folds_padding():
    layer = Layer.conv("c", ifmap_h=56, ifmap_w=56, filter_h=3, filter_w=3, channels=64,
                       num_filters=128, stride=2, padding=1)
    assert (layer.ifmap_h, layer.ifmap_w) == (58, 58)
    # SCALE-Sim: ceil((58 - 3 + 2) / 2) = 29 (PyTorch would give 28 for these sizes)
    assert (layer.ofmap_h, layer.ofmap_w) == (29, 29)
    assert (layer.m, layer.n, layer.k) == (29 * 29, 128, 3 * 3 * 64)
    mat = layer.ifmap_matrix()
    assert mat.shape == (layer.m, layer.k)
    assert (mat == -1).any()  # the overhanging last row/column of windows
    assert mat.max() == 58 * 58 * 64 - 1


def test_gemm_lowering_is_scalesims_gemm_topology_row():
    layer = Layer.gemm("g", 7, 5, 3)
    assert (layer.m, layer.n, layer.k, layer.macs) == (7, 5, 3, 105)
    assert np.array_equal(layer.ifmap_matrix(), np.arange(21).reshape(7, 3))


def test_layer_rejects_bad_shapes_with_advice():
    with pytest.raises(ConfigError, match="padding"):
        Layer(name="x", ifmap_h=2, ifmap_w=2, filter_h=3, filter_w=3, channels=1, num_filters=1)
    with pytest.raises(ConfigError, match="positive"):
        Layer.gemm("x", 0, 1, 1)


def test_config_validation():
    with pytest.raises(ConfigError, match="dataflow"):
        ArrayConfig(rows=8, cols=8, dataflow="rs")
    with pytest.raises(ConfigError, match="at least 100 words"):
        ArrayConfig(rows=8, cols=8, ifmap_sram_bytes=64)
    assert isinstance(ConfigError("x"), AccelscopeError)


# -- engine -------------------------------------------------------------------------------
def test_hand_checked_os_example():
    """100x37x50 GEMM, 8x8 OS, 1 KiB scratchpads (checked against SCALE-Sim by hand)."""
    cfg = ArrayConfig(rows=8, cols=8, dataflow="os", ifmap_sram_bytes=1024,
                      filter_sram_bytes=1024, ofmap_sram_bytes=1024)
    r = simulate_layer(Layer.gemm("g", 100, 37, 50), cfg)
    folds = math.ceil(100 / 8) * math.ceil(37 / 8)
    assert r.compute_cycles == folds * (50 + 8 + 8 - 2) - 1 == 4159
    assert r.total_cycles == 4224 and r.stall_cycles == 0
    assert r.sram_reads.ifmap == 5 * 100 * 50  # every column fold re-reads the inputs
    assert r.sram_writes.ofmap == 100 * 37 + folds * 16  # SCALE-Sim's OS count (compat)
    assert r.dram_reads.ifmap == 25000 and r.dram_reads.filter == 2250
    assert r.dram_writes.ofmap == 3707
    assert r.mapping_eff == pytest.approx(100 * 37 / (folds * 64))


def test_compat_off_counts_what_the_hardware_writes():
    cfg = ArrayConfig(rows=8, cols=8, dataflow="os", ifmap_sram_bytes=1024,
                      filter_sram_bytes=1024, ofmap_sram_bytes=1024, compat=False)
    r = simulate_layer(Layer.gemm("g", 100, 37, 50), cfg)
    assert r.sram_writes.ofmap == 3700
    assert r.dram_writes.ofmap == 3700


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_dram_reads_are_the_footprint_when_everything_fits(df):
    layer = Layer(name="c", ifmap_h=12, ifmap_w=12, filter_h=3, filter_w=3, channels=8,
                  num_filters=24)
    cfg = ArrayConfig(rows=16, cols=16, dataflow=df, ifmap_sram_bytes=1 << 20,
                      filter_sram_bytes=1 << 20, ofmap_sram_bytes=1 << 20)
    r = simulate_layer(layer, cfg)
    assert r.dram_reads.ifmap == layer.ifmap_words
    assert r.dram_reads.filter == layer.filter_words
    assert r.macs == layer.m * layer.n * layer.k
    assert 0 < r.overall_util <= r.mapping_eff <= 1


def test_user_bandwidth_mode_stalls_grow_as_the_bandwidth_falls():
    layer = Layer(name="c", ifmap_h=14, ifmap_w=14, filter_h=3, filter_w=3, channels=32,
                  num_filters=48)
    base = ArrayConfig(rows=16, cols=16, dataflow="ws", ifmap_sram_bytes=2048,
                       filter_sram_bytes=2048, ofmap_sram_bytes=2048)
    calc = simulate_layer(layer, base)
    stalls = []
    for bw in (64, 16, 4):
        res = simulate_layer(layer, base.with_(dram_bw_words_per_cycle=(bw, bw, bw)))
        # same array-side work; only the timing and the whole-request DRAM counts change
        assert (res.sram_reads.ifmap, res.sram_reads.filter) == (calc.sram_reads.ifmap,
                                                                  calc.sram_reads.filter)
        assert res.compute_cycles == (layer_rows := calc.compute_cycles - calc.stall_cycles) \
            + res.stall_cycles
        assert res.dram_reads.ifmap >= layer.ifmap_words
        stalls.append(res.stall_cycles)
    assert stalls[0] < stalls[1] < stalls[2]
    assert stalls[2] > layer_rows  # 4 words per cycle starve the array: stalls dominate
    # without SCALE-Sim's double count of a late prefetch, stalls are fewer
    exact = simulate_layer(layer, base.with_(dram_bw_words_per_cycle=(4, 4, 4), compat=False))
    assert 0 < exact.stall_cycles < stalls[2]


def test_network_totals_weight_by_count_and_reuse_identical_shapes():
    cfg = ArrayConfig(rows=16, cols=16)
    a = Layer.gemm("a", 64, 64, 64, count=3)
    b = Layer.gemm("b", 64, 64, 64)
    res = simulate([a, b], cfg)
    assert res.total_cycles == 4 * res.layers[0].total_cycles
    assert res.layers[1].name == "b"
    assert res.energy.total_j == pytest.approx(4 * res.energies[0].total_j)
    assert res.time_s == pytest.approx(res.compute_cycles / cfg.clock_hz)
    d = res.to_dict()
    layer = d["layers"][0]
    for key in ("name", "total_cycles", "compute_cycles", "stall_cycles", "compute_util",
                "mapping_eff", "sram_reads", "sram_writes", "dram_reads", "dram_writes"):
        assert key in layer
    assert set(layer["dram_reads"]) == {"ifmap", "filter", "ofmap"}


# -- SCALE-Sim files ----------------------------------------------------------------------
def test_config_round_trip(tmp_path):
    cfg = ArrayConfig(rows=32, cols=16, dataflow="is", ifmap_sram_bytes=128 * 1024,
                      filter_sram_bytes=64 * 1024, ofmap_sram_bytes=32 * 1024, name="rt")
    p = tmp_path / "a.cfg"
    p.write_text(sio.config_text(cfg))
    back, topo = sio.read_config(p)
    assert back == cfg and topo == ""


def test_user_mode_config_takes_scalesims_bandwidth_fields(tmp_path):
    text = sio.config_text(ArrayConfig(rows=8, cols=8)).replace("InterfaceBandwidth : CALC",
                                                                "InterfaceBandwidth : USER")
    text = text.replace("IfmapSRAMBankBandwidth : 10", "IfmapSRAMBankBandwidth : 20")
    p = tmp_path / "u.cfg"
    p.write_text(text)
    cfg, _ = sio.read_config(p)
    assert cfg.dram_bw_words_per_cycle == (20, 10, 10)


@pytest.mark.parametrize("key", ["IfmapCustomLayout", "FilterCustomLayout", "UseRamulatorTrace"])
def test_configs_needing_what_is_not_modelled_are_refused(tmp_path, key):
    text = sio.config_text(ArrayConfig(rows=8, cols=8))
    assert f"{key} : False" in text
    p = tmp_path / "x.cfg"
    p.write_text(text.replace(f"{key} : False", f"{key} : True"))
    with pytest.raises(ConfigError, match=f"{key} = False"):
        sio.read_config(p)


def test_topology_formats_and_depthwise_expansion():
    conv = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
            "Num Filter, Strides,\nconv1, 10, 12, 3, 3, 4, 8, 2,\nDP_x, 6, 6, 3, 3, 3, 1, 1,\n")
    layers = sio.parse_topology(conv)
    assert [lay.name for lay in layers] == ["conv1", "DP_xChannel_0", "DP_xChannel_1",
                                            "DP_xChannel_2"]
    assert layers[0].stride_w == 2 and layers[1].channels == 1
    gemm = "Layer, M, N, K,\nfc, 3, 4, 5\n"  # no trailing comma: still read whole
    (g,) = sio.parse_topology(gemm)
    assert (g.m, g.n, g.k) == (3, 4, 5)
    assert sio.parse_topology(sio.topology_text([g], "gemm"), "gemm")[0] == g
    with pytest.raises(ConfigError, match="line 2"):
        sio.parse_topology("Layer, M, N, K,\nfc, x, 4, 5,\n")


def test_missing_files_raise_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        sio.read_config(tmp_path / "nope.cfg")
    with pytest.raises(ConfigError, match="does not exist"):
        sio.read_topology(tmp_path / "nope.csv")


def test_reports_have_scalesims_columns(tmp_path):
    res = simulate([Layer.gemm("g", 20, 20, 20)], ArrayConfig(rows=8, cols=8))
    paths = sio.write_reports(res.layers, tmp_path)
    assert {p.name for p in paths} == {"COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv",
                                      "DETAILED_ACCESS_REPORT.csv"}
    lines = (tmp_path / "DETAILED_ACCESS_REPORT.csv").read_text().splitlines()
    assert len(lines[0].split(",")) == len(lines[1].split(",")) == 20


# -- energy and area ----------------------------------------------------------------------
@given(st.floats(7, 45), st.floats(7, 45), st.sampled_from(["energy", "area"]))
def test_scaling_is_monotonic_in_node(a, b, kind):
    lo, hi = sorted((a, b))
    assert scale_factor(lo, kind) <= scale_factor(hi, kind) + 1e-12


def test_scaling_reproduces_table_and_rejects_out_of_range():
    assert scale_factor(45) == pytest.approx(1.0)
    assert scale_factor(16) == pytest.approx(0.174)
    assert scale_factor(7, "area") == pytest.approx(0.059)
    # 65 nm (Eyeriss): Stillmaker-Baas 0.8 V energy polynomials, 0.8598 / 0.6930; area table 1.5
    assert scale_factor(65) == pytest.approx(1.241)
    assert scale_factor(65, "area") == pytest.approx(1.5)
    assert scale_factor(55) < scale_factor(65)
    with pytest.raises(ConfigError, match="7-65"):
        scale_factor(90)


def test_per_action_energies_from_horowitz():
    m = EnergyModel(node_nm=45, precision="int8")
    assert m.mac_energy_j == pytest.approx((0.2 + 0.1) * 1e-12)  # int8 mult + int32 add
    assert EnergyModel(precision="fp32").mac_energy_j == pytest.approx((3.7 + 0.9) * 1e-12)
    # 16 KiB buffer: each half is 8 KiB -> 10 pJ per 64 bits -> 1.25 pJ per byte
    assert m.sram_energy_per_word_j(16 * 1024) == pytest.approx(1.25e-12)
    assert m.sram_energy_per_word_j(1 << 20) > m.sram_energy_per_word_j(1 << 14)
    assert m.dram_energy_per_word_j == pytest.approx(1300e-12 / 8)
    assert EnergyModel(node_nm=7).mac_energy_j < m.mac_energy_j


def test_layer_energy_breakdown_adds_up():
    cfg = ArrayConfig(rows=16, cols=16)
    res = simulate([Layer.gemm("g", 128, 128, 128)], cfg, EnergyModel(node_nm=16))
    e = res.energy
    assert e.total_j == pytest.approx(e.mac_j + e.register_j + e.sram_j + e.dram_j)
    assert e.mac_j == pytest.approx(128 ** 3 * EnergyModel(node_nm=16).mac_energy_j)
    area = res.area_m2
    assert area["total_m2"] == pytest.approx(area["array_m2"] + area["sram_m2"])
    assert area["array_m2"] == pytest.approx(256 * EnergyModel(node_nm=16).pe_area_m2)


# -- DSE ----------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
                min_size=1, max_size=40))
def test_pareto_front_matches_brute_force(points):
    pts = np.array(points, dtype=float)
    front = set(pareto_front(pts[:, 0], pts[:, 1], pts[:, 2]).tolist())
    for i, p in enumerate(pts):
        dominated = any(np.all(q <= p) and np.any(q < p) for q in pts)
        duplicate_kept = any(j in front for j in range(len(pts)) if np.all(pts[j] == p))
        assert (not dominated) == duplicate_kept
        if i in front:
            assert not dominated


def test_explore_estimate_small_space_and_exact_cycles_agree():
    layers = [Layer.gemm("a", 64, 96, 80), Layer(name="c", ifmap_h=10, ifmap_w=10, filter_h=3,
                                                 filter_w=3, channels=8, num_filters=16)]
    space = DesignSpace(rows=(8, 16), cols=(8, 32), ifmap_sram_kib=(64,), filter_sram_kib=(64,),
                        ofmap_sram_kib=(64,), dataflows=("os", "ws"), clocks_hz=(1e9,),
                        nodes_nm=(45, 16))
    est = explore(layers, space)
    exact = explore(layers, space, method="exact")
    assert len(est) == space.size == 16
    # everything fits in 64 KiB: the estimate's cycles and DRAM words are exact here
    assert np.array_equal(est.columns["cycles"], exact.columns["cycles"])
    assert np.array_equal(est.columns["dram_words"], exact.columns["dram_words"])
    assert np.allclose(est.columns["energy_j"], exact.columns["energy_j"], rtol=1e-9)
    assert len(est.front()) >= 1
    header = est.to_csv().splitlines()[0]
    assert header.startswith("rows,cols,dataflow") and header.endswith("pareto")
    assert json.loads(est.to_json())["points"] == 16


def test_dse_rejects_empty_axis():
    with pytest.raises(ConfigError, match="empty"):
        DesignSpace(rows=())


# -- TPU v1 -------------------------------------------------------------------------------
def test_tpu_v1_preset_and_mlp_throughput_within_15_percent():
    cfg = tpu_v1()
    assert (cfg.rows, cfg.cols, cfg.dataflow, cfg.clock_hz) == (256, 256, "ws", 700e6)
    assert cfg.ifmap_sram_bytes == 24 * 2 ** 20
    assert cfg.peak_macs_per_s * 2 == pytest.approx(91.75e12, rel=1e-3)
    for app in tpu_v1_apps():
        res = simulate(app.workload(), cfg)
        tops = 2 * res.macs / res.time_s / 1e12
        assert tops == pytest.approx(app.measured_tops, rel=0.15), app.name


def test_tpu_v1_run_reports_the_papers_cycle_categories_and_mlps_within_10_percent():
    cfg = tpu_v1()
    for app in tpu_v1_apps():
        run = tpu_v1_run(app, cfg)
        assert tuple(run.cycles) == CYCLE_CATEGORIES == tuple(app.measured_cycles)
        # Table 3's rows 1, 4, 5 and 6 total 100%; RAW and input stalls are counters inside row 6
        assert sum(run.share(c) for c in PARTITION) == pytest.approx(1.0)
        layers = app.workload()
        res = simulate(layers, cfg)
        # a B x 256 matrix operation takes B pipelined cycles: B = the batch, once per fold
        assert run.cycles["array_active"] == sum(r.folds for r in res.layers) * app.batch
        assert run.cycles["weight_shift"] == sum(r.folds for r in res.layers) * 256
        # activation unit: 256 outputs a cycle for every layer, plus the host's I/O
        per_layer = [lay.m * -(-lay.n // 256) for lay in layers]
        host_in = -(-app.batch * layers[0].k * 700e6 // (14 * 2**30))
        assert run.cycles["raw_stall"] == sum(per_layer[:-1])  # the next layer waits for these
        assert run.cycles["input_stall"] == host_in  # the first layer's input over PCIe
        assert run.cycles["non_matrix"] > sum(per_layer) + host_in
        assert run.cycles["raw_stall"] + run.cycles["input_stall"] < run.cycles["non_matrix"]
        # the paper's shares within 7 points for the matrix unit's three categories
        for c in ("array_active", "weight_stall", "weight_shift"):
            assert abs(100 * run.share(c) - app.measured_cycles[c]) < 7, (app.name, c)
        assert run.cycles["weight_stall"] > 0  # the MLPs wait for the 34 GB/s weight memory
        assert run.tops == pytest.approx(app.measured_tops, rel=0.10), app.name
        assert run.tops < 2 * simulate(layers, cfg).macs_per_s / 1e12  # non-matrix costs time
    with pytest.raises(ConfigError, match="weight-stationary"):
        tpu_v1_run(app, cfg.with_(dataflow="os"))


# -- Profile mapping ----------------------------------------------------------------------
def _op(name, category, shapes, count=1, phase="forward", **attrs):
    return Op(name=name, category=category, phase=phase, flops=None, bytes_read=0,
              bytes_written=0, input_shapes=shapes, count=count,
              attrs=MappingProxyType(attrs))


def test_profile_ops_map_to_layers_with_their_macs():
    ops = [
        _op("aten.mm.default", "matmul", ((32, 64), (64, 16))),
        _op("aten.addmm.default", "matmul", ((16,), (32, 64), (64, 16)), count=2),
        _op("aten.bmm.default", "matmul", ((4, 8, 5), (4, 5, 7))),
        _op("aten.convolution.default", "conv", ((2, 3, 8, 8), (6, 3, 3, 3), None),
            stride=[1, 1], padding=[1, 1], dilation=[1, 1], transposed=False, groups=1),
        _op("aten.convolution.default", "conv", ((1, 4, 6, 6), (4, 1, 3, 3), None),
            stride=[1, 1], padding=[0, 0], dilation=[1, 1], transposed=False, groups=4),
        _op("aten.convolution_backward.default", "conv",
            ((2, 6, 8, 8), (2, 3, 8, 8), (6, 3, 3, 3)), phase="backward",
            groups=1, output_mask=[True, True, False]),
        _op("aten.relu.default", "elementwise", ((4,),)),
        _op("aten.mm.default", "matmul", ((3,),)),
    ]
    mapped = map_ops(ops)
    macs = [lay.macs * lay.count for lay in mapped.layers]
    conv_fwd = 2 * 8 * 8 * 6 * 27
    assert macs == [32 * 64 * 16, 2 * 32 * 64 * 16, 4 * 8 * 5 * 7, conv_fwd, 4 * 16 * 9,
                    conv_fwd, conv_fwd]
    conv = mapped.layers[3]
    assert (conv.ifmap_h, conv.count, conv.channels) == (10, 2, 3)  # padding folded, per image
    assert [name for name, _ in mapped.unmapped] == ["aten.mm.default"]


# -- CLI ----------------------------------------------------------------------------------
_cli = run_cli


def test_cli_simulate_topology_json_and_reports(tmp_path, capsys):
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\nfc1, 64, 100, 300,\nfc2, 64, 10, 100,\n")
    code, out, _ = _cli(["simulate", "--topology", str(topo), "--array", "16x8", "--dataflow",
                         "is", "--json", "--out", str(tmp_path / "o")], capsys)
    assert code == 0
    d = json.loads(out)
    assert [lay["name"] for lay in d["layers"]] == ["fc1", "fc2"]
    assert d["total_cycles"] == sum(lay["total_cycles"] for lay in d["layers"])
    assert set(d["layers"][0]["sram_writes"]) == {"ifmap", "filter", "ofmap"}
    assert (tmp_path / "o" / "COMPUTE_REPORT.csv").exists()
    direct = simulate_layer(Layer.gemm("fc1", 64, 100, 300),
                            ArrayConfig(rows=16, cols=8, dataflow="is"))
    assert d["layers"][0]["total_cycles"] == direct.total_cycles


def test_cli_dse_writes_all_points(tmp_path, capsys):
    topo = tmp_path / "t.csv"
    topo.write_text("Layer, M, N, K,\nfc1, 64, 100, 300,\n")
    code, out, _ = _cli(["dse", "--topology", str(topo), "--rows", "8,16", "--cols", "8",
                         "--ifmap-kib", "64", "--filter-kib", "64,128", "--ofmap-kib", "64",
                         "--clocks-hz", "1e9", "--nodes", "45,7", "--json", "--out",
                         str(tmp_path / "d")], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["points"] == 2 * 1 * 2 * 3 * 2
    assert 1 <= len(d["pareto_front"]) <= d["points"]
    lines = (tmp_path / "d" / "dse_points.csv").read_text().splitlines()
    assert len(lines) == d["points"] + 1


def test_cli_errors_exit_2(tmp_path, capsys):
    code, _, err = _cli(["simulate", "--topology", str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "does not exist" in err
    code, _, err = _cli(["simulate", "--array", "32by32", "--topology", str(tmp_path / "x")],
                        capsys)
    assert code == 2


@pytest.mark.slow
def test_cli_simulate_zoo_model(capsys):
    code, out, _ = _cli(["simulate", "mlp", "--array", "16x16", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["macs"] > 0 and d["layers"]


def test_all_dataflows_run_on_odd_shapes():
    for df, (r, c) in itertools.product(("os", "ws", "is"), ((3, 5), (8, 1))):
        res = simulate_layer(Layer.gemm("g", 7, 9, 11), ArrayConfig(rows=r, cols=c, dataflow=df))
        assert res.compute_cycles > 0 and res.dram_reads.filter == 99


@pytest.mark.slow
def test_profiled_resnet50_maps_every_conv_and_matmul_flop():
    import accelscope
    from accelscope.models.systolic import map_profile

    prof = accelscope.profile("resnet50", task="train", batch_size=2)
    mapped = map_profile(prof)
    assert not mapped.unmapped
    assert 2 * mapped.macs == prof.flops
