"""TPU v1 (Jouppi et al., ISCA 2017): predicted vs measured throughput of MLP0 and MLP1.

    python benchmarks/tpu_v1.py

The preset (``accelscope.models.systolic.presets.tpu_v1``): 256x256 int8 weight-stationary
array at 700 MHz, 24 MiB unified buffer, 256 KiB weight FIFO, 4 MiB accumulators, 34 GB/s
weight memory (only weights come from DRAM). The apps are given in the paper by batch, number
of layers and total weights; the layer widths are not published, so each app is modelled as
equal square fully connected layers (an assumption). Time per layer: SCALE-Sim's cycles for the
array, overlapped fold by fold with the weight transfer (``NetworkResult.layer_time_s``), then the work outside
the matrix unit: the activation unit (256 values a cycle) and the host interface (14 GiB/s), as
``presets.tpu_v1_run`` documents. Cycle shares are printed next to the paper's Table 3: the first four
total 100%, and the read-after-write and input stalls are counters inside the non-matrix cycles.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from accelscope.models.systolic.presets import (  # noqa: E402
    CYCLE_CATEGORIES, tpu_v1, tpu_v1_apps, tpu_v1_run)


def main() -> None:
    cfg = tpu_v1()
    print(f"TPU v1 preset: {cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} @ {cfg.clock_hz / 1e6:g} MHz, "
          f"peak {2 * cfg.peak_macs_per_s / 1e12:.1f} TOPS, weights at "
          f"{cfg.dram_bandwidth_bytes_per_s / 1e9:g} GB/s")
    print(f"{'app':6} {'batch':>5} {'layers':>6} {'width':>6} {'predicted TOPS':>15} "
          f"{'measured TOPS':>14} {'error':>7}")
    runs = [tpu_v1_run(app, cfg) for app in tpu_v1_apps()]
    for run in runs:
        app = run.app
        width = app.workload()[0].n
        print(f"{app.name:6} {app.batch:5d} {app.layers:6d} {width:6d} {run.tops:15.2f} "
              f"{app.measured_tops:14.1f} {run.tops / app.measured_tops - 1:+7.1%}")
    print("\ncycles, % (predicted / Table 3)")
    print(f"{'app':6} " + " ".join(f"{c:>15}" for c in CYCLE_CATEGORIES))
    for run in runs:
        cells = []
        for c in CYCLE_CATEGORIES:
            mine = f"{100 * run.share(c):.1f}"
            cells.append(f"{mine + ' / ' + format(run.app.measured_cycles[c], '.1f'):>15}")
        print(f"{run.app.name:6} " + " ".join(cells))


if __name__ == "__main__":
    main()
