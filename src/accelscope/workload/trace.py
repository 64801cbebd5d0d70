"""Trace a Workload into a Profile on fake tensors: no real memory, no real arithmetic.

How it works:

* The model is built and run under ``torch._subclasses.FakeTensorMode``: every tensor is a
  fake CPU tensor with shape, dtype and strides but no storage, so even a 70B-parameter
  model's training step runs on a laptop.
* A ``TorchDispatchMode`` stacked on top records every aten op that reaches the dispatcher
  (after autograd and autocast, so backward ops and autocast casts are seen at the dtype in
  effect), with its FLOPs (``rules.flops``), bytes, shapes and the current phase.
* Training steps run forward, loss, backward and the optimizer step (AdamW or SGD with
  momentum, the single-tensor implementation; optimizer state is created before tracing so
  the step traced is a steady-state step). ``amp-fp16`` adds the GradScaler's loss scaling,
  gradient unscale/inf-check and scale update kernels.
* Autocast is PyTorch's CPU autocast policy (the fake tensors are CPU tensors): matmuls,
  convolutions and attention run in the low precision as on CUDA; the set of ops kept in
  float32 differs slightly from CUDA's list.
* Recurrent layers (``nn.LSTM``/``GRU``/``RNN``) are traced as their per-time-step ops, which
  carry their FLOPs and bytes, tagged ``fused_in`` (forward and backward), plus one
  ``aten.<mode>.fused_layer`` dispatch per layer and direction: cuDNN and oneDNN run each
  layer as one fused kernel, so a performance model charges one launch, not hundreds.
* A gather (``embedding``, ``index_select``, ``index``, ``gather``) reads the rows it returns,
  not the whole table.
* Activation memory in training is the bytes of distinct storages that autograd saves for
  the backward pass (``torch.autograd.graph.saved_tensors_hooks``), excluding parameters
  and inputs.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode, unset_fake_temporarily
from torch.multiprocessing.reductions import StorageWeakRef
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

from accelscope.errors import ProfileError, WorkloadError
from accelscope.workload import rules
from accelscope.workload.profile import Op, Profile
from accelscope.workload.workload import Workload, make_optimizer, temporarily

_aten = torch.ops.aten
#: Metadata queries that do no work (skipped, as FlopCounterMode skips them).
_METADATA_OPS = {
    _aten.sym_is_contiguous.default, _aten.is_contiguous.default, _aten.is_contiguous.memory_format,
    _aten.is_strides_like_format.default, _aten.is_non_overlapping_and_dense.default,
    _aten.size.default, _aten.sym_size.default, _aten.stride.default, _aten.sym_stride.default,
    _aten.storage_offset.default, _aten.sym_storage_offset.default, _aten.numel.default,
    _aten.sym_numel.default, _aten.dim.default, torch.ops.prim.layout.default,
    torch.ops.prim.device.default,
}
_SCALAR_TYPES = (bool, int, float, str)


def _footprint_bytes(t: torch.Tensor) -> int:
    """Bytes a kernel reads from ``t``: broadcast (stride-0) dimensions are read once."""
    n = 1
    for size, stride in zip(t.shape, t.stride()):
        if stride != 0:
            n *= size
    return n * t.element_size() if t.numel() else 0


#: Ops that gather rows of a table (their first input): they read what they return.
_GATHERS = {torch.ops.aten.embedding, torch.ops.aten.index_select, torch.ops.aten.gather,
            torch.ops.aten.index}


_CONVOLUTIONS = {torch.ops.aten.convolution, torch.ops.aten.convolution_backward}
#: Ops that only allocate: no kernel touches the memory (the op that fills it is charged).
_ALLOCATIONS = {torch.ops.aten.empty, torch.ops.aten.empty_like, torch.ops.aten.empty_strided,
                torch.ops.aten.new_empty, torch.ops.aten.new_empty_strided}


class _FusedDropout(TorchFunctionMode):
    """Trace ``F.dropout`` in training as ``aten.native_dropout``, the one kernel CUDA runs
    (mask and output in one pass; ``native_dropout_backward`` in the backward pass).
    On CPU tensors ATen takes its unfused path instead (``empty_like``, ``bernoulli_``,
    ``div_``, ``mul``: three passes and a mask in the input's dtype), which no accelerator runs."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.nn.functional.dropout:
            names = ("input", "p", "training", "inplace")
            a = {**dict(zip(names, (None, 0.5, True, False))), **dict(zip(names, args)), **kwargs}
            if a["training"] and 0.0 < a["p"] < 1.0 and not a["inplace"] and torch.is_grad_enabled():
                return torch.ops.aten.native_dropout(a["input"], a["p"], True)[0]
        return func(*args, **kwargs)


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _shapes(x: Any) -> tuple:
    leaves = tree_flatten(x)[0]
    return tuple(tuple(t.shape) if isinstance(t, torch.Tensor) else None for t in leaves
                 if isinstance(t, torch.Tensor) or t is None)


def _attrs(func: torch._ops.OpOverload, args: tuple, kwargs: dict) -> tuple:
    """Named scalar arguments (stride, padding, groups, is_causal, ...), hashable."""
    out = []
    for i, a in enumerate(func._schema.arguments):
        v = args[i] if i < len(args) else kwargs.get(a.name)
        if isinstance(v, _SCALAR_TYPES):
            out.append((a.name, v))
        elif isinstance(v, (list, tuple)) and v and all(isinstance(e, (int, bool)) for e in v):
            out.append((a.name, tuple(v)))
    return tuple(out)


def _storage_key(t: torch.Tensor) -> int:
    return StorageWeakRef(t.untyped_storage()).cdata


class _Recorder(TorchDispatchMode):
    """Records every aten op with its cost, aggregating identical ones."""

    def __init__(self, excluded_storages: set[int]):
        super().__init__()
        self.phase = "forward"
        self.excluded = excluded_storages
        self._index: dict[tuple, int] = {}
        self._ops: list[dict] = []
        self.peak_working_bytes = 0
        #: Inside a recurrent layer that backends run as one fused kernel (cuDNN, oneDNN):
        #: its traced per-step ops are tagged ``fused_in`` (one dispatch for the whole layer).
        self.fused: str | None = None
        self._fused_nodes: dict = {}  # autograd node made in a fused layer -> the layer's type
        self._fused_ids: set[int] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _METADATA_OPS or func.namespace == "profiler":
            return func(*args, **kwargs)
        if not rules.has_rule(func):
            # Same as FlopCounterMode: decompose ops without a rule where torch can.
            with self:
                r = func.decompose(*args, **kwargs)
            if r is not NotImplemented:
                return r
        out = func(*args, **kwargs)
        self._record(func, args, kwargs, out)
        return out

    def _record(self, func, args, kwargs, out) -> None:
        ins = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        outs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        is_view = rules.is_view(func)
        if is_view and func.namespace == "aten" and outs:
            # Ops like aten.to alias their input only when nothing changes; a cast copies.
            in_keys = {_storage_key(t) for t in ins}
            is_view = all(_storage_key(t) in in_keys for t in outs)
        if is_view or func.overloadpacket in _ALLOCATIONS:
            read = written = 0
        else:
            seen: set[int] = set()
            read = 0
            for i, t in enumerate(ins):
                if id(t) not in seen:
                    seen.add(id(t))
                    fp = _footprint_bytes(t)
                    if i == 0 and outs and func.overloadpacket in _GATHERS:
                        # a gather reads only the rows it returns, not the whole table
                        fp = min(fp, _nbytes(outs[0]))
                    read += fp
            written = sum(_nbytes(t) for t in outs)
            working = sum(_nbytes(t) for t in ins if _storage_key(t) not in self.excluded) + written
            self.peak_working_bytes = max(self.peak_working_bytes, working)
        try:
            flops = rules.flops(func, args, kwargs, out)
        except Exception as exc:  # a rule that cannot handle these arguments
            raise ProfileError(f"cost rule for {func} failed on shapes {_shapes(args)}: {exc}") from exc
        attrs = _attrs(func, args, kwargs)
        if func.overloadpacket in _CONVOLUTIONS and ins and ins[0].dim() == 4:
            # the activation's layout: cuDNN's tensor-core kernels want NHWC (channels last)
            attrs += (("channels_last", ins[0].is_contiguous(memory_format=torch.channels_last)),)
        fused = self.fused
        if fused is not None:
            # Autograd attaches grad_fn after dispatch: collect the nodes of tensors made in
            # the layer when later ops of the layer read them (and its outputs at the end).
            self._fused_nodes.update((t.grad_fn, fused) for t in ins if id(t) in self._fused_ids and t.grad_fn)
            self._fused_ids.update(id(t) for t in outs)
        elif self.phase == "backward" and self._fused_nodes:
            node = torch._C._current_autograd_node()
            fused = self._fused_nodes.get(node) if node is not None else None
        if fused is not None:
            attrs += (("fused_in", fused),)
        ref = next((t for t in outs + ins if t.is_floating_point()), (outs + ins or [None])[0])
        dtype = str(ref.dtype).replace("torch.", "") if ref is not None else ""
        key = (str(func), self.phase, _shapes((args, kwargs)), _shapes(out), dtype, attrs)
        i = self._index.get(key)
        if i is not None:
            self._ops[i]["count"] += 1
            return
        self._index[key] = len(self._ops)
        self._ops.append(dict(
            name=str(func), category=rules.category(func, self.phase), phase=self.phase,
            flops=flops, bytes_read=read, bytes_written=written, input_shapes=key[2],
            output_shapes=key[3], dtype=dtype, count=1, is_view=is_view, attrs=dict(key[5]),
        ))

    def record_fused_call(self, name: str, phases: tuple[str, ...]) -> None:
        """One dispatch of a fused kernel (no cost of its own: its work is in the tagged ops)."""
        for phase in phases:
            key = (name, phase, (), (), "", ())
            i = self._index.get(key)
            if i is not None:
                self._ops[i]["count"] += 1
                continue
            self._index[key] = len(self._ops)
            self._ops.append(dict(name=name, category="other", phase=phase, flops=0, bytes_read=0,
                                  bytes_written=0, input_shapes=(), output_shapes=(), dtype="",
                                  count=1, is_view=False, attrs={"fused_call": True}))

    @contextlib.contextmanager
    def fused_layers(self, model: torch.nn.Module):
        """Tag the ops of recurrent layers (nn.LSTM/GRU/RNN) as one fused kernel each."""
        handles = []

        def pre(module, args):
            self.fused = type(module).__name__

        def post(module, args, out):
            # Fused kernels write their output contiguously (the decomposition leaves it
            # time-major and transposed, which would turn a following linear into a bmm).
            out = tree_map(lambda t: t.contiguous() if isinstance(t, torch.Tensor) else t, out)
            self._fused_nodes.update((t.grad_fn, self.fused) for t in tree_flatten(out)[0]
                                     if isinstance(t, torch.Tensor) and t.grad_fn is not None)
            self.fused = None
            self._fused_ids.clear()
            mode = getattr(module, "mode", "RNN").lower()
            phases = ("forward", "backward") if torch.is_grad_enabled() and module.training else ("forward",)
            for _ in range(module.num_layers * (2 if module.bidirectional else 1)):
                self.record_fused_call(f"aten.{mode}.fused_layer", phases)
            return out

        for m in model.modules():
            if isinstance(m, torch.nn.RNNBase):
                handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    def ops(self) -> tuple[Op, ...]:
        from types import MappingProxyType

        return tuple(Op(**{**d, "attrs": MappingProxyType(d["attrs"])}) for d in self._ops)


_INIT_FUNCTIONS = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
                   "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
                   "kaiming_normal_", "orthogonal_", "sparse_")


