"""Design-space exploration throughput and the estimate's error against the exact engine.

    python benchmarks/systolic_dse.py

1. Throughput: the default design space (6 x 6 array shapes, 5 x 5 x 3 SRAM sizes, 3
   dataflows, 3 clocks, 5 nodes = 121,500 points) for SCALE-Sim's ResNet-50 topology with the
   fast estimator; prints points per second (goal: 1e5 points in <= 60 s on 2 cores).
2. Accuracy: on a sample of (array, SRAM, dataflow) combinations the estimate's cycles, DRAM
   words and energy are compared with the cycle-exact engine (compat=False) on the same
   workload; prints median and worst relative errors.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from accelscope.models.systolic import DesignSpace, explore  # noqa: E402
from accelscope.models.systolic import scalesim_io as sio  # noqa: E402
from systolic_vs_scalesim import RESNET50  # noqa: E402


def main() -> None:
    layers = sio.parse_topology("header\n" + RESNET50, "conv")
    space = DesignSpace()
    t = time.perf_counter()
    res = explore(layers, space)
    dt = time.perf_counter() - t
    print(f"DSE (estimate) on ResNet-50, {len(layers)} layers: {len(res)} design points in "
          f"{dt:.2f} s = {len(res) / dt:,.0f} points/s; Pareto front {len(res.pareto)} points")
    best = res.front()[0]
    print(f"  fastest front point: {best['rows']}x{best['cols']} {best['dataflow']} "
          f"SRAM {best['ifmap_sram_kib']}/{best['filter_sram_kib']}/{best['ofmap_sram_kib']} KiB "
          f"{best['clock_hz'] / 1e9:g} GHz {best['node_nm']:g} nm: {best['latency_s'] * 1e3:.3f} ms, "
          f"{best['energy_j'] * 1e3:.2f} mJ, {best['area_m2'] * 1e6:.1f} mm^2")

    sample = DesignSpace(rows=(16, 64), cols=(16, 128), ifmap_sram_kib=(32, 1024),
                         filter_sram_kib=(32, 1024), ofmap_sram_kib=(64,),
                         dataflows=("os", "ws", "is"), clocks_hz=(1e9,), nodes_nm=(45,))
    t = time.perf_counter()
    est = explore(layers, sample)
    exact = explore(layers, sample, method="exact")
    dt = time.perf_counter() - t
    print(f"estimate vs exact engine on {len(est)} (array, SRAM, dataflow) points "
          f"(exact took {dt:.1f} s):")
    for col in ("cycles", "dram_words", "energy_j"):
        err = np.abs(est.columns[col] / exact.columns[col] - 1)
        print(f"  {col:10s} median {np.median(err):.2%}  max {err.max():.2%}")
    same = len(set(est.pareto.tolist()) & set(exact.pareto.tolist()))
    print(f"  Pareto fronts: estimate {len(est.pareto)}, exact {len(exact.pareto)}, shared {same}")


if __name__ == "__main__":
    main()
