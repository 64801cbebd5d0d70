"""accelscope: measure, predict and price deep-learning workloads on any hardware.

The public API (see :mod:`accelscope.api`; importing it imports no torch)::

    import accelscope
    p = accelscope.profile("resnet50", task="train", batch_size=32, precision="amp-bf16")
    pred = accelscope.predict("resnet50", hardware="h100-sxm,tpu-v1", batch_size=32)
    [(r.hardware, r.step_time_s, r.usd_per_million_samples) for r in pred.results]
"""

from accelscope._version import __version__

__all__ = ["Assumptions", "Store", "WorkloadSpec", "__version__", "advise", "bench", "bench_comm", "calibrate", "calibrate_comm",
           "dse", "explore", "job",
           "fpga_estimate", "list_hardware", "load_hardware", "predict", "profile", "simulate", "write_report"]


def __getattr__(name: str):
    """The public names, imported on first use: a command that needs one part of accelscope
    (``accelscope simulate`` of a SCALE-Sim file) does not pay for the rest at start-up."""
    if name == "Assumptions":
        from accelscope.cost.price import Assumptions

        return Assumptions
    if name in __all__:
        from accelscope import api

        return getattr(api, name)
    raise AttributeError(f"module 'accelscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
