"""Row stationary (Eyeriss): closed-form counts against a pass-by-pass enumeration, the
mapping search on AlexNet against the JSSC 2017 chip, and the errors."""

import math
from collections import Counter

import pytest

from accelscope.errors import ConfigError
from accelscope.models.systolic import row_stationary as rs
from accelscope.models.systolic.energy import EnergyModel
from accelscope.models.systolic.layers import Layer


def enumerate_passes(layer: Layer, batch: int, mp: rs.Mapping) -> Counter:
    """Walk the RS schedule pass by pass and count what moves (the module docstring's loop nest)."""
    M, C, R, S = layer.num_filters, layer.channels, layer.filter_h, layer.filter_w
    E, F, W, H, U = layer.ofmap_h, layer.ofmap_w, layer.ifmap_w, layer.ifmap_h, layer.stride_h
    c = Counter()
    for n0 in range(0, batch, mp.n):
        nn = min(mp.n, batch - n0)
        for e0 in range(0, E, mp.e):
            ee = min(mp.e, E - e0)
            rows = min((ee - 1) * U + R, H)
            for m0 in range(0, M, mp.m):
                mm = min(mp.m, M - m0)
                for c0 in range(0, C, mp.q * mp.r):
                    cc = min(mp.q * mp.r, C - c0)
                    words = nn * cc * rows * W
                    c["dram_ifmap"] += words
                    c["glb_ifmap_w"] += words
                    for f0 in range(m0, m0 + mm, mp.p * mp.t):
                        ff = min(mp.p * mp.t, m0 + mm - f0)
                        c["glb_ifmap_r"] += words
                        c["dram_filter"] += ff * cc * R * S
                        c["array_filter"] += ff * cc * R * S * ee
                        channel_sets = math.ceil(cc / mp.q)
                        for _ in range(math.ceil(ff / mp.p)):
                            for cs in range(channel_sets):
                                c["array_ifmap"] += R * ee * min(mp.q, cc - cs * mp.q) * nn * W
                        outs = nn * ff * ee * F
                        c["glb_psum_w"] += outs
                        c["glb_psum_r"] += outs if c0 else 0
                        c["array_psum"] += outs * (R * channel_sets - 1)
                        c["compute_cycles"] += nn * F * min(mp.p, ff) * min(mp.q, cc) * S
    c["dram_psum"] = batch * M * E * F
    return c


CASES = [
    # layer, batch, mapping: every dimension with a partial last block
    (Layer(name="a", ifmap_h=9, ifmap_w=8, filter_h=3, filter_w=3, channels=7, num_filters=10), 3,
     rs.Mapping(n=2, e=3, p=3, q=2, r=2, t=1, m=6)),
    (Layer(name="b", ifmap_h=11, ifmap_w=11, filter_h=3, filter_w=3, channels=5, num_filters=9, stride_h=2,
           stride_w=2), 2, rs.Mapping(n=1, e=2, p=2, q=1, r=2, t=2, m=4)),
    (Layer(name="c", ifmap_h=6, ifmap_w=6, filter_h=1, filter_w=1, channels=13, num_filters=5), 1,
     rs.Mapping(n=1, e=6, p=5, q=4, r=2, t=1, m=5)),
]


