"""What is computed: workload specs, the model zoo, and the profiles traced from them.

Importing this package does not import torch: the spec, the zoo's metadata, the Profile and
the profile cache are plain Python; tracing (``trace.py``) and building models
(``workload.py``, ``nets.py``) import torch when they run.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from accelscope.workload.profile import CATEGORIES, PHASES, TENSOR_CATEGORIES, Op, Profile
from accelscope.workload.spec import AUTO, OPTIMIZERS, PRECISIONS, TASKS, WorkloadSpec, as_spec
from accelscope.workload.zoo import RESOLVERS, ZOO, load_workload, model_names

if TYPE_CHECKING:
    from accelscope.workload.workload import Workload

__all__ = ["AUTO", "CATEGORIES", "OPTIMIZERS", "PHASES", "PRECISIONS", "RESOLVERS", "TASKS",
           "TENSOR_CATEGORIES", "Op", "Profile", "Workload", "WorkloadSpec", "ZOO", "as_spec",
           "load_workload", "model_names", "profile"]


def __getattr__(name: str) -> Any:
    if name == "Workload":  # the runnable form imports torch
        from accelscope.workload.workload import Workload

        return Workload
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def profile(model: "str | WorkloadSpec | Workload", *, cache: bool = True, **options: Any) -> Profile:
    """Profile one inference pass or training step on fake tensors (see ``trace.py``).

    ``model`` is a spec, a model name with workload options (``task``, ``batch_size``,
    ``seq_len``, ``image_size``, ``precision``, ``optimizer``, ``channels_last``,
    ``input_shape``, ``input_dtype``, ``inputs``: the fields of
    :class:`~accelscope.workload.spec.WorkloadSpec`), or a hand-built Workload. Zoo and
    torchvision profiles come from the on-disk cache when one was traced before
    (``cache=False`` traces anew and does not store).
    """
    from accelscope.workload import cache as profile_cache

    if not isinstance(model, (str, WorkloadSpec)):
        from accelscope.workload.trace import trace

        return trace(model if not options else model.with_(**options))
    spec = as_spec(model, **options).concrete().resolved()
    if spec.is_onnx:  # the graph's own shapes, from the file (not cached: the file is the source)
        from accelscope.workload import onnx

        return onnx.profile(spec)
    from accelscope.workload.spec import FP8_BASE

    if spec.precision in FP8_BASE:  # FP8 training: the base precision's trace, its linear products in FP8
        from accelscope.workload.fp8 import with_fp8_linears

        base = profile(spec.with_(precision=FP8_BASE[spec.precision]), cache=cache)
        return dataclasses.replace(with_fp8_linears(base, spec.precision), spec=spec)
    # the mode changes how a step runs, not what it computes: one trace (in eager) serves all
    eager = spec.with_(mode="eager")
    use_cache = cache and profile_cache.cacheable(eager)
    if use_cache and (hit := profile_cache.load(eager)) is not None:
        return dataclasses.replace(hit, spec=spec)
    from accelscope.workload.trace import trace

    traced = trace(load_workload(eager))
    if use_cache:
        profile_cache.save(traced)
    return dataclasses.replace(traced, spec=spec)
