"""Per-op cost rules: FLOPs and category of every aten op a trace records.

FLOPs come, in this order, from:

1. ``torch.utils.flop_counter``'s registry (matmul, convolution, attention kernels), called
   exactly as ``FlopCounterMode`` calls it, so counts agree with it wherever it has a rule;
2. the rules below, registered by decorator on an aten overload packet (duplicates are
   rejected): attention kernels torch does not count (the CPU flash-attention kernel), norms,
   softmax, losses, pooling, reductions, embedding backward, foreach/fused optimizer kernels;
3. the generic pointwise rule: an op tagged ``torch.Tag.pointwise`` costs
   ``POINTWISE_COST[op]`` FLOPs (default 1) per output element;
4. ops that only move data (copies, casts, concatenation, indexing, factories) and views
   cost 0 FLOPs.

Anything else has ``flops = None`` and is reported in ``Profile.uncovered_ops``.

Conventions: one multiply-add = 2 FLOPs; a transcendental (exp, tanh, sqrt, ...) counts as
1 FLOP, as in the common "FLOPs as arithmetic instructions" convention of MLPerf and of
Hoffmann et al. 2022 (Chinchilla, appendix F) for non-matmul terms. Per-element costs of
composite kernels (layer norm, softmax, GELU, ...) count the arithmetic of their textbook
formula and are stated next to each rule.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import torch
from torch.utils import flop_counter as _fc
from torch.utils._pytree import tree_flatten

from accelscope.registry import Registry

Rule = Callable[[tuple, dict, Any], int]
RULES: Registry[Rule] = Registry("cost rule")


def rule(*packets: str) -> Callable[[Rule], Rule]:
    """Register ``fn(args, kwargs, out) -> flops`` for each aten overload packet name."""

    def deco(fn: Rule) -> Rule:
        for p in packets:
            RULES.add(p, fn)
        return fn

    return deco


def _numel(x: Any) -> int:
    return x.numel() if isinstance(x, torch.Tensor) else 0


def _tensors(x: Any) -> list[torch.Tensor]:
    return [t for t in tree_flatten(x)[0] if isinstance(t, torch.Tensor)]


def _first_tensor(x: Any) -> torch.Tensor:
    return _tensors(x)[0]


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


# -- 1. torch's own rules -----------------------------------------------------------------

TORCH_FLOP_RULES = _fc.flop_registry


def torch_flops(func: torch._ops.OpOverload, args: tuple, kwargs: dict, out: Any) -> int | None:
    """FLOPs from torch.utils.flop_counter, or None if it has no rule for ``func``."""
    fn = TORCH_FLOP_RULES.get(func._overloadpacket)
    if fn is None:
        return None
    if (func._overloadpacket is torch.ops.aten.convolution_backward and len(args) > 10 and args[9] > 1
            and _torch_overcounts_grouped_weight_grad()):
        return _grouped_conv_backward_flops(fn, args, kwargs, out)
    return int(fn(*args, **kwargs, out_val=out))


@functools.cache
def _torch_overcounts_grouped_weight_grad() -> bool:
    """Whether this torch's ``conv_backward_flop`` counts a grouped weight gradient ``groups``
    times over (torch <= 2.14 does; pytorch/pytorch PR #183405 corrects it), probed on a
    depthwise 1x1 convolution of 4 channels whose weight gradient is 2 x 4 x 2 x 2 = 32 FLOPs."""
    fn = TORCH_FLOP_RULES[torch.ops.aten.convolution_backward]
    t = torch.empty((1, 4, 2, 2))
    w = torch.empty((4, 1, 1, 1))
    counted = fn(t, t, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 4, [False, True, False],
                 out_val=(None, w, None))
    return int(counted) == 4 * 32


def _grouped_conv_backward_flops(fn: Callable, args: tuple, kwargs: dict, out: Any) -> int:
    """torch's ``conv_backward_flop`` (torch <= 2.14) counts the weight gradient of a grouped
    convolution as if every input channel met every output channel: ``groups`` times too many
    FLOPs (672x for a depthwise 672-channel layer). Its input-gradient term is right. Both
    gradients of a convolution cost what its forward pass costs, grouped or not; this divides
    torch's weight-gradient term by ``groups`` (the correction of pytorch/pytorch PR #183405)."""
    groups, (want_input, want_weight, _) = args[9], args[10]
    head = args[:10]
    total = 0
    if want_input:
        total += int(fn(*head, [True, False, False], *args[11:], **kwargs, out_val=out))
    if want_weight:
        total += int(fn(*head, [False, True, False], *args[11:], **kwargs, out_val=out)) // groups
    return total


# -- 2. accelscope's rules -------------------------------------------------------------------

@rule("aten._scaled_dot_product_flash_attention_for_cpu",
      "aten._scaled_dot_product_fused_attention_overrideable")
def _sdpa_fwd(args, kwargs, out):
    q, k, v = args[:3]
    return _fc.sdpa_flop_count(_shape(q), _shape(k), _shape(v))


@rule("aten._scaled_dot_product_flash_attention_for_cpu_backward",
      "aten._scaled_dot_product_fused_attention_overrideable_backward")
def _sdpa_bwd(args, kwargs, out):
    grad_out, q, k, v = args[:4]
    return _fc.sdpa_backward_flop_count(_shape(grad_out), _shape(q), _shape(k), _shape(v))


@rule("aten.mv", "aten.addmv")
def _mv(args, kwargs, out):
    # y = A x: M*K multiply-adds.
    mat = next(t for t in _tensors(args) if t.dim() == 2)
    return 2 * mat.shape[0] * mat.shape[1]


@rule("aten.dot", "aten.vdot")
def _dot(args, kwargs, out):
    return 2 * _numel(args[0])


def _per_input_element(cost: float) -> Rule:
    return lambda args, kwargs, out: int(cost * _numel(_first_tensor(args)))


def _per_output_element(cost: float) -> Rule:
    return lambda args, kwargs, out: int(cost * sum(_numel(t) for t in _tensors(out)[:1]))


# Layer norm forward: mean (1), centred square and sum (3), normalise (2), affine (2) = 8/elt.
rule("aten.native_layer_norm", "aten.native_group_norm")(_per_input_element(8))
# Batch norm forward in training (statistics + normalise + affine) = 8/elt; eval = 4 (affine
# with precomputed statistics: subtract, scale, multiply, add). Argument 5 is ``training``.
@rule("aten._native_batch_norm_legit", "aten.native_batch_norm",
      "aten._native_batch_norm_legit_functional", "aten.cudnn_batch_norm")
def _batch_norm(args, kwargs, out):
    training = args[5] if len(args) > 5 else kwargs.get("training", True)
    return (8 if training else 4) * _numel(args[0])


rule("aten._native_batch_norm_legit_no_training")(_per_input_element(4))
# Norm backward: about twice the forward arithmetic (two reductions and the chain rule).
rule("aten.native_layer_norm_backward", "aten.native_group_norm_backward",
     "aten.native_batch_norm_backward", "aten.cudnn_batch_norm_backward")(_per_input_element(10))
# RMSNorm forward: square (1), sum (1), scale by rsqrt (1), weight (1) = 4/elt; backward ~8.
rule("aten._fused_rms_norm")(_per_input_element(4))
rule("aten._fused_rms_norm_backward")(_per_input_element(8))
# Softmax: max (1), subtract (1), exp (1), sum (1), divide (1) = 5/elt.
# Backward: grad*y (1), row sum (1), subtract (1), multiply (1) = 4/elt.
rule("aten._softmax", "aten._log_softmax", "aten._safe_softmax")(_per_input_element(5))
rule("aten._softmax_backward_data", "aten._log_softmax_backward_data")(_per_input_element(4))


@rule("aten.nll_loss_forward", "aten.nll_loss2d_forward")
def _nll(args, kwargs, out):
    # Gather one log-probability per target, negate and average: about 2 per target.
    return 2 * _numel(args[1])


@rule("aten.nll_loss_backward", "aten.nll_loss2d_backward")
def _nll_bwd(args, kwargs, out):
    return 2 * _numel(args[2])


# Reductions: one operation per input element (var/std: three).
rule("aten.sum", "aten.mean", "aten.amax", "aten.amin", "aten.max", "aten.min", "aten.prod",
     "aten.argmax", "aten.argmin", "aten.logsumexp", "aten.linalg_vector_norm", "aten.norm",
     "aten.cumsum", "aten.any", "aten.all", "aten._adaptive_avg_pool2d", "aten.mse_loss",
     "aten.binary_cross_entropy_with_logits")(_per_input_element(1))
rule("aten.var", "aten.std", "aten.var_mean", "aten.std_mean")(_per_input_element(3))
# Adaptive average pool backward spreads each gradient over its window: one per input element.
rule("aten._adaptive_avg_pool2d_backward")(_per_output_element(1))


def _kernel_area(args, idx: int = 1) -> int:
    k = args[idx]
    k = [k] if isinstance(k, int) else list(k)
    if len(k) == 1:
        k = k * 2
    return math.prod(k)


@rule("aten.max_pool2d_with_indices", "aten.avg_pool2d")
def _pool(args, kwargs, out):
    # One comparison (or addition) per window element per output.
    return _numel(_first_tensor(out)) * _kernel_area(args)


@rule("aten.max_pool2d_with_indices_backward", "aten.avg_pool2d_backward")
def _pool_bwd(args, kwargs, out):
    # Scatter each output gradient over its window.
    return _numel(args[0]) * _kernel_area(args, 2)


@rule("aten.embedding_dense_backward", "aten.embedding_backward")
def _embedding_bwd(args, kwargs, out):
    # Scatter-add of every gradient element into the weight gradient.
    return _numel(args[0])


@rule("aten._fused_adamw_", "aten._fused_adam_", "aten._fused_adamw", "aten._fused_adam")
def _fused_adam(args, kwargs, out):
    # Per element: weight decay (2), two moment updates (3 + 3), bias corrections and
    # sqrt (3), update (3) = 14, the count of the single-tensor AdamW below.
    return 14 * sum(_numel(t) for t in args[0])


@rule("aten._fused_sgd_")
def _fused_sgd(args, kwargs, out):
    return 4 * sum(_numel(t) for t in args[0])


# -- 3. pointwise ops -------------------------------------------------------------------------

#: FLOPs per output element for pointwise ops whose formula has more than one operation.
POINTWISE_COST: dict[str, float] = {
    "aten.addcmul": 3, "aten.addcmul_": 3, "aten.addcdiv": 3, "aten.addcdiv_": 3,
    "aten.lerp": 3, "aten.lerp_": 3,
    # GELU (tanh form): x^3, multiply-adds, tanh, 1+, 0.5*x* = 8; exact (erf) form similar.
    "aten.gelu": 8, "aten.gelu_backward": 12,
    # SiLU x*sigmoid(x): exp, add, divide, multiply = 4; backward 6.
    "aten.silu": 4, "aten.silu_backward": 6,
    "aten.sigmoid": 3, "aten.sigmoid_backward": 3,
    "aten.tanh_backward": 3,
    "aten.hardswish": 4, "aten.hardswish_backward": 5, "aten.hardsigmoid": 3,
    "aten.hardsigmoid_backward": 2, "aten.hardtanh_backward": 2,
    "aten.softplus": 3, "aten.elu": 3, "aten.leaky_relu_backward": 2,
    "aten.native_dropout_backward": 2,
}


def pointwise_flops(packet: str, out: Any) -> int:
    """FLOPs of a pointwise op: its per-element cost times the elements of its first output."""
    outs = _tensors(out)
    return int(POINTWISE_COST.get(packet, 1) * (_numel(outs[0]) if outs else 0))


# native_dropout: draw the mask and scale (2 per element); bernoulli draws and compares (1).
# Neither is tagged pointwise.
rule("aten.native_dropout")(_per_input_element(2))
rule("aten.bernoulli", "aten.bernoulli_")(_per_input_element(1))


def _foreach_rule(base: str) -> Rule:
    cost = POINTWISE_COST.get(base, 1)
    return lambda args, kwargs, out: int(cost * sum(_numel(t) for t in args[0]))


for _name in ("add", "sub", "mul", "div", "addcmul", "addcdiv", "lerp", "sqrt", "neg",
              "maximum", "minimum", "pow", "exp", "reciprocal", "sign", "abs", "clamp_max",
              "clamp_min", "zero"):
    for _suffix in ("", "_"):
        rule(f"aten._foreach_{_name}{_suffix}")(_foreach_rule(f"aten.{_name}{_suffix}"))
rule("aten._foreach_norm")(lambda args, kwargs, out: 2 * sum(_numel(t) for t in args[0]))
rule("aten._amp_foreach_non_finite_check_and_unscale_")(
    lambda args, kwargs, out: 2 * sum(_numel(t) for t in args[0]))
rule("aten._amp_update_scale_")(lambda args, kwargs, out: 4)


# -- 4. data movement and factories ------------------------------------------------------------

#: Ops that copy, cast, gather or create data without arithmetic on it (0 FLOPs).
DATA_MOVEMENT = frozenset({
    "aten.copy_", "aten._to_copy", "aten.clone", "aten.cat", "aten.stack", "aten.index",
    "aten.index_select", "aten.gather", "aten.scatter", "aten.scatter_", "aten.index_put",
    "aten.index_put_", "aten._index_put_impl_", "aten.constant_pad_nd", "aten.repeat",
    "aten.slice_backward", "aten.select_backward", "aten.slice_scatter", "aten.select_scatter",
    "aten.fill_", "aten.zero_", "aten.zeros", "aten.zeros_like", "aten.ones", "aten.ones_like",
    "aten.empty", "aten.empty_like", "aten.empty_strided", "aten.new_zeros", "aten.new_ones",
    "aten.new_empty", "aten.new_empty_strided", "aten.new_full", "aten.full", "aten.full_like",
    "aten.arange", "aten.scalar_tensor", "aten.lift_fresh_copy",
    "aten._unsafe_index", "aten.flip", "aten.roll", "aten.tril", "aten.triu", "aten.masked_fill",
    "aten.masked_fill_", "aten.embedding", "aten.split_with_sizes_copy", "aten.unbind_copy",
    "aten.view_copy", "aten.expand_copy", "aten.permute_copy", "aten.transpose_copy",
    "aten.t_copy", "aten.detach_copy", "aten.set_", "aten.resize_", "aten._pin_memory",
    "aten.randn", "aten.rand", "aten.randint", "aten.normal_", "aten.uniform_", "aten.random_",
    "aten._local_scalar_dense", "aten.item", "aten.contiguous",
})


# -- categories ---------------------------------------------------------------------------------

_CATEGORY_BY_PACKET: dict[str, str] = {}
for _cat, _names in {
    "matmul": ("mm", "addmm", "bmm", "baddbmm", "mv", "addmv", "dot", "vdot", "_scaled_mm",
               "matmul", "linear", "_int_mm"),
    "conv": ("convolution", "convolution_backward", "_convolution", "cudnn_convolution",
             "convolution_overrideable", "_slow_conv2d_forward", "_slow_conv2d_backward",
             "mkldnn_convolution", "cudnn_convolution_transpose", "conv_depthwise2d"),
    "norm": ("native_layer_norm", "native_layer_norm_backward", "native_group_norm",
             "native_group_norm_backward", "_native_batch_norm_legit", "native_batch_norm",
             "_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional",
             "native_batch_norm_backward", "cudnn_batch_norm", "cudnn_batch_norm_backward",
             "_fused_rms_norm", "_fused_rms_norm_backward"),
    "embedding": ("embedding", "embedding_dense_backward", "embedding_backward"),
    "reduction": ("sum", "mean", "amax", "amin", "max", "min", "prod", "argmax", "argmin",
                  "logsumexp", "linalg_vector_norm", "norm", "cumsum", "any", "all", "var",
                  "std", "var_mean", "std_mean", "_softmax", "_log_softmax", "_safe_softmax",
                  "_softmax_backward_data", "_log_softmax_backward_data", "nll_loss_forward",
                  "nll_loss_backward", "nll_loss2d_forward", "nll_loss2d_backward",
                  "_adaptive_avg_pool2d", "_adaptive_avg_pool2d_backward", "mse_loss",
                  "max_pool2d_with_indices", "max_pool2d_with_indices_backward", "avg_pool2d",
                  "avg_pool2d_backward", "binary_cross_entropy_with_logits"),
}.items():
    for _n in _names:
        _CATEGORY_BY_PACKET[f"aten.{_n}"] = _cat


#: Ops that alias their input without the schema saying so: no data moves.
VIEW_LIKE = frozenset({"aten._unsafe_view", "aten.alias", "aten.lift_fresh"})


def is_view(func: torch._ops.OpOverload) -> bool:
    """True for ops that only make a new view of existing data (no kernel, no bytes)."""
    return func.is_view or str(func._overloadpacket) in VIEW_LIKE


def category(func: torch._ops.OpOverload, phase: str) -> str:
    """The category of an aten op (one of ``accelscope.workload.profile.CATEGORIES``)."""
    packet = str(func._overloadpacket)
    if is_view(func):
        return "data movement"
    if phase == "optimizer" or packet.startswith(("aten._foreach_", "aten._fused_adam",
                                                  "aten._fused_sgd", "aten._amp_")):
        return "optimizer"
    if packet in DATA_MOVEMENT:
        return "data movement"
    if "attention" in packet:
        return "attention"
    cat = _CATEGORY_BY_PACKET.get(packet)
    if cat:
        return cat
    if torch.Tag.pointwise in func.tags or packet in RULES:
        return "elementwise" if torch.Tag.reduction not in func.tags else "reduction"
    if torch.Tag.reduction in func.tags:
        return "reduction"
    return "other"


def flops(func: torch._ops.OpOverload, args: tuple, kwargs: dict, out: Any) -> int | None:
    """FLOPs of one op occurrence, or None when no rule covers it (see the module docstring)."""
    n = torch_flops(func, args, kwargs, out)
    if n is not None:
        return n
    packet = str(func._overloadpacket)
    if packet in RULES:
        return int(RULES.get(packet)(args, kwargs, out))
    if is_view(func) or packet in DATA_MOVEMENT:
        return 0
    if torch.Tag.pointwise in func.tags:
        return pointwise_flops(packet, out)
    return None


def has_rule(func: torch._ops.OpOverload) -> bool:
    packet = func._overloadpacket
    name = str(packet)
    return (packet in TORCH_FLOP_RULES or name in RULES or is_view(func) or name in DATA_MOVEMENT
            or torch.Tag.pointwise in func.tags)
