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

from accelscope.errors import ConfigError, UnknownNameError
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


#: The cycle categories of the TPU v1 paper's Table 3, in its order. The first four total 100%
#: ("Rows 1, 4, 5, and 6 total 100%"); the last two are counters for "two possible reasons" of
#: the non-matrix cycles (row 6), so they are parts of it, not more cycles.
CYCLE_CATEGORIES = ("array_active", "weight_stall", "weight_shift", "non_matrix", "raw_stall",
                    "input_stall")
PARTITION = CYCLE_CATEGORIES[:4]


@dataclass(frozen=True, slots=True, kw_only=True)
class TpuV1Run:
    """One app on the TPU v1 preset, its cycles split as the paper's Table 3 splits them.

    ``cycles`` holds the four categories that partition the time (:data:`PARTITION`) and the
    two counters inside ``non_matrix`` (read-after-write and input stalls); ``share`` is of the
    partition's total either way, as the paper's percentages are.
    """

    app: PublishedApp
    cycles: dict[str, int]
    macs: int
    clock_hz: float

    @property
    def total_cycles(self) -> int:
        return sum(self.cycles[c] for c in PARTITION)

    @property
    def tops(self) -> float:
        return 2 * self.macs * self.clock_hz / self.total_cycles / 1e12

    def share(self, category: str) -> float:
        return self.cycles[category] / self.total_cycles


def tpu_v1_run(app: PublishedApp, cfg: ArrayConfig | None = None) -> TpuV1Run:
    """``app`` on TPU v1: the array (SCALE-Sim's cycles, weight-stationary) with its weights
    from the 34 GB/s weight memory, then the work outside the matrix unit.

    * array active: each fold's matrix operation, ``B`` cycles for ``B`` streamed rows (the
      paper: a ``B*256`` input times a 256x256 weight tile "taking B pipelined cycles");
    * weight shift: each fold's weights enter the array a row per cycle (``rows`` cycles a
      fold, part of SCALE-Sim's fold);
    * weight stall: the rest of the layer's matrix time (``NetworkResult.layer_time_s``, the
      folds double-buffered against the weight transfer): waiting for the weight memory, and
      the fill and drain SCALE-Sim's folds serialise, which the pipelined matrix unit overlaps
      with its next tile while it waits for weights anyway;
    * non-matrix: the activation unit reading the accumulators, 256 values a cycle, for every
      output of every layer; and the host interface (14 GiB/s) moving the first layer's input
      in and the last layer's output out. Nothing here overlaps them with the matrix unit;
    * of those, read-after-write stalls: the activations of every layer but the last, which
      "must complete before the matrix multiplications of the next layer can begin" (the
      synchronisation's own cost is not published, so it is not counted);
    * and input stalls: the first layer's input arriving over PCIe ("stalled for input over the
      PCIe bus").
    """
    from accelscope.models.systolic.network import simulate

    cfg = cfg or tpu_v1()
    if cfg.dataflow != "ws":
        raise ConfigError(f"tpu_v1_run splits a weight-stationary array's cycles as the TPU v1 paper does; "
                          f"got dataflow {cfg.dataflow!r}: use dataflow='ws'")
    paths = _data("tpu_v1")["paths"]
    layers = app.workload()
    res = simulate(layers, cfg)
    matrix = round(res.time_s * cfg.clock_hz)
    active = sum(r.folds * r.layer.m * r.layer.count for r in res.layers)
    shift = sum(r.folds * cfg.rows * r.layer.count for r in res.layers)
    per_layer = [lay.m * math.ceil(lay.n / paths["activation_values_per_cycle"]) * lay.count
                 for lay in layers]
    host_in, host_out = (math.ceil(elems * cfg.word_bytes / paths["host_bytes_per_s"] * cfg.clock_hz)
                         for elems in (layers[0].m * layers[0].k, layers[-1].m * layers[-1].n))
    cycles = {"array_active": active, "weight_stall": matrix - active - shift, "weight_shift": shift,
              "non_matrix": sum(per_layer) + host_in + host_out, "raw_stall": sum(per_layer[:-1]),
              "input_stall": host_in}
    return TpuV1Run(app=app, cycles=cycles, macs=res.macs, clock_hz=cfg.clock_hz)
