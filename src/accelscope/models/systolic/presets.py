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