@contextlib.contextmanager
def _skip_weight_init():
    """Make ``torch.nn.init`` initialisers no-ops while a model is built on fake tensors.

    Fake weights have no values to initialise, and some initialisers branch on data
    (``trunc_normal_`` resamples while any value is out of range), which fake tensors cannot do.
    """
    init = torch.nn.init
    saved = {name: getattr(init, name) for name in _INIT_FUNCTIONS if hasattr(init, name)}
    try:
        for name in saved:
            setattr(init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)


def _onednn_disabled():
    """Turn oneDNN off so that CPU-only fused kernels (mkldnn_rnn_layer) are not chosen."""
    return temporarily(torch._C._get_mkldnn_enabled, torch._C._set_mkldnn_enabled, False)


def _quiet_fake_tensor_log():
    """FakeTensorMode logs the traceback of an op that fails on fake tensors before it raises;
    the trace reports the failure itself (one line; the traceback with --debug)."""
    log = logging.getLogger("torch._subclasses.fake_tensor")
    return temporarily(lambda: log.disabled, lambda v: setattr(log, "disabled", v), True)


def _default_dtype(dtype: torch.dtype):
    return temporarily(torch.get_default_dtype, torch.set_default_dtype, dtype)


def _prefill_optimizer_state(opt: torch.optim.Optimizer, kind: str) -> None:
    """Create steady-state optimizer state so the traced step is not a first step.

    AdamW keeps its step counter as a real CPU scalar, as PyTorch does on CPU, so reading
    it (``.item()``) works on fake parameters.
    """
    for group in opt.param_groups:
        for p in group["params"]:
            if not p.requires_grad:
                continue
            if kind == "adamw":
                with unset_fake_temporarily():
                    step = torch.tensor(1.0)
                opt.state[p] = {
                    "step": step,
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
            else:
                opt.state[p] = {"momentum_buffer": torch.zeros_like(p, memory_format=torch.preserve_format)}


def _state_bytes(opt: torch.optim.Optimizer) -> int:
    seen, total = set(), 0
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, torch.Tensor) and v.dim() > 0 and _storage_key(v) not in seen:
                seen.add(_storage_key(v))
                total += _nbytes(v)
    return total


