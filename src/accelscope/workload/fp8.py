"""FP8 training (``amp-fp8``, ``bf16-fp8``): a 16-bit profile with its linear layers' products in FP8.

Transformer Engine (``te.fp8_autocast``), torchao (``Float8Linear``) and Intel Gaudi's FP8
training (Megatron-DeepSpeed on Gaudi 2) run every linear layer's three matrix products -- the
forward ``x W^T``, the input gradient ``dy W`` and the weight gradient ``dy^T x`` -- with both
operands cast to 8-bit floats (per-tensor scaled: E4M3 forward, E5M2 or E4M3 gradients) on the
FP8 matrix units, writing their outputs in 16 bits; attention, convolutions, normalisations,
element-wise work and the optimizer stay as in the base precision: ``amp-fp8`` is ``amp-bf16``
with FP8 linears (fp32 weights under autocast: FSDP2's mixed precision, TorchTitan's Float8),
``bf16-fp8`` is ``bf16`` with FP8 linears (16-bit weights: Megatron/NeMo and DeepSpeed bf16
recipes with Transformer Engine or Intel Gaudi's FP8).

So the profile is the base precision's trace with each linear product (``aten.mm``, ``aten.addmm``
and ``aten.linear`` of the matmul category, forward and backward) re-typed ``float8_e4m3fn``
-- the roofline prices it at the device's FP8 peak -- and reading its operands at one byte
instead of two. The casts (an absolute-max reduction and a scale per tensor) are taken as fused into the
producers of the operands, as Transformer Engine fuses them into its LayerNorm and GELU; not
modelled. Both are predicted only: ``bench`` refuses them.
"""

from __future__ import annotations

import dataclasses

from accelscope.workload.profile import Profile

FP8_DTYPE = "float8_e4m3fn"
#: the products of linear layers in a trace (forward and both backward GEMMs)
LINEAR_PRODUCTS = ("mm", "addmm", "linear")
#: precision -> (the products' new dtype, the op categories and aten ops re-typed, their dtype in
#: the base trace, bytes of the base dtype per new element, whether outputs shrink too).
#: ``w8a8``: quantised inference, convolutions too, int8 in and out (the requantisation to int8
#: fused, as OpenVINO and oneDNN fuse it), int32 accumulation inside the kernel.
RULES = {
    "amp-fp8": (FP8_DTYPE, ("matmul",), LINEAR_PRODUCTS, "bfloat16", 2, False),
    "bf16-fp8": (FP8_DTYPE, ("matmul",), LINEAR_PRODUCTS, "bfloat16", 2, False),
    "w8a8": ("int8", ("matmul", "conv"), (*LINEAR_PRODUCTS, "convolution"), "float32", 4, True),
}


def is_linear_product(op, precision: str = "amp-fp8") -> bool:
    """Whether ``precision`` re-types ``op`` (see ``RULES``)."""
    _, categories, names, base, _, _ = RULES[precision]
    parts = op.name.split(".")
    return op.category in categories and len(parts) > 1 and parts[1] in names and op.dtype == base


#: Categories of the ops a quantised network runs on its int8 activations: OpenVINO's low
#: precision transformations keep pooling, activations and element-wise arithmetic between
#: quantised convolutions in the quantised precision ("precision preserved"), the
#: (de)quantisation scales fused into the convolutions.
QUANTISED_PASSTHROUGH = ("elementwise", "reduction")


def _on_quantised_activation(op, quantised: set) -> bool:
    """An element-wise or pooling op of a w8a8 network whose input is a quantised
    convolution's output (matched by shape): it reads and writes int8, not float32."""
    return (op.category in QUANTISED_PASSTHROUGH and not op.is_view and op.dtype == "float32"
            and bool(op.input_shapes) and op.input_shapes[0] in quantised)


def with_fp8_linears(profile: Profile, precision: str = "amp-fp8") -> Profile:
    """``profile`` (traced in ``precision``'s base) as ``precision`` (see the module docstring)."""
    from accelscope.workload.spec import FP8_BASE

    if FP8_BASE.get(precision) != profile.spec.precision:
        raise ValueError(f"{precision} rewrites a {FP8_BASE.get(precision)} profile, not {profile.spec.precision}")
    dtype, _, _, _, shrink, outputs = RULES[precision]
    # w8a8: the activations between quantised convolutions stay quantised
    quantised = ({op.output_shapes[0] for op in profile.ops
                  if op.category == "conv" and op.output_shapes and is_linear_product(op, precision)}
                 if precision == "w8a8" else set())
    ops = []
    for op in profile.ops:
        if is_linear_product(op, precision):
            op = dataclasses.replace(op, dtype=dtype, bytes_read=op.bytes_read // shrink,
                                     bytes_written=op.bytes_written // shrink if outputs else op.bytes_written)
        elif _on_quantised_activation(op, quantised):
            op = dataclasses.replace(op, bytes_read=op.bytes_read // shrink, bytes_written=op.bytes_written // shrink)
        ops.append(op)
    return dataclasses.replace(profile, spec=profile.spec.with_(precision=precision), ops=tuple(ops))
