"""Systolic-array accelerators (TPUs, custom ASICs): SCALE-Sim 3.0.0's cycle model, vectorised.

::

    from accelscope.models.systolic import ArrayConfig, Layer, simulate
    cfg = ArrayConfig(rows=32, cols=32, dataflow="ws")
    result = simulate([Layer.gemm("fc", 256, 1024, 512)], cfg)
    result.total_cycles, result.energy.total_j, result.area_m2

Modules: ``layers`` (im2col lowering), ``config`` (the accelerator), ``engine`` (cycles and
accesses of one layer), ``network`` (a workload), ``energy`` (per-action energy and area),
``dse`` (design-space exploration), ``scalesim_io`` (SCALE-Sim files), ``profile_map``
(Profile ops onto layers), ``presets`` (TPU v1).
"""

from accelscope.models.systolic.config import DATAFLOWS, ArrayConfig
from accelscope.models.systolic.dse import DesignSpace, DSEResult, explore, pareto_front
from accelscope.models.systolic.energy import EnergyBreakdown, EnergyModel, scale_factor
from accelscope.models.systolic.engine import LayerResult, OperandCounts, simulate_layer
from accelscope.models.systolic.layers import Layer
from accelscope.models.systolic.network import NetworkResult, simulate
from accelscope.models.systolic.presets import preset, tpu_v1
from accelscope.models.systolic.profile_map import MappedWorkload, map_ops, map_profile

#: The SCALE-Sim release whose results this model reproduces.
SCALESIM_VERSION = "3.0.0"

__all__ = [
    "DATAFLOWS", "ArrayConfig", "DesignSpace", "DSEResult", "explore", "pareto_front",
    "EnergyBreakdown", "EnergyModel", "scale_factor", "LayerResult", "OperandCounts",
    "simulate_layer", "Layer", "NetworkResult", "simulate", "preset", "tpu_v1",
    "MappedWorkload", "map_ops", "map_profile", "SCALESIM_VERSION",
]
