"""Row stationary on the Eyeriss chip against its JSSC 2017 measurements: AlexNet CONV1-5 at
batch 4 (Chen et al., IEEE JSSC 52(1), 2017, section VI-A; the chip and the figures are in
``src/accelscope/models/systolic/data/eyeriss.toml`` with their sources).

Prints each layer's mapping (the paper's parameters n, e, p, q, r, t, m), active PEs, cycles,
per-level accesses, then the network's frame rate, GMAC/s, active-PE share and DRAM traffic
next to the published ones. The published DRAM traffic is with the chip's run-length
compression of feature maps, which the model leaves out.

    python benchmarks/eyeriss_alexnet.py
"""

from __future__ import annotations

import time

from accelscope.models.systolic import row_stationary as rs
from accelscope.models.systolic.layers import Layer

#: AlexNet's convolutions with padding folded into the inputs; CONV2, 4 and 5 in their two
#: channel groups of the original two-GPU network (48 / 192 / 192 input channels per filter)
ALEXNET = [
    Layer(name="CONV1", ifmap_h=227, ifmap_w=227, filter_h=11, filter_w=11, channels=3, num_filters=96,
          stride_h=4, stride_w=4),
    Layer(name="CONV2", ifmap_h=31, ifmap_w=31, filter_h=5, filter_w=5, channels=48, num_filters=256),
    Layer(name="CONV3", ifmap_h=15, ifmap_w=15, filter_h=3, filter_w=3, channels=256, num_filters=384),
    Layer(name="CONV4", ifmap_h=15, ifmap_w=15, filter_h=3, filter_w=3, channels=192, num_filters=384),
    Layer(name="CONV5", ifmap_h=15, ifmap_w=15, filter_h=3, filter_w=3, channels=192, num_filters=256),
]


def main() -> None:
    t0 = time.perf_counter()
    cfg = rs.eyeriss()
    res = rs.simulate(ALEXNET, cfg, batch=4)
    pub = rs.constants()["published_alexnet"]
    print(f"{'layer':6s} {'n e p q r t m':>18s} {'PEs':>4s} {'cycles':>9s} {'util':>6s} {'RF':>9s} {'array':>9s} "
          f"{'GLB':>8s} {'DRAM':>8s} {'E/MAC':>6s}")
    for c in res.layers:
        m = c.mapping
        print(f"{c.layer:6s} {f'{m.n} {m.e} {m.p} {m.q} {m.r} {m.t} {m.m}':>18s} {c.active_pes:4d} {c.cycles:9d} "
              f"{c.utilisation(cfg):6.1%} {c.accesses('rf'):9.3g} {c.accesses('array'):9.3g} "
              f"{c.accesses('glb'):8.3g} {c.accesses('dram'):8.3g} {c.normalised_energy() / c.macs:6.2f}")
    fps = 4 / res.time_s
    gmacs = res.macs / res.time_s / 1e9
    active = sum(c.active_pes * c.cycles for c in res.layers) / (res.cycles * cfg.pes)
    dram_mb = res.accesses("dram") * cfg.word_bytes / 1e6
    e = res.energy_by_level_j()
    chip_mj = (res.energy_j - e["dram"]) * 1e3
    measured_mj = pub["chip_power_w"] * 4 / pub["frames_per_s"] * 1e3
    print()
    print(f"{'':22s} {'model':>9s} {'published':>10s} {'error':>8s}")
    for what, ours, theirs in (("frames/s", fps, pub["frames_per_s"]), ("GMAC/s", gmacs, pub["gmacs"]),
                               ("active PEs", active, pub["active_pe_fraction"]),
                               ("DRAM MB per batch", dram_mb, pub["dram_mb_per_batch"]),
                               ("chip mJ per batch", chip_mj, measured_mj)):
        print(f"{what:22s} {ours:9.3g} {theirs:10.3g} {ours / theirs - 1:+8.1%}")
    print(f"\nMACs {res.macs / 1e9:.3f} G (paper: 2.66 G); energy at {res.energy_model.node_nm:g} nm "
          f"{res.energy_j * 1e3:.1f} mJ per batch: " + ", ".join(f"{k} {v / res.energy_j:.0%}" for k, v in e.items()))
    print("published DRAM traffic is with run-length compression of fmaps (30-75% fewer fmap accesses); the "
          "model has none. Chip energy: the model's non-DRAM energy (MACs as Horowitz's fp16 MAC at 65 nm times "
          f"the ISCA 2016 costs) vs 278 mW x 4 frames / 34.7 frames/s; {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
