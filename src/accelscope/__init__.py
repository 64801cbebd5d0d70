"""accelscope: measure, predict and price deep-learning workloads on any hardware.

The public API lives here; everything else is an implementation detail::

    import accelscope
    p = accelscope.profile("resnet50", task="train", batch_size=32, precision="amp-bf16")
    print(p.flops, p.flops_by_phase, p.uncovered_ops)
"""

from accelscope.workload import Op, Profile, Workload, load_workload, model_names, profile

__version__ = "0.1.0"
__all__ = ["Op", "Profile", "Workload", "load_workload", "model_names", "profile", "__version__"]
