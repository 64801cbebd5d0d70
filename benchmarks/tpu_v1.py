"""TPU v1 (Jouppi et al., ISCA 2017): predicted vs measured throughput of MLP0 and MLP1.

    python benchmarks/tpu_v1.py

The preset (``accelscope.models.systolic.presets.tpu_v1``): 256x256 int8 weight-stationary
array at 700 MHz, 24 MiB unified buffer, 256 KiB weight FIFO, 4 MiB accumulators, 34 GB/s
weight memory (only weights come from DRAM). The apps are given in the paper by batch, number
of layers and total weights; the layer widths are not published, so each app is modelled as
equal square fully connected layers (an assumption). Time per layer: SCALE-Sim's cycles for the
array, overlapped fold by fold with the weight transfer (``NetworkResult.layer_time_s``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from accelscope.models.systolic import simulate  # noqa: E402
from accelscope.models.systolic.presets import tpu_v1, tpu_v1_apps  # noqa: E402


def main() -> None:
    cfg = tpu_v1()
    print(f"TPU v1 preset: {cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} @ {cfg.clock_hz / 1e6:g} MHz, "
          f"peak {2 * cfg.peak_macs_per_s / 1e12:.1f} TOPS, weights at "
          f"{cfg.dram_bandwidth_bytes_per_s / 1e9:g} GB/s")
    print(f"{'app':6} {'batch':>5} {'layers':>6} {'width':>6} {'predicted TOPS':>15} "
          f"{'measured TOPS':>14} {'error':>7} {'array busy':>11}")
    for app in tpu_v1_apps():
        layers = app.workload()
        res = simulate(layers, cfg)
        tops = 2 * res.macs / res.time_s / 1e12
        busy = res.compute_cycles / cfg.clock_hz / res.time_s
        print(f"{app.name:6} {app.batch:5d} {app.layers:6d} {layers[0].n:6d} {tops:15.2f} "
              f"{app.measured_tops:14.1f} {tops / app.measured_tops - 1:+7.1%} {busy:11.1%}")


if __name__ == "__main__":
    main()