@pytest.mark.parametrize("layer,batch,mp", CASES, ids=[c[0].name for c in CASES])
def test_closed_forms_equal_a_pass_by_pass_enumeration(layer, batch, mp):
    cfg = rs.RSConfig(rows=6, cols=8, glb_bytes=64 * 1024)
    got = rs.simulate_layer(layer, cfg, batch=batch, mapping=mp)
    want = enumerate_passes(layer, batch, mp)
    assert got.reads["dram"] == {"ifmap": want["dram_ifmap"], "filter": want["dram_filter"], "psum": 0}
    assert got.writes["dram"]["psum"] == want["dram_psum"]
    assert got.writes["glb"] == {"ifmap": want["glb_ifmap_w"], "filter": 0, "psum": want["glb_psum_w"]}
    assert got.reads["glb"] == {"ifmap": want["glb_ifmap_r"], "filter": 0, "psum": want["glb_psum_r"]}
    assert got.reads["array"] == {"ifmap": want["array_ifmap"], "filter": want["array_filter"],
                                  "psum": want["array_psum"]}
    assert got.compute_cycles == want["compute_cycles"] == got.cycles
    macs = batch * layer.macs
    assert got.reads["rf"] == {"ifmap": macs, "filter": macs, "psum": macs}
    assert got.writes["rf"] == {"ifmap": want["array_ifmap"], "filter": want["array_filter"], "psum": macs}
    assert got.macs <= got.cycles * got.active_pes  # no PE does more than one MAC a cycle


ALEXNET = [  # CONV1-5 (padding folded into the inputs; the two-GPU channel groups of CONV2/4/5 as in the paper)
    Layer(name="conv1", ifmap_h=227, ifmap_w=227, filter_h=11, filter_w=11, channels=3, num_filters=96, stride_h=4,
          stride_w=4),
    Layer(name="conv2", ifmap_h=31, ifmap_w=31, filter_h=5, filter_w=5, channels=48, num_filters=256),
    Layer(name="conv3", ifmap_h=15, ifmap_w=15, filter_h=3, filter_w=3, channels=256, num_filters=384),
    Layer(name="conv4", ifmap_h=15, ifmap_w=15, filter_h=3, filter_w=3, channels=192, num_filters=384),
    Layer(name="conv5", ifmap_h=15, ifmap_w=15, filter_h=3, filter_w=3, channels=192, num_filters=256),
]


def test_alexnet_on_eyeriss_against_the_jssc_2017_chip():
    cfg = rs.eyeriss()
    assert (cfg.rows, cfg.cols, cfg.filter_spad_words, cfg.glb_bytes) == (12, 14, 224, 102400)
    assert cfg.dram_words_per_cycle == pytest.approx(1.2)  # 64-bit bus at 60 MHz, 16-bit words, 200 MHz core
    res = rs.simulate(ALEXNET, cfg, batch=4)
    pub = rs.constants()["published_alexnet"]
    assert res.macs == pytest.approx(2.66e9, rel=0.002)  # the paper's 2.66 G MACs per batch of 4
    active = sum(c.active_pes * c.cycles for c in res.layers) / (res.cycles * cfg.pes)
    assert active == pytest.approx(pub["active_pe_fraction"], abs=0.03)  # measured 88%; 89.2% here
    fps = 4 / res.time_s
    # processing only (no per-pass delivery or pipeline time): 44 fps against the measured 34.7
    assert pub["frames_per_s"] < fps < 1.35 * pub["frames_per_s"]
    maps = {c.layer: c.mapping for c in res.layers}
    assert (maps["conv1"].e, maps["conv1"].t) == (7, 2)  # the paper's 11 x 7 strips, t = 2
    assert maps["conv2"].e == 14  # 5 x 27 split into 14 and 13 rows
    assert all((maps[k].r, maps[k].t, maps[k].e) == (2, 2, 13) for k in ("conv4", "conv5"))  # r = t = 2
    for c in res.layers:
        rs.check_mapping(next(lay for lay in ALEXNET if lay.name == c.layer), 4, cfg, c.mapping)
    # energy: the ISCA 2016 costs; the register files take the most accesses, DRAM the most per access
    e = res.energy_by_level_j()
    assert set(e) == {"mac", "rf", "array", "glb", "dram"}
    assert res.accesses("rf") > res.accesses("array") > res.accesses("glb") > res.accesses("dram")
    assert sum(c.normalised_energy() for c in res.layers) / res.macs == pytest.approx(6.33, abs=0.05)
    at45 = rs.simulate(ALEXNET, cfg, EnergyModel(node_nm=45, precision="fp16"), batch=4)
    assert res.energy_j / at45.energy_j == pytest.approx(1.241, rel=1e-3)  # Stillmaker-Baas 45 -> 65 nm


