"""WorkloadSpec: the one frozen description of a workload that every stage carries.

A spec says *what* is computed, never where: the model (a zoo preset, ``torchvision:NAME``
or ``package.module:callable``), the task (``infer``: one forward pass; ``train``: one
optimizer step), the batch, the sequence length or image size, the precision, the optimizer,
the memory format of image inputs and, for user models, how their inputs are made. The CLI's
shared options build one (``accelscope.cli.options``), so every command takes every workload
option; the Python API takes one or builds it from keyword arguments. Profiles, Measurements,
Estimates and stored points carry it, and calibration re-profiles a stored point from it.

A spec is plain data: it imports nothing heavy (no torch), compares and hashes by value, and
round-trips through :meth:`to_dict` / :meth:`from_dict`, which ignores keys it does not know
and fills missing ones with their defaults. That is the room for what comes next (a parallel
layout over several devices, serving shapes): new fields get defaults that mean "as before",
so specs stored by older versions still load.

``batch_size=None`` (and no sequence length or image size) means the preset's default;
:meth:`resolved` fills those in from the zoo's metadata without building the model.
``precision="auto"`` means "the precision a practitioner would use on each device": it is
resolved per device by the performance model (``accelscope.models.predict.auto_precision``),
so a spec with it can be predicted or explored but not profiled or measured as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from accelscope.errors import ConfigError

TASKS = ("train", "infer", "serve")
#: tasks that are one pass or one step of a model (``serve`` is a prefill and decode steps)
STEP_TASKS = ("train", "infer")
PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "amp-fp16", "amp-bf16", "amp-fp8", "bf16-fp8", "w8a8")
#: Precisions that are predicted, not measured: FP8 training as Transformer Engine's
#: ``fp8_autocast``, torchao's ``Float8Linear`` and Intel Gaudi's FP8 run it: every linear
#: layer's three products (forward, input gradient, weight gradient) read FP8 operands and run
#: on the FP8 matrix units, everything else as in the base precision (``workload.fp8``):
#: ``amp-fp8`` on ``amp-bf16`` (fp32 weights: FSDP2's mixed precision, TorchTitan),
#: ``bf16-fp8`` on ``bf16`` (16-bit weights: Megatron/NeMo and DeepSpeed bf16 recipes).
#: ``w8a8`` is quantised inference (OpenVINO's INT8 models, oneDNN/VNNI, TensorRT INT8): every
#: convolution and linear product with int8 weights and activations on the int8 units, the
#: rest in fp32.
PREDICTED_ONLY = ("amp-fp8", "bf16-fp8", "w8a8")
#: the precision each of these precisions' profile is traced in
FP8_BASE = {"amp-fp8": "amp-bf16", "bf16-fp8": "bf16", "w8a8": "fp32"}
AUTO = "auto"
OPTIMIZERS = ("adamw", "sgd")
#: How the framework runs the step (``--mode``). ``eager``: PyTorch issues one kernel per aten
#: op from Python; ``cuda-graphs``: the step's kernels are captured once and replayed as one
#: graph (no per-op host work; CUDA GPUs only); ``compile``: a graph compiler (torch.compile's
#: inductor; XLA on TPUs, the vendors' graph compilers on ASICs, which always run this way)
#: fuses element-wise work into fewer kernels and issues them with little host work.
MODES = ("eager", "cuda-graphs", "compile")
#: Serving weight formats (``--weights``): ``fp8``: weights and activations in FP8 with FP8
#: matrix products and an FP8 KV cache (TensorRT-LLM's --enable_fp8 --fp8_kv_cache; devices
#: with an FP8 peak only); ``int8`` / ``int4``: weight-only, read at the packed width and
#: dequantised to ``precision`` for 16-bit products.
WEIGHT_FORMATS = ("fp8", "int8", "int4")
INPUT_DTYPES = ("float32", "int64")
_DTYPE_ALIASES = {"float": "float32", "long": "int64", "tokens": "int64"}


def parse_shape(text: str | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """``"3,224,224"`` (or ``3x224x224``, or a sequence) -> ``(3, 224, 224)``, validated."""
    if isinstance(text, str):
        try:
            shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
        except ValueError:
            raise ConfigError(f"input shape {text!r} is not a list of integers like 3,224,224") from None
    else:
        shape = tuple(text)
    if not shape or any(not isinstance(d, int) or isinstance(d, bool) or d < 1 for d in shape):
        raise ConfigError(f"input shape {text!r} must be positive integers, e.g. 3,224,224")
    return shape


def parse_dims(dims: Any) -> tuple[tuple[str, int], ...] | None:
    """``{"seq": 128}``, ``["seq=128", ...]`` or ``(("seq", 128),)`` -> ``(("seq", 128),)`` sorted by name."""
    if not dims:
        return None
    items = dims.items() if isinstance(dims, dict) else dims
    out: dict[str, int] = {}
    for item in items:
        if isinstance(item, str):
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise ConfigError(f"--dim {item!r}: expected NAME=VALUE, e.g. --dim sequence_length=128")
        else:
            name, value = item
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"--dim {name}={value}: the value must be a positive integer") from None
        if n < 1:
            raise ConfigError(f"--dim {name}={value}: the value must be a positive integer")
        out[str(name).strip()] = n
    return tuple(sorted(out.items()))


def callable_ref(fn: Callable) -> str | None:
    """``package.module:qualname`` of an importable function, or None (a lambda, a closure)."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    return f"{module}:{qualname}"