@dataclass(slots=True)
class _Traced:
    """What the inference and training paths measure besides the ops."""

    activation_bytes: int
    grad_bytes: int = 0
    optimizer_state_bytes: int = 0
    notes: tuple[str, ...] = ()


def _trace_inference(model, args: tuple, kwargs: dict, rec: "_Recorder", autocast) -> _Traced:
    """One forward pass in eval mode under ``inference_mode``. Activation memory is the largest
    set of non-parameter inputs and outputs of any single op (a lower bound on the peak)."""
    model.eval()
    with torch.inference_mode(), autocast, rec, rec.fused_layers(model):
        model(*args, **kwargs)
    return _Traced(activation_bytes=rec.peak_working_bytes)


def _trace_training(w: Workload, model, args: tuple, kwargs: dict, targets, rec: "_Recorder",
                    autocast, excluded: set[int]) -> _Traced:
    """One steady-state training step: forward and loss (autocast), backward, optimizer step
    (single-tensor AdamW or SGD with momentum, state created beforehand), ``zero_grad``;
    ``amp-fp16`` adds the GradScaler's kernels. Activation memory is the bytes of the distinct
    storages autograd saves for the backward pass."""
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(model, w.optimizer, foreach=False)
    _prefill_optimizer_state(opt, w.optimizer)
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        k = _storage_key(t)
        if k not in excluded:
            saved[k] = t.untyped_storage().nbytes()
        return t

    scaler = w.precision == "amp-fp16"
    if scaler:
        scale = torch.full((), 65536.0)
        growth = torch.zeros((), dtype=torch.int32)
        found_inf = torch.zeros(())
    with rec, rec.fused_layers(model):
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            with autocast, _FusedDropout():
                out = model(*args, **kwargs)
                loss = w.loss_fn(out, targets)
            if scaler:
                loss = loss * scale
            del out
        rec.phase = "backward"
        loss.backward()
        rec.phase = "optimizer"
        if scaler:
            grads = [p.grad for p in trainable if p.grad is not None]
            torch._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, scale.reciprocal())
        # The step counter is a real CPU scalar, read with .item() as on CPU.
        with unset_fake_temporarily():
            opt.step()
        if scaler:
            torch._amp_update_scale_(scale, growth, found_inf, 2.0, 0.5, 2000)
        opt.zero_grad(set_to_none=True)
    notes = ("amp-fp16 includes GradScaler loss scaling, unscale/inf-check and scale update",) if scaler else ()
    return _Traced(activation_bytes=sum(saved.values()), grad_bytes=sum(_nbytes(p) for p in trainable),
                   optimizer_state_bytes=_state_bytes(opt), notes=notes)


