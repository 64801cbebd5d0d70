"""What is computed: workloads (model + inputs + task + batch + precision) and their profiles."""

from accelscope.workload.profile import CATEGORIES, PHASES, TENSOR_CATEGORIES, Op, Profile
from accelscope.workload.workload import PRECISIONS, TASKS, Workload
from accelscope.workload.zoo import ZOO, load_workload, model_names

__all__ = ["CATEGORIES", "PHASES", "TENSOR_CATEGORIES", "Op", "Profile", "PRECISIONS", "TASKS",
           "Workload", "ZOO", "load_workload", "model_names", "profile"]


def profile(model: "str | Workload", *, channels_last: bool = False, **options) -> Profile:
    """Profile a model by name (see :func:`load_workload` for the options) or a Workload;
    ``channels_last`` traces image inputs in channels-last (NHWC) memory format."""
    from accelscope.workload.trace import trace

    workload = model if isinstance(model, Workload) else load_workload(model, **options)
    return trace(workload, channels_last=channels_last)