def _positive(value: Any, label: str) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ConfigError(f"{label} must be a positive integer, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadSpec:
    """What is computed (see the module docstring). Validated on construction."""

    model: str
    task: str = "infer"
    batch_size: int | None = None
    seq_len: int | None = None
    image_size: int | None = None
    precision: str = "fp32"
    optimizer: str = "adamw"
    #: image inputs (and weights, when measured) in channels-last (NHWC) memory format
    channels_last: bool = False
    #: per-sample input shape for ``torchvision:`` and ``package.module:callable`` models
    input_shape: tuple[int, ...] | None = None
    input_dtype: str = "float32"
    #: ``package.module:callable(batch_size)`` returning the model's inputs: a tensor, a tuple
    #: of positional inputs, or a dict of keyword inputs (``input_ids=``, ``attention_mask=``).
    #: In Python it may also be the callable itself (such a spec is not re-loadable from a store
    #: unless the callable is importable by name).
    inputs: str | Callable[[int], Any] | None = None
    #: execution mode (``MODES``); it changes how the step runs, not what it computes, so a
    #: profile traced in one mode serves every mode
    mode: str = "eager"
    #: ``task="serve"``: tokens of each request's prompt and of its generated answer; a static
    #: batch of ``batch_size`` requests, or ``concurrency`` requests decoded together under
    #: continuous batching (steady state)
    input_tokens: int | None = None
    output_tokens: int | None = None
    concurrency: int | None = None
    #: ``task="serve"``: weights stored narrower than ``precision`` (``WEIGHT_FORMATS``)
    weights: str | None = None
    #: an ONNX graph's symbolic input dimensions bound by name: ``(("sequence_length", 128),)``
    #: (given as ``{"name": value}`` or ``["name=value", ...]`` too)
    dims: tuple[tuple[str, int], ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError(f"model must be a name (zoo preset, torchvision:NAME or "
                              f"package.module:callable), got {self.model!r}")
        if self.task not in TASKS:
            raise ConfigError(f"task {self.task!r} is not one of {', '.join(TASKS)}")
        if self.precision not in PRECISIONS + (AUTO,):
            raise ConfigError(f"precision {self.precision!r} is not one of {', '.join(PRECISIONS + (AUTO,))}")
        if self.precision == "w8a8" and self.task != "infer":
            raise ConfigError(f"precision w8a8 is quantised inference; --task {self.task} needs a training or serving "
                              "precision (serving: --weights int8)")
        if self.mode not in MODES:
            raise ConfigError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int)
                                            or isinstance(self.batch_size, bool) or self.batch_size < 1):
            raise ConfigError(f"batch size must be a positive integer, got {self.batch_size!r}")
        _positive(self.seq_len, "sequence length")
        for name in ("input_tokens", "output_tokens", "concurrency"):
            _positive(getattr(self, name), name.replace("_", " "))
        if self.task != "serve" and any(v is not None for v in (self.input_tokens, self.output_tokens,
                                                                 self.concurrency, self.weights)):
            raise ConfigError("--input-tokens, --output-tokens, --concurrency and --weights describe serving: add "
                              "--task serve")
        if self.weights is not None and self.weights not in WEIGHT_FORMATS:
            raise ConfigError(f"weight format {self.weights!r} is not one of {', '.join(WEIGHT_FORMATS)}")
        if self.task == "serve" and self.concurrency is not None and self.batch_size is not None:
            raise ConfigError("serving takes a static --batch or a --concurrency (continuous batching), not both")
        _positive(self.image_size, "image size")
        if self.seq_len is not None and self.image_size is not None:
            raise ConfigError("give a sequence length (token models) or an image size (image models), not both")
        if self.input_shape is not None:
            object.__setattr__(self, "input_shape", parse_shape(self.input_shape))
        dtype = _DTYPE_ALIASES.get(self.input_dtype, self.input_dtype)
        if dtype not in INPUT_DTYPES:
            raise ConfigError(f"input dtype {self.input_dtype!r} is not one of {', '.join(INPUT_DTYPES)}")
        object.__setattr__(self, "input_dtype", dtype)
        if self.dims is not None:
            object.__setattr__(self, "dims", parse_dims(self.dims))
            if not self.model.lower().endswith(".onnx"):
                raise ConfigError("--dim binds an ONNX graph's symbolic dimensions; the model is not an .onnx file")
        if self.inputs is not None and not (isinstance(self.inputs, str) or callable(self.inputs)):
            raise ConfigError(f"inputs must be 'package.module:callable' or a callable, got {self.inputs!r}")

    # -- derived ---------------------------------------------------------------------------
    @property
    def is_onnx(self) -> bool:
        """An ``.onnx`` file, profiled by the ONNX frontend (``workload.onnx``)."""
        return self.model.lower().endswith(".onnx")

    @property
    def is_user_model(self) -> bool:
        """A ``package.module:callable`` factory (its code is not accelscope's or torchvision's)."""
        return ":" in self.model and not self.model.startswith(("torchvision:", "gpt:", "llama:"))

    def with_(self, **changes: Any) -> "WorkloadSpec":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def resolved(self) -> "WorkloadSpec":
        """The spec with the preset's defaults filled in (batch, sequence length or image size),
        so that equal workloads have equal specs. Needs no torch."""
        from accelscope.workload.zoo import resolve_defaults

        return resolve_defaults(self)

    def concrete(self) -> "WorkloadSpec":
        """The spec itself, or ConfigError when its precision is ``auto`` (which only a device resolves)."""
        if self.precision == AUTO:
            raise ConfigError("precision 'auto' is chosen per device, by `predict` and `explore`; to profile "
                              "or measure, give one of " + ", ".join(PRECISIONS))
        return self

    @property
    def label(self) -> str:
        """``resnet50 infer batch=8 image_size=224 precision=auto`` (what tables and run lists show)."""
        bits = [self.model, self.task]
        if self.batch_size is not None:
            bits.append(f"batch={self.batch_size}")
        for key in ("seq_len", "image_size"):
            if getattr(self, key) is not None:
                bits.append(f"{key}={getattr(self, key)}")
        if self.precision != "fp32":
            bits.append(f"precision={self.precision}")
        if self.channels_last:
            bits.append("channels-last")
        if self.mode != "eager":
            bits.append(f"mode={self.mode}")
        for name, value in self.dims or ():
            bits.append(f"{name}={value}")
        for key in ("input_tokens", "output_tokens", "concurrency", "weights"):
            if getattr(self, key) is not None:
                bits.append(f"{key}={getattr(self, key)}")
        return " ".join(bits)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "input_shape" and v is not None:
                v = list(v)
            elif f.name == "dims" and v is not None:
                v = [list(x) for x in v]
            elif f.name == "inputs" and v is not None and not isinstance(v, str):
                v = callable_ref(v) or repr(v)
            d[f.name] = v
        return d

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "WorkloadSpec":
        """The spec of a stored point: its ``spec``, or, in a record written before points
        carried one, its flat workload fields (``RECORD_FIELDS``)."""
        if isinstance(record.get("spec"), dict):
            return cls.from_dict(record["spec"])
        return cls.from_dict({k: record[k] for k in RECORD_FIELDS if record.get(k) is not None})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "WorkloadSpec":
        """A spec from :meth:`to_dict` output; unknown keys are ignored, missing ones default."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if kw.get("input_shape") is not None:
            kw["input_shape"] = tuple(kw["input_shape"])
        if kw.get("dims") is not None:
            kw["dims"] = tuple((str(k), int(v)) for k, v in kw["dims"])
        return cls(**kw)


#: The workload's fields written flat into every measurement record beside its ``spec``
#: (``bench --json`` documents them; records older than the spec have only these).
RECORD_FIELDS = ("model", "task", "batch_size", "precision", "optimizer", "seq_len", "image_size",
                 "channels_last", "mode")


class SpecFields:
    """The workload's fields as read-only properties of a result that carries its ``spec``
    (Profile, Measurement): ``p.model``, ``p.task``, ``p.batch_size``, ... ."""

    __slots__ = ()
    spec: WorkloadSpec

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def batch_size(self) -> int:
        return self.spec.batch_size or 1

    @property
    def precision(self) -> str:
        return self.spec.precision

    @property
    def optimizer(self) -> str | None:
        """The optimizer of a training step (None for inference)."""
        return self.spec.optimizer if self.spec.task == "train" else None

    @property
    def seq_len(self) -> int | None:
        return self.spec.seq_len

    @property
    def image_size(self) -> int | None:
        return self.spec.image_size

    @property
    def channels_last(self) -> bool:
        """Image inputs in channels-last (NHWC) memory format."""
        return self.spec.channels_last

    @property
    def mode(self) -> str:
        """How the step runs: eager, cuda-graphs or compile."""
        return self.spec.mode


def as_spec(model: "str | WorkloadSpec", **options: Any) -> WorkloadSpec:
    """A spec from a model name and keyword options, or the spec itself changed by the options.

    ``batch`` is accepted as a synonym of ``batch_size``; options that are ``None`` keep the
    spec's value (so callers can pass every option through).
    """
    if "batch" in options:
        options["batch_size"] = options.pop("batch")
    unknown = set(options) - {f.name for f in fields(WorkloadSpec)}
    if unknown:
        raise ConfigError(f"unknown workload option(s) {', '.join(sorted(unknown))}; valid: "
                          + ", ".join(f.name for f in fields(WorkloadSpec) if f.name != "model"))
    if isinstance(model, WorkloadSpec):
        changes = {k: v for k, v in options.items() if v is not None}
        return model.with_(**changes) if changes else model
    if not isinstance(model, str):
        raise ConfigError(f"model must be a name or a WorkloadSpec, got {type(model).__name__}")
    return WorkloadSpec(model=model, **{k: v for k, v in options.items() if v is not None})
