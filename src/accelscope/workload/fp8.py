"""FP8 training (``precision="amp-fp8"``): an ``amp-bf16`` profile with its linear layers' products in FP8.

Transformer Engine (``te.fp8_autocast``), torchao (``Float8Linear``) and Intel Gaudi's FP8
training (Megatron-DeepSpeed on Gaudi 2) run every linear layer's three matrix products -- the
forward ``x W^T``, the input gradient ``dy W`` and the weight gradient ``dy^T x`` -- with both
operands cast to 8-bit floats (per-tensor scaled: E4M3 forward, E5M2 or E4M3 gradients) on the
FP8 matrix units, writing their outputs in 16 bits; attention, convolutions, normalisations,
element-wise work and the optimizer stay as in ``amp-bf16`` (master weights in fp32).

So the profile is the ``amp-bf16`` trace with each linear product (``aten.mm``, ``aten.addmm``
and ``aten.linear`` of the matmul category, forward and backward) re-typed ``float8_e4m3fn``
-- the roofline prices it at the device's FP8 peak -- and reading its operands at one byte
instead of two. The casts (an absolute-max reduction and a scale per tensor) are taken as fused into the
producers of the operands, as Transformer Engine fuses them into its LayerNorm and GELU; not
modelled. ``amp-fp8`` is predicted only: ``bench`` refuses it.
"""

from __future__ import annotations

import dataclasses

from accelscope.workload.profile import Profile

FP8_DTYPE = "float8_e4m3fn"
#: the products of linear layers in a trace (forward and both backward GEMMs)
LINEAR_PRODUCTS = ("mm", "addmm", "linear")


def is_linear_product(op) -> bool:
    parts = op.name.split(".")
    return op.category == "matmul" and len(parts) > 1 and parts[1] in LINEAR_PRODUCTS and op.dtype == "bfloat16"


def with_fp8_linears(profile: Profile) -> Profile:
    """``profile`` (traced ``amp-bf16``) as ``amp-fp8`` (see the module docstring)."""
    if profile.spec.precision != "amp-bf16":
        raise ValueError(f"FP8 training rewrites an amp-bf16 profile, not {profile.spec.precision}")
    ops = []
    for op in profile.ops:
        if is_linear_product(op):
            op = dataclasses.replace(op, dtype=FP8_DTYPE, bytes_read=op.bytes_read // 2)
        ops.append(op)
    return dataclasses.replace(profile, spec=profile.spec.with_(precision="amp-fp8"), ops=tuple(ops))
