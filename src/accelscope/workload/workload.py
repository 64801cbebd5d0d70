"""Workload: what is computed — a model, example inputs, a loss, a task, a batch and a precision.

A Workload is hardware-agnostic and lazy: it holds factories, not tensors, so the same
Workload can be traced on fake tensors (``workload.trace``) or run for real on a device
(``accelscope.measure``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
import torch.nn.functional as F

from accelscope.errors import ConfigError

from accelscope.workload.spec import OPTIMIZERS, PRECISIONS, PREDICTED_ONLY, STEP_TASKS as TASKS, WorkloadSpec

ModelFactory = Callable[[], nn.Module]
#: ``make_inputs(batch_size)`` -> the model's inputs, created on the current default device
#: (under a fake-tensor mode they are fake): a tensor, a tuple of positional inputs, or a dict
#: of keyword inputs (``split_inputs`` normalises them).
InputFactory = Callable[[int], Any]
#: ``make_targets(batch_size) -> Tensor`` of training targets.
TargetFactory = Callable[[int], torch.Tensor]
LossFn = Callable[[Any, Any], torch.Tensor]


def precision_dtypes(precision: str) -> tuple[torch.dtype, torch.dtype | None]:
    """(parameter dtype, autocast dtype or None) for an accelscope precision name.

    ``tf32`` keeps float32 tensors and lets matmuls use TensorFloat-32 math on devices
    that have it; ``amp-*`` keeps float32 weights and runs autocast in the low precision.
    """
    return {
        "fp32": (torch.float32, None),
        "tf32": (torch.float32, None),
        "bf16": (torch.bfloat16, None),
        "fp16": (torch.float16, None),
        "amp-fp16": (torch.float32, torch.float16),
        "amp-bf16": (torch.float32, torch.bfloat16),
    }[precision]


def classification_loss(output: Any, target: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy for (batch, classes) logits, or per-token for (batch, tokens, vocab)."""
    logits = output if isinstance(output, torch.Tensor) else output[0]
    if target is None:
        return generic_loss(output, None)
    if logits.dim() == 3:
        return F.cross_entropy(logits.flatten(0, 1), target[:, : logits.shape[1]].flatten())
    return F.cross_entropy(logits, target)


def generic_loss(output: Any, target: Any) -> torch.Tensor:
    """A scalar from any model output: the sum of the means of its floating-point tensors."""
    from torch.utils._pytree import tree_flatten

    leaves = [t for t in tree_flatten(output)[0] if isinstance(t, torch.Tensor) and t.is_floating_point()]
    if not leaves:
        raise ConfigError("the model returned no floating-point tensor to build a loss from")
    loss = leaves[0].float().mean()
    for t in leaves[1:]:
        loss = loss + t.float().mean()
    return loss


def split_inputs(inputs: Any) -> tuple[tuple, dict]:
    """(positional, keyword) inputs from what an input factory returned: a dict is keyword
    inputs (``model(**inputs)``), a tuple or list positional ones, anything else one input."""
    if isinstance(inputs, dict):
        return (), dict(inputs)
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs), {}
    return (inputs,), {}


def map_inputs(fn: Callable[[Any], Any], args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``fn`` applied to every positional and keyword input."""
    return tuple(fn(x) for x in args), {k: fn(v) for k, v in kwargs.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """One model run: ``task`` is ``'infer'`` (one forward pass) or ``'train'`` (one step).

    A Workload is the runnable form of a :class:`~accelscope.workload.spec.WorkloadSpec`
    (``load_workload(spec)``); ``origin`` is the spec it was built from, and :attr:`spec`
    the spec of this workload (``origin`` with this workload's task, batch and precision).
    """

    name: str
    build_model: ModelFactory
    make_inputs: InputFactory
    make_targets: TargetFactory | None = None
    loss_fn: LossFn = classification_loss
    task: str = "infer"
    batch_size: int = 1
    precision: str = "fp32"
    optimizer: str = "adamw"
    seq_len: int | None = None
    image_size: int | None = None
    channels_last: bool = False
    description: str = ""
    origin: WorkloadSpec | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConfigError(f"task {self.task!r} is not one of {', '.join(TASKS)}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision {self.precision!r} is not one of {', '.join(PRECISIONS)}")
        if self.precision in PREDICTED_ONLY:
            raise ConfigError(f"precision {self.precision} is not built as a model: its profile is the amp-bf16 "
                              "trace with FP8 linear products (accelscope.workload.fp8); profile or predict it")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"batch size must be a positive integer, got {self.batch_size!r}")

    @classmethod
    def from_spec(cls, spec: WorkloadSpec, **factories: Any) -> "Workload":
        """The Workload of a resolved spec, with its model and input factories."""
        return cls(name=spec.model, task=spec.task, batch_size=spec.batch_size, precision=spec.precision,
                   optimizer=spec.optimizer, seq_len=spec.seq_len, image_size=spec.image_size,
                   channels_last=spec.channels_last, origin=spec, **factories)

    def with_(self, **changes: Any) -> "Workload":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def spec(self) -> WorkloadSpec:
        """What this workload computes, as a spec (not re-loadable when it was built by hand)."""
        own = dict(model=self.name, task=self.task, batch_size=self.batch_size, precision=self.precision,
                   optimizer=self.optimizer, seq_len=self.seq_len, image_size=self.image_size,
                   channels_last=self.channels_last)
        return self.origin.with_(**own) if self.origin is not None else WorkloadSpec(**own)

    def make_model_inputs(self) -> tuple[tuple, dict]:
        """(positional, keyword) inputs for one step, floating-point ones in the parameter
        dtype, 4-D image inputs channels-last if asked."""
        args, kwargs = split_inputs(self.make_inputs(self.batch_size))
        args, kwargs = map_inputs(self._cast, args, kwargs)
        return args, kwargs

    @property
    def param_dtype(self) -> torch.dtype:
        return precision_dtypes(self.precision)[0]

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return precision_dtypes(self.precision)[1]

    def _cast(self, x: Any) -> Any:
        """A floating-point input in the parameter dtype (integer inputs such as tokens stay),
        channels-last if asked and 4-D."""
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            return x
        x = x.to(self.param_dtype)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


def make_optimizer(model: nn.Module, kind: str, *, foreach: bool | None = None) -> torch.optim.Optimizer:
    """AdamW (lr 1e-4, weight decay 0.01) or SGD (lr 0.01, momentum 0.9) over the trainable
    parameters; ``foreach=None`` is PyTorch's default implementation for the device."""
    params = [p for p in model.parameters() if p.requires_grad]
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01, foreach=foreach)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9, foreach=foreach)
    raise ConfigError(f"optimizer {kind!r} is not one of {', '.join(OPTIMIZERS)}")


@contextlib.contextmanager
def temporarily(get: Callable[[], Any], set_: Callable[[Any], Any], value: Any):
    """Set a global (thread count, default dtype, a backend flag) for a block, then restore it."""
    saved = get()
    set_(value)
    try:
        yield
    finally:
        set_(saved)
