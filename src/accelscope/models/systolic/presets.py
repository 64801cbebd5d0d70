"""Published accelerators as :class:`ArrayConfig` presets, and their published applications.

TPU v1 (Jouppi et al., ISCA 2017) maps onto SCALE-Sim's model as a 256x256 weight-stationary
array at 700 MHz with int8 words: the 24 MiB unified buffer holds activations (the ifmap
scratchpad), the four-tile weight FIFO (256 KiB) is the filter scratchpad fed from the 34 GB/s
DDR3 weight memory, and the 4 MiB of accumulators take the outputs. Only the weights come from
off-chip memory (activations stay in the unified buffer between layers), so the DRAM
bandwidth bound applies to the filter operand alone.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from accelscope.errors import UnknownNameError
from accelscope.models.systolic.config import ArrayConfig
from accelscope.models.systolic.layers import Layer


@lru_cache(maxsize=None)
def _data(name: str) -> dict:
    text = resources.files("accelscope.models.systolic").joinpath(f"data/{name}.toml").read_text()
    return tomllib.loads(text)


def tpu_v1() -> ArrayConfig:
    """TPU v1 from its catalog entry (``hardware/data/tpu/tpu-v1.toml``, the array in its
    ``[systolic]`` table), counting as SCALE-Sim 3.0.0 does (``compat=True``)."""
    from accelscope.hardware.catalog import load_hardware
    from accelscope.models.systolic.model import array_config

    return array_config(load_hardware("tpu-v1")).with_(compat=True)


PRESETS = {"tpu-v1": tpu_v1}


def preset(name: str) -> ArrayConfig:
    if name not in PRESETS:
        raise UnknownNameError("systolic preset", name, list(PRESETS))
    return PRESETS[name]()


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedApp:
    name: str
    measured_tops: float
    batch: int
    layers: int
    weights: int
    measured_cycles: dict[str, float] | None = None  # Table 3, % of cycles

    def workload(self) -> list[Layer]:
        """The app as equal square fully connected layers.

        The paper gives the batch, the number of layers and the total weights, not the layer
        widths; equal widths ``sqrt(weights / layers)`` is this model's assumption.
        """
        width = round(math.sqrt(self.weights / self.layers))
        return [Layer.gemm(f"{self.name}_fc{i}", self.batch, width, width)
                for i in range(self.layers)]


def tpu_v1_apps() -> list[PublishedApp]:
    return [PublishedApp(name=k, **v) for k, v in _data("tpu_v1")["apps"].items()]


#: The cycle categories of the TPU v1 paper's Table 3, in its order.
CYCLE_CATEGORIES = ("array_active", "weight_stall", "weight_shift", "non_matrix", "raw_stall",
                    "input_stall")


@dataclass(frozen=True, slots=True, kw_only=True)
class TpuV1Run:
    """One app on the TPU v1 preset, its cycles split as the paper's Table 3 splits them.

    ``cycles[c]`` is ``None`` for a category the model does not have: read-after-write stalls
    and input stalls come from the instruction pipeline, which is not modelled.
    """

    app: PublishedApp
    cycles: dict[str, int | None]
    macs: int
    clock_hz: float

    @property
    def total_cycles(self) -> int:
        return sum(c for c in self.cycles.values() if c is not None)

    @property
    def tops(self) -> float:
        return 2 * self.macs * self.clock_hz / self.total_cycles / 1e12

    def share(self, category: str) -> float | None:
        value = self.cycles[category]
        return None if value is None else value / self.total_cycles


def tpu_v1_run(app: PublishedApp, cfg: ArrayConfig | None = None) -> TpuV1Run:
    """``app`` on TPU v1: the array (SCALE-Sim's cycles, weight-stationary) with its weights
    from the 34 GB/s weight memory, then the work outside the matrix unit.

    * weight shift: each fold's weights enter the array a row per cycle (``rows`` cycles a
      fold, part of SCALE-Sim's fold);
    * array active: the rest of the array's cycles;
    * weight stall: the layer time the weight transfer adds beyond the array's
      (``NetworkResult.layer_time_s``, the folds double-buffered);
    * non-matrix: the activation unit reading the accumulators, 256 values a cycle, for every
      output of every layer; and the host interface (14 GiB/s) moving the first layer's input
      in and the last layer's output out. The paper's categories are disjoint shares of the
      cycles, so these add up.
    """
    from accelscope.models.systolic.network import simulate

    cfg = cfg or tpu_v1()
    paths = _data("tpu_v1")["paths"]
    layers = app.workload()
    res = simulate(layers, cfg)
    array_cycles = res.compute_cycles
    shift = sum(r.folds * cfg.rows * r.layer.count for r in res.layers)
    stall = round(res.time_s * cfg.clock_hz) - array_cycles
    activation = sum(lay.m * math.ceil(lay.n / paths["activation_values_per_cycle"]) * lay.count
                     for lay in layers)
    host_bytes = (layers[0].m * layers[0].k + layers[-1].m * layers[-1].n) * cfg.word_bytes
    host = math.ceil(host_bytes / paths["host_bytes_per_s"] * cfg.clock_hz)
    cycles = {"array_active": array_cycles - shift, "weight_stall": stall, "weight_shift": shift,
              "non_matrix": activation + host, "raw_stall": None, "input_stall": None}
    return TpuV1Run(app=app, cycles=cycles, macs=res.macs, clock_hz=cfg.clock_hz)
