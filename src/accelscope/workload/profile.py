"""Op and Profile: the hardware-agnostic counts of one inference pass or training step.

A Profile is what every later stage reads: performance models turn its counts into seconds,
the cost layer turns seconds into joules and dollars. It holds no device memory and no
timings. Conventions:

* FLOPs count one fused multiply-add as 2 FLOPs (the ``torch.utils.flop_counter`` convention).
  ``Profile.flops`` is the FLOPs of matrix products, convolutions and attention (the figure
  papers quote and ``FlopCounterMode`` reports); ``other_flops`` is the arithmetic of every
  other op (norms, activations, reductions, optimizer updates); ``total_flops`` is both.
* ``bytes_read`` counts every tensor input once and ``bytes_written`` every tensor output once,
  at the dtype in effect when the op ran (autocast included). Views move no data and count 0.
* ``flops is None`` means no rule covers the op; it is then named in ``uncovered_ops``.
  Ops that legitimately do no arithmetic (copies, views) have ``flops == 0``.
* Identical ops (same aten overload, phase, shapes, dtype and attributes) are aggregated into
  one :class:`Op` with ``count``; ``flops``, ``bytes_read`` and ``bytes_written`` are per
  occurrence, the ``total_*`` properties multiply by ``count``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from accelscope.errors import ProfileError
from accelscope.workload.spec import SpecFields, WorkloadSpec

CATEGORIES = (
    "matmul",
    "conv",
    "attention",
    "norm",
    "elementwise",
    "reduction",
    "embedding",
    "optimizer",
    "data movement",
    "other",
)
PHASES = ("forward", "backward", "optimizer")
#: Categories whose FLOPs make up ``Profile.flops``: the multiply-add work of matrix
#: products, convolutions and attention, as counted by ``torch.utils.flop_counter`` and as
#: published model FLOPs are quoted (ResNet-50: 4.09 GMACs = 8.18 GFLOPs per image).
TENSOR_CATEGORIES = ("matmul", "conv", "attention")

Shape = tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Op:
    """One aten operation (or ``count`` identical ones) of a traced step."""

    name: str
    category: str
    phase: str
    flops: int | None
    bytes_read: int
    bytes_written: int
    input_shapes: tuple[Shape | None, ...] = ()
    output_shapes: tuple[Shape | None, ...] = ()
    dtype: str = ""
    count: int = 1
    is_view: bool = False
    attrs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"Op {self.name}: category {self.category!r} is not one of {CATEGORIES}")
        if self.phase not in PHASES:
            raise ValueError(f"Op {self.name}: phase {self.phase!r} is not one of {PHASES}")

    @property
    def total_flops(self) -> int:
        return (self.flops or 0) * self.count

    @property
    def total_bytes_read(self) -> int:
        return self.bytes_read * self.count

    @property
    def total_bytes_written(self) -> int:
        return self.bytes_written * self.count

    @property
    def total_bytes(self) -> int:
        return (self.bytes_read + self.bytes_written) * self.count

    @property
    def arithmetic_intensity(self) -> float | None:
        """FLOPs per byte moved (None for ops that move no bytes)."""
        moved = self.bytes_read + self.bytes_written
        return None if moved == 0 or self.flops is None else self.flops / moved

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "phase": self.phase,
            "count": self.count,
            "flops": self.flops,
            "bytes_read": self.bytes_read,
            "bytes_written": self.bytes_written,
            "input_shapes": [list(s) if s is not None else None for s in self.input_shapes],
            "output_shapes": [list(s) if s is not None else None for s in self.output_shapes],
            "dtype": self.dtype,
            "is_view": self.is_view,
            "attrs": dict(self.attrs),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Op":
        """The Op of :meth:`to_dict` output (lists back to tuples, as the trace records them)."""
        def shapes(xs):
            return tuple(tuple(s) if s is not None else None for s in xs)

        attrs = {k: tuple(v) if isinstance(v, list) else v for k, v in d.get("attrs", {}).items()}
        return cls(name=d["name"], category=d["category"], phase=d["phase"], count=int(d["count"]),
                   flops=d["flops"], bytes_read=int(d["bytes_read"]), bytes_written=int(d["bytes_written"]),
                   input_shapes=shapes(d.get("input_shapes", ())), output_shapes=shapes(d.get("output_shapes", ())),
                   dtype=d.get("dtype", ""), is_view=bool(d.get("is_view", False)),
                   attrs=MappingProxyType(attrs))


def _sum_by(ops: Iterable[Op], key: str, value: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for op in ops:
        k = getattr(op, key)
        out[k] = out.get(k, 0) + getattr(op, value)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile(SpecFields):
    """Counts for one inference pass (``task='infer'``) or one training step (``'train'``).

    ``activation_bytes`` estimates peak activation memory: in training, the bytes of the
    distinct tensors autograd saves for the backward pass (the activations alive at the end
    of the forward pass); in inference, the largest set of non-parameter inputs and outputs
    of any single op (a lower bound on peak working memory).
    """

    #: the workload traced (resolved: batch, sizes and precision are concrete)
    spec: WorkloadSpec
    ops: tuple[Op, ...]
    params: int
    trainable_params: int
    param_bytes: int
    grad_bytes: int
    optimizer_state_bytes: int
    activation_bytes: int
    input_bytes: int
    samples_per_step: int = 1
    #: trainable parameter tensors (DDP works per tensor: its gradient-to-bucket copies)
    param_tensors: int = 0
    notes: tuple[str, ...] = ()

    # -- totals -------------------------------------------------------------------------
    @property
    def flops(self) -> int:
        """FLOPs of matmul, convolution and attention ops (see ``TENSOR_CATEGORIES``)."""
        return sum(op.total_flops for op in self.ops if op.category in TENSOR_CATEGORIES)

    @property
    def total_flops(self) -> int:
        """FLOPs of every op, including norms, activations, reductions and the optimizer."""
        return sum(op.total_flops for op in self.ops)

    @property
    def other_flops(self) -> int:
        return self.total_flops - self.flops

    @property
    def bytes_read(self) -> int:
        return sum(op.total_bytes_read for op in self.ops)

    @property
    def bytes_written(self) -> int:
        return sum(op.total_bytes_written for op in self.ops)

    @property
    def bytes_moved(self) -> int:
        return self.bytes_read + self.bytes_written

    @property
    def arithmetic_intensity(self) -> float | None:
        """Whole-step FLOPs (all ops) per byte moved, assuming no reuse between ops."""
        return self.total_flops / self.bytes_moved if self.bytes_moved else None

    @property
    def flops_by_phase(self) -> dict[str, int]:
        """``flops`` (matmul, conv, attention) per phase; the values add up to ``flops``."""
        by = _sum_by((op for op in self.ops if op.category in TENSOR_CATEGORIES), "phase", "total_flops")
        return {p: by.get(p, 0) for p in PHASES if p in self.phases}

    @property
    def total_flops_by_phase(self) -> dict[str, int]:
        """``total_flops`` per phase."""
        by = _sum_by(self.ops, "phase", "total_flops")
        return {p: by.get(p, 0) for p in PHASES if p in self.phases}

    @property
    def phases(self) -> tuple[str, ...]:
        present = {op.phase for op in self.ops}
        return tuple(p for p in PHASES if p in present)

    @property
    def flops_by_category(self) -> dict[str, int]:
        """FLOPs of every category; the values add up to ``total_flops``."""
        by = _sum_by(self.ops, "category", "total_flops")
        return {c: by[c] for c in CATEGORIES if c in by}

    @property
    def bytes_by_category(self) -> dict[str, int]:
        by = _sum_by(self.ops, "category", "total_bytes")
        return {c: by[c] for c in CATEGORIES if c in by}

    @property
    def op_count(self) -> int:
        """Number of op occurrences that launch work (views excluded)."""
        return sum(op.count for op in self.ops if not op.is_view)

    @property
    def uncovered_ops(self) -> list[str]:
        """Aten ops that ran but have no FLOP rule (their bytes still count)."""
        return sorted({op.name for op in self.ops if op.flops is None})

    @property
    def memory_bytes(self) -> int:
        """Estimated peak memory of the step: weights, gradients, optimizer state, activations."""
        return (
            self.param_bytes
            + self.grad_bytes
            + self.optimizer_state_bytes
            + self.activation_bytes
            + self.input_bytes
        )

    def phase(self, phase: str) -> list[Op]:
        return [op for op in self.ops if op.phase == phase]

    def top_ops(self, n: int = 10, by: str = "total_flops") -> list[Op]:
        return sorted(self.ops, key=lambda op: getattr(op, by), reverse=True)[:n]

    def op_summary(self) -> list[dict[str, Any]]:
        """The ops merged by (name, category, phase, FLOPs and bytes per call): one entry per
        distinct kind of work with its call count, for placing the ops on a roofline."""
        merged: dict[tuple, int] = {}
        for op in self.ops:
            if op.is_view:
                continue
            key = (op.name, op.category, op.phase, op.flops or 0, op.bytes_read + op.bytes_written)
            merged[key] = merged.get(key, 0) + op.count
        return [{"name": n, "category": c, "phase": ph, "flops": f, "bytes": b, "count": k}
                for (n, c, ph, f, b), k in merged.items()]

    def to_dict(self, include_ops: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "model": self.model,
            "task": self.task,
            "batch_size": self.batch_size,
            "precision": self.precision,
            "seq_len": self.seq_len,
            "image_size": self.image_size,
            "channels_last": self.channels_last,
            "optimizer": self.optimizer,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "flops": self.flops,
            "other_flops": self.other_flops,
            "total_flops": self.total_flops,
            "flops_by_phase": self.flops_by_phase,
            "total_flops_by_phase": self.total_flops_by_phase,
            "flops_by_category": self.flops_by_category,
            "bytes_read": self.bytes_read,
            "bytes_written": self.bytes_written,
            "bytes_by_category": self.bytes_by_category,
            "arithmetic_intensity": self.arithmetic_intensity,
            "op_count": self.op_count,
            "memory": {
                "param_bytes": self.param_bytes,
                "grad_bytes": self.grad_bytes,
                "optimizer_state_bytes": self.optimizer_state_bytes,
                "activation_bytes": self.activation_bytes,
                "input_bytes": self.input_bytes,
                "total_bytes": self.memory_bytes,
            },
            "uncovered_ops": self.uncovered_ops,
            "notes": list(self.notes),
            "samples_per_step": self.samples_per_step,
            "param_tensors": self.param_tensors,
            "spec": self.spec.to_dict(),
        }
        if include_ops:
            d["ops"] = [op.to_dict() for op in self.ops]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Profile":
        """The Profile of ``to_dict(include_ops=True)`` output (what the profile cache stores).
        Raises ProfileError when the record is not one."""
        try:
            mem = d["memory"]
            return cls(spec=WorkloadSpec.from_dict(d["spec"]), ops=tuple(Op.from_dict(o) for o in d["ops"]),
                       params=int(d["params"]), trainable_params=int(d["trainable_params"]),
                       param_bytes=int(mem["param_bytes"]), grad_bytes=int(mem["grad_bytes"]),
                       optimizer_state_bytes=int(mem["optimizer_state_bytes"]),
                       activation_bytes=int(mem["activation_bytes"]), input_bytes=int(mem["input_bytes"]),
                       samples_per_step=int(d["samples_per_step"]), param_tensors=int(d.get("param_tensors", 0)),
                       notes=tuple(d.get("notes", ())))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"not a stored profile ({type(exc).__name__}: {exc})") from exc