def test_objectives_trade_energy_for_speed():
    cfg = rs.eyeriss()
    conv1 = ALEXNET[0]
    by = {o: rs.simulate_layer(conv1, cfg, batch=4, objective=o) for o in rs.OBJECTIVES}
    assert by["energy"].normalised_energy() <= by["edp"].normalised_energy() <= by["delay"].normalised_energy()
    assert by["delay"].cycles <= by["edp"].cycles <= by["energy"].cycles
    assert by["energy"].cycles > 1.5 * by["edp"].cycles  # least energy: 0.7% less, 1.75x slower


def test_a_gemm_runs_as_a_one_by_one_convolution():
    gemm = Layer.gemm("fc", 64, 100, 300)
    res = rs.simulate_layer(gemm, rs.eyeriss(), batch=1)
    assert res.macs == 64 * 100 * 300
    assert res.reads["dram"]["filter"] >= 100 * 300  # every weight at least once


def test_what_row_stationary_refuses():
    cfg = rs.eyeriss()
    tall = Layer(name="tall", ifmap_h=20, ifmap_w=20, filter_h=13, filter_w=3, channels=1, num_filters=1)
    with pytest.raises(ConfigError, match="taller than the 12-row array"):
        rs.simulate_layer(tall, cfg)
    wide = Layer(name="wide", ifmap_h=20, ifmap_w=20, filter_h=3, filter_w=13, channels=1, num_filters=1)
    with pytest.raises(ConfigError, match="ifmap scratchpad"):
        rs.simulate_layer(wide, cfg)
    conv = ALEXNET[2]
    with pytest.raises(ConfigError, match="filter scratchpad"):
        rs.simulate_layer(conv, cfg, batch=1, mapping=rs.Mapping(n=1, e=13, p=24, q=4, r=1, t=1, m=24))
    with pytest.raises(ConfigError, match="do not fit the 12 x 14 array"):
        rs.simulate_layer(conv, cfg, batch=1, mapping=rs.Mapping(n=1, e=13, p=4, q=4, r=4, t=2, m=8))
    with pytest.raises(ConfigError, match="GLB"):
        rs.simulate_layer(conv, cfg, batch=4, mapping=rs.Mapping(n=4, e=13, p=16, q=4, r=2, t=2, m=384))
    with pytest.raises(ConfigError, match="objective"):
        rs.simulate_layer(conv, cfg, objective="area")
    with pytest.raises(ConfigError, match="glb_bytes"):
        rs.RSConfig(glb_bytes=0)


def test_simulate_cli_runs_row_stationary_on_a_model_and_keeps_its_batch(tmp_path, capsys):
    import json

    from accelscope.jobs.simulate import simulate
    from tests.helpers import run_cli

    sim = simulate("cnn", dataflow="rs", batch_size=8, node_nm=65.0)
    res = sim.result
    convs = [c for c in res.layers if c.layer.endswith("convolution.default")]
    assert convs and all(c.batch == 8 and c.mapping.n <= 8 for c in convs)
    # the same work as the systolic engine's mapping of the profile: MACs are the profile's
    ws = simulate("cnn", batch_size=8)
    assert res.macs == ws.result.macs
    code, out, err = run_cli(["simulate", "cnn", "--batch", "8", "--dataflow", "rs", "--json", "--out",
                              str(tmp_path / "o")], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["dataflow"] == "rs" and d["node_nm"] == 65.0 and d["macs"] == res.macs
    assert set(d["accesses"]) == {"rf", "array", "glb", "dram"} and d["accesses"]["dram"] > 0
    assert json.loads((tmp_path / "o" / "row_stationary.json").read_text())["cycles"] == d["cycles"]
    code, out, _ = run_cli(["simulate", "cnn", "--dataflow", "rs"], capsys)
    assert code == 0 and "row-stationary array" in out and "DRAM" in out
