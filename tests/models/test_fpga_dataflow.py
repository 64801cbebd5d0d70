"""Dataflow FPGA model: formulas against hand-computed layer configurations."""

import math

import pytest

from accelscope.errors import ConfigError
from accelscope.models.fpga import resources as R
from accelscope.models.fpga.dataflow import (
    DesignOptions, LayerFold, LayerSpec, check_fold, closest_reuse_factor, dataflow,
    is_valid_reuse_factor, layer_cost, swg_cycles, valid_reuse_factors,
)

BIN = DesignOptions(w_bits=1, a_bits=1, clock_hz=200e6)


def dense(i, o, name="fc"):
    return LayerSpec(name=name, kind="dense", in_ch=i, out_ch=o)


def test_mvu_cycles_multipliers_bram_and_luts_by_hand():
    r = layer_cost(dense(784, 256), LayerFold(pe=16, simd=49), BIN)
    assert r.cycles == (256 // 16) * (784 // 49) == 256
    assert r.resources.multipliers == 16 * 49
    # weights: depth 784*256/(16*49) = 256 words of 16*49*1 = 784 bits -> ceil(256/512)*ceil(784/36)
    assert r.mem_style == "block" and r.resources.bram18 == 22
    # FINN-R LUTs per PE: 49 XNOR x 2 + adder 2*(2*49-1) + acc 12 + thresholds 12 + comparators 12
    assert r.resources.lut == pytest.approx(300 + 1.1 * 16 * (98 + 194 + 12 + 12 + 12))
    assert r.resources.dsp == 0 and r.resource_type == "lut"


def test_dsp_resource_type_and_wide_products():
    opts = DesignOptions(w_bits=8, a_bits=8, resource_type="dsp")
    r = layer_cost(dense(64, 32), LayerFold(pe=4, simd=8), opts)
    assert r.resources.dsp == 32 and r.resources.multipliers == 32
    wide = layer_cost(dense(64, 32), LayerFold(pe=4, simd=8), DesignOptions(w_bits=16, a_bits=32, resource_type="dsp"))
    assert wide.resources.dsp == 32 * 2 * 1  # 32 bits over a 25-bit port: two DSPs each


def test_memory_styles_bram_uram_lutram():
    lay, fold = dense(1024, 512), LayerFold(pe=8, simd=8)  # depth 8192 x width 512 bits (w8)
    b = layer_cost(lay, fold, DesignOptions(mem_style="block"))
    u = layer_cost(lay, fold, DesignOptions(mem_style="ultra"))
    d = layer_cost(lay, fold, DesignOptions(mem_style="distributed"))
    assert b.resources.bram18 == math.ceil(8192 / 1024) * math.ceil(512 / 18) == 232
    assert u.resources.uram == math.ceil(512 / 72) * math.ceil(8192 / 4096) == 16 and u.resources.bram18 == 0
    assert d.resources.bram18 == 0 and d.resources.lut - b.resources.lut == pytest.approx(512 * 8192 / 64)
    assert R.bram18(1024, 18) == 1 and R.bram18(512, 36) == 1 and R.bram18(513, 36) == 2
    assert R.bram18(16384, 1) == 1 and R.bram18(16385, 1) == 2


@pytest.mark.parametrize("pe,simd", [(3, 1), (1, 5), (0, 1), (512, 1)])
def test_invalid_folding_rejected(pe, simd):
    with pytest.raises(ConfigError, match="must divide"):
        check_fold(dense(784, 256), LayerFold(pe=pe, simd=simd))


def test_depthwise_folding_rules_and_cycles():
    dw = LayerSpec(name="dw", kind="depthwise", in_ch=32, out_ch=32, kernel=(3, 3), in_hw=(10, 10), out_hw=(8, 8))
    r = layer_cost(dw, LayerFold(pe=8, simd=3), DesignOptions())
    assert r.compute_cycles == 64 * (32 // 8) * (9 // 3)
    with pytest.raises(ConfigError, match="k_h\\*k_w"):
        check_fold(dw, LayerFold(pe=8, simd=2))


def test_hls4ml_reuse_factor_validity_by_hand():
    assert is_valid_reuse_factor(16, 64, 1) and is_valid_reuse_factor(16, 64, 16)
    assert is_valid_reuse_factor(16, 64, 32)      # multiple of n_in, divides 1024
    assert not is_valid_reuse_factor(16, 64, 3)   # does not divide n_in*n_out
    assert not is_valid_reuse_factor(16, 64, 24)
    assert is_valid_reuse_factor(12, 4, 6)        # 48/6 = 8 multipliers, whole outputs
    assert not is_valid_reuse_factor(12, 4, 8)    # 6 multipliers for 4 outputs, 8 < 12
    assert valid_reuse_factors(12, 4) == [1, 2, 3, 4, 6, 12, 24, 48]
    assert closest_reuse_factor(12, 4, 8) == 6


def test_hls4ml_layer_ii_multipliers_and_latency():
    opts = DesignOptions(framework="hls4ml", w_bits=16, a_bits=16, resource_type="dsp")
    r = layer_cost(dense(16, 64), LayerFold(reuse_factor=4), opts)
    assert r.cycles == 4 and r.resources.multipliers == 16 * 64 // 4 == r.resources.dsp
    with pytest.raises(ConfigError, match="closest valid one is"):
        layer_cost(dense(16, 64), LayerFold(reuse_factor=3), opts)
    big = layer_cost(dense(128, 64), LayerFold(reuse_factor=1), opts)
    assert any("4096" in n for n in big.notes)  # Vivado HLS unroll limit


def test_sliding_window_cycles_by_hand():
    conv = LayerSpec(name="c0", kind="conv", in_ch=3, out_ch=64, kernel=(3, 3), in_hw=(32, 32), out_hw=(30, 30))
    # FINN get_exp_cycles: k_h buffered rows (W_in * k_h * C/S) + H_out blocks of max(write, read)
    assert swg_cycles(conv, 3) == 32 * 3 + 30 * max(30 * 9, 32) == 8196
    assert swg_cycles(conv, 1) == 32 * 3 * 3 + 30 * max(30 * 9 * 3, 32 * 3) == 24588
    r = layer_cost(conv, LayerFold(pe=64, simd=27), DesignOptions(w_bits=1, a_bits=8))
    assert r.compute_cycles == 900 and r.swg_cycles == 8196 and r.cycles == 8196 and r.bound == "swg"


def test_dense_chain_latency_is_sum_of_stages_plus_fill_and_throughput_is_slowest():
    layers = [dense(64, 32, "a"), dense(32, 16, "b")]
    d = dataflow(layers, [LayerFold(pe=32, simd=4), LayerFold(pe=2, simd=32)], BIN)
    cyc = [16, 8]
    assert [l.cycles for l in d.layers] == cyc
    assert d.ii_cycles == 16 and d.throughput_fps == pytest.approx(200e6 / 16)
    depth = sum(l.depth_cycles for l in d.layers)
    assert d.latency_cycles == pytest.approx(sum(cyc) + depth)
    assert "a" in d.bottleneck


def test_wrong_number_of_folds():
    with pytest.raises(ConfigError, match="one per layer"):
        dataflow([dense(4, 4)], [LayerFold(), LayerFold()], BIN)


def test_streaming_latency_of_a_dense_pair_by_hand():
    # a: 64 -> 32, PE 8, SIMD 16: NF = 4 folds of SF = 4 cycles; depth = popcount of 16
    #    (4 levels, 2 per cycle) + accumulate + threshold, no multiply stage (binarised) = 4.
    # b: 32 -> 16, PE 16, SIMD 8: NF = 1, SF = 4; depth = popcount of 8 (2 cycles) + 2 = 4.
    a, b = dense(64, 32, "a"), dense(32, 16, "b")
    d = dataflow([a, b], [LayerFold(pe=8, simd=16), LayerFold(pe=16, simd=8)], BIN)
    assert [l.depth_cycles for l in d.layers] == [4, 4]
    # a: input ready at 0, one FIFO hop: reads its 4 words in cycles 1..4, all 4 folds end
    #    at 1 + 16 - 1 = 16, + depth = 20; first fold's results at 1 + 4 - 1 + 4 = 8.
    assert (d.layers[0].first_out_cycles, d.layers[0].done_cycles) == (8, 20)
    # b: needs a's whole output (last word at 20) + hop 1, one fold (NF - 1 = 0) + depth 4;
    #    PE 8 words feed SIMD 8 words: no width converter.
    assert d.latency_cycles == max(20 + 1 + 0, 8 + 1 + 4 - 1) + 4 == 25
    # SIMD 4 instead (NF 1, SF 8): 8-wide words into 4-wide ones: a width converter (+1);
    # popcount of 4 = 2 levels = 1 cycle, depth 3.
    d2 = dataflow([a, b], [LayerFold(pe=8, simd=16), LayerFold(pe=16, simd=4)], BIN)
    assert d2.layers[1].depth_cycles == 3
    assert d2.latency_cycles == max(20 + 2 + 0, 8 + 2 + 8 - 1) + 3 == 25


def test_streaming_latency_of_conv_then_dense_by_hand():
    conv = LayerSpec(name="c", kind="conv", in_ch=3, out_ch=4, kernel=(3, 3), in_hw=(4, 4), out_hw=(2, 2))
    fc = dense(16, 2, "f")
    d = dataflow([conv, fc], [LayerFold(pe=4, simd=27), LayerFold(pe=2, simd=16)], BIN)
    c, f = d.layers
    assert c.swg_cycles == 4 * 3 + 2 * max(2 * 9, 4) == 48 and c.compute_cycles == 4 and d.ii_cycles == 48
    assert (c.depth_cycles, f.depth_cycles) == (5, 4)  # popcount of 27 (5 levels -> 3) + 2; of 16: 2 + 2
    # SWG (SIMD 3 = one pixel per word): input rows read by cycles 4, 8, 12, 16 (hop 1 + 4 words each).
    # Output row 0 needs rows 0-2: its block starts at 12, writes 18 window words in 13..30;
    # row 1 needs row 3 (read by 16) and the previous block (ends 30): words 31..48.
    # MVU (NF = SF = 1; 3-wide SWG words into 27-wide: hop 1 + width converter 1 = 2):
    #   row 0 ends max(30 + 2, 13 + 2 + 2 - 1) + 5 = 37, its first result 13 + 2 + 5 = 20;
    #   row 1 ends max(48 + 2, 31 + 2 + 1) + 5 = 55.
    assert (c.first_out_cycles, c.done_cycles) == (20, 55)
    # dense: needs the whole feature map (last result 55), 4-wide words into 16: hop 2; one fold.
    assert d.latency_cycles == max(55 + 2 + 0, 20 + 2 + 1 - 1) + 4 == 61
