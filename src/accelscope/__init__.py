"""accelscope: measure, predict and price deep-learning workloads on any hardware.

The public API (see :mod:`accelscope.api`; importing it imports no torch)::

    import accelscope
    p = accelscope.profile("resnet50", task="train", batch_size=32, precision="amp-bf16")
    pred = accelscope.predict("resnet50", hardware="h100-sxm,tpu-v1", batch_size=32)
    [(r.hardware, r.step_time_s, r.usd_per_million_samples) for r in pred.results]
"""

from accelscope._version import __version__

from accelscope.api import (  # noqa: E402
    Store,
    WorkloadSpec,
    advise,
    bench,
    bench_comm,
    calibrate,
    calibrate_comm,
    dse,
    explore,
    fpga_estimate,
    job,
    list_hardware,
    load_hardware,
    predict,
    profile,
    simulate,
)
from accelscope.cost.price import Assumptions  # noqa: E402

__all__ = ["Assumptions", "Store", "WorkloadSpec", "__version__", "advise", "bench", "bench_comm", "calibrate", "calibrate_comm",
           "dse", "explore", "job",
           "fpga_estimate", "list_hardware", "load_hardware", "predict", "profile", "simulate"]
