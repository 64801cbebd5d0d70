"""FPGA performance models, estimated without synthesis.

* :mod:`.dataflow` — streaming dataflow designs (FINN PE/SIMD folding, hls4ml reuse factor).
* :mod:`.folding` — automatic folding for a target frame rate or the fastest that fits.
* :mod:`.overlay` — DPU-style overlay processors (PP x ICP x OCP arrays, several cores).
* :mod:`.network` — layers from a Profile or a small layer-list file.
* :mod:`.estimate` — :func:`fpga_estimate`, an :class:`~accelscope.models.estimate.Estimate`
  for the FPGA rows of ``predict``/``explore``.
"""

from accelscope.models.fpga.dataflow import (
    DataflowResult,
    DesignOptions,
    LayerFold,
    LayerSpec,
    dataflow,
    is_valid_reuse_factor,
    valid_reuse_factors,
)
from accelscope.models.fpga.estimate import fpga_estimate
from accelscope.models.fpga.folding import fastest_that_fits, fold_to_target
from accelscope.models.fpga.network import layers_from_profile, load_layer_list
from accelscope.models.fpga.overlay import OverlayConfig, peak_ops_per_clock

__all__ = ["DataflowResult", "DesignOptions", "LayerFold", "LayerSpec", "OverlayConfig", "dataflow",
           "fastest_that_fits", "fold_to_target", "fpga_estimate", "is_valid_reuse_factor",
           "layers_from_profile", "load_layer_list", "peak_ops_per_clock",
           "valid_reuse_factors"]