def _input_shapes(args: tuple, kwargs: dict) -> str:
    shapes = [str(tuple(x.shape)) for x in args if isinstance(x, torch.Tensor)]
    shapes += [f"{k}={tuple(v.shape)}" for k, v in kwargs.items() if isinstance(v, torch.Tensor)]
    return ", ".join(shapes)


def trace(workload: Workload, *, channels_last: bool | None = None) -> Profile:
    """Profile one inference pass or training step of ``workload`` on fake tensors.

    Image inputs are channels-last (NHWC) when the workload says so (``channels_last`` here
    overrides it), as ``accelscope bench --channels-last`` runs them; convolutions then keep
    that layout and each convolution op records whether its activation is channels-last.
    """
    w = workload if channels_last is None else workload.with_(channels_last=channels_last)
    fake = FakeTensorMode(allow_non_fake_inputs=True)
    with fake, torch.device("cpu"), _onednn_disabled(), _quiet_fake_tensor_log():
        # Parameters are created directly in the precision's dtype (Module.to cannot swap
        # fake parameters); oneDNN is off so recurrent layers show their per-step matmuls.
        with _skip_weight_init(), _default_dtype(w.param_dtype):
            model = w.build_model()
        try:
            args, kwargs = w.make_model_inputs()
            targets = w.make_targets(w.batch_size) if (w.task == "train" and w.make_targets) else None
        except WorkloadError:
            raise
        except Exception as exc:
            raise WorkloadError(f"model {w.name!r}: making its inputs failed: {type(exc).__name__}: {exc}") from exc

        params = list(model.parameters())
        inputs = [x for x in tree_flatten((args, kwargs))[0] if isinstance(x, torch.Tensor)]
        excluded = {_storage_key(t) for t in params + list(model.buffers()) + inputs}
        autocast = (torch.autocast("cpu", dtype=w.autocast_dtype) if w.autocast_dtype is not None
                    else contextlib.nullcontext())
        rec = _Recorder(excluded)
        try:
            if w.task == "infer":
                traced = _trace_inference(model, args, kwargs, rec, autocast)
            else:
                traced = _trace_training(w, model, args, kwargs, targets, rec, autocast, excluded)
        except (WorkloadError, ProfileError):
            raise
        except Exception as exc:
            raise WorkloadError(
                f"model {w.name!r}: running a {w.task} step on inputs of shape {_input_shapes(args, kwargs)} "
                f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. "
                "Check the input shape (--input-shape / --image-size / --seq-len) and dtype; "
                "run with --debug for the traceback."
            ) from exc
        input_bytes = sum(_nbytes(x) for x in tree_flatten((args, kwargs, targets))[0] if isinstance(x, torch.Tensor))

    notes = list(traced.notes)
    if w.precision == "tf32":
        notes.append("tf32: tensors are float32; matmuls and convolutions may use TensorFloat-32 math")
    return Profile(
        spec=w.spec, ops=rec.ops(), params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(_nbytes(p) for p in params) + sum(_nbytes(b) for b in model.buffers()),
        grad_bytes=traced.grad_bytes, optimizer_state_bytes=traced.optimizer_state_bytes,
        activation_bytes=traced.activation_bytes, input_bytes=input_bytes, samples_per_step=w.batch_size,
        param_tensors=sum(1 for p in params if p.requires_grad),
        notes=tuple(notes),
    )
