"""Map the matmul, convolution and attention ops of an accelscope Profile onto array layers.

Every lowering keeps the op's multiply-accumulate count (``M * N * K * count`` equals the op's
FLOPs / 2 for the ops below):

* ``aten.mm``: ``(M, K) @ (K, N)``; ``aten.addmm``: ``bias + (M, K) @ (K, N)`` (the bias add is
  not an array operation); ``aten.linear``: ``(..., K) @ W(N, K)^T``.
* ``aten.bmm`` / ``aten.baddbmm``: ``B`` independent GEMMs (``count`` multiplied by ``B``).
* ``aten.convolution`` (not transposed, no dilation): one SCALE-Sim convolution per image and
  group, padding folded into the input size (``H + 2 * padding``, then trimmed to the rows
  and columns a window touches, so that SCALE-Sim's ceil-based output size equals PyTorch's),
  ``count`` multiplied by batch x groups. Dilated or transposed convolutions are lowered to their im2col GEMM
  (``M`` = output pixels of all images, ``K`` = window, ``N`` = filters per group; for a
  transposed convolution the GEMM scatters each input pixel to ``R * S`` outputs).
* ``aten.convolution_backward``: the input gradient (a GEMM of ``N*OH*OW x O/g`` by
  ``O/g x C/g*R*S``) and the weight gradient (``O/g x N*OH*OW`` by ``N*OH*OW x C/g*R*S``), per
  group, as the op's ``output_mask`` asks (both when it is not recorded).
* ``aten._scaled_dot_product_*_attention`` (forward): ``Q K^T`` and ``P V`` per batch and head.

Ops of these categories with shapes this module cannot read, and attention backward ops, are
returned in ``MappedWorkload.unmapped`` with a reason, never dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from accelscope.models.systolic.layers import Layer

MAPPED_CATEGORIES = ("matmul", "conv", "attention")


@dataclass(frozen=True, slots=True, kw_only=True)
class MappedWorkload:
    layers: tuple[Layer, ...]
    unmapped: tuple[tuple[str, str], ...]  # (op name, reason)

    @property
    def macs(self) -> int:
        return sum(layer.macs * layer.count for layer in self.layers)


def _pair(v, default):
    if v is None:
        return (default, default)
    if isinstance(v, (int, float)):
        return (int(v), int(v))
    v = list(v)
    return (int(v[0]), int(v[-1])) if v else (default, default)


def _conv_layers(name: str, x, w, attrs, count: int) -> list[Layer]:
    n, c, h, wd = x
    o, cg, r, s = w
    groups = int(attrs.get("groups", 1) or 1)
    sh, sw = _pair(attrs.get("stride"), 1)
    ph, pw = _pair(attrs.get("padding"), 0)
    dh, dw = _pair(attrs.get("dilation"), 1)
    transposed = bool(attrs.get("transposed", False))
    og = o // groups if not transposed else cg  # filters per group
    if transposed:
        # weight (C_in, O/g, R, S): each input pixel scatters R*S*O/g products
        return [Layer.gemm(name, n * h * wd, og * r * s, c // groups, count=count * groups)]
    if dh == 1 and dw == 1:
        # Trim the padded input to the rows and columns some window touches, so that
        # SCALE-Sim's ceil-based output size equals PyTorch's floor-based one.
        oh = (h + 2 * ph - r) // sh + 1
        ow = (wd + 2 * pw - s) // sw + 1
        return [Layer(name=name, ifmap_h=(oh - 1) * sh + r, ifmap_w=(ow - 1) * sw + s,
                      filter_h=r, filter_w=s, channels=cg, num_filters=og, stride_h=sh,
                      stride_w=sw, count=count * n * groups)]
    oh = (h + 2 * ph - dh * (r - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (s - 1) - 1) // sw + 1
    return [Layer.gemm(name, n * oh * ow, og, cg * r * s, count=count * groups)]


def _conv_backward_layers(name: str, op) -> list[Layer]:
    shapes = op.input_shapes
    gout, x, w = shapes[0], shapes[1], shapes[2]
    n, c, _, _ = x
    o, cg, r, s = w
    _, _, oh, ow = gout
    groups = int(op.attrs.get("groups", 1) or 1)
    mask = op.attrs.get("output_mask", (True, True, True))
    out = []
    pix = n * oh * ow
    if mask[0]:
        out.append(Layer.gemm(f"{name}.grad_input", pix, cg * r * s, o // groups,
                              count=op.count * groups))
    if mask[1]:
        out.append(Layer.gemm(f"{name}.grad_weight", o // groups, cg * r * s, pix,
                              count=op.count * groups))
    return out


def op_layers(op) -> list[Layer]:
    """Layers for one Op (raises ValueError when its shapes cannot be read)."""
    name = f"{op.phase}:{op.name}"
    shp = [s for s in op.input_shapes]
    base = ".".join(op.name.split(".")[:2])  # "aten.mm.default" -> "aten.mm"
    if base in ("aten.mm",):
        (m, k), (_, n) = shp[0], shp[1]
        return [Layer.gemm(name, m, n, k, count=op.count)]
    if base == "aten.addmm":
        (m, k), (_, n) = shp[1], shp[2]
        return [Layer.gemm(name, m, n, k, count=op.count)]
    if base == "aten.linear":
        x, w = shp[0], shp[1]
        m = math.prod(x[:-1])
        return [Layer.gemm(name, m, w[0], w[1], count=op.count)]
    if base in ("aten.bmm", "aten.baddbmm"):
        a, b = (shp[0], shp[1]) if base == "aten.bmm" else (shp[1], shp[2])
        bsz, m, k = a
        n = b[2]
        return [Layer.gemm(name, m, n, k, count=op.count * bsz)]
    if base == "aten.convolution":
        return _conv_layers(name, shp[0], shp[1], op.attrs, op.count)
    if base == "aten.convolution_backward":
        return _conv_backward_layers(name, op)
    if "scaled_dot_product" in base and op.phase == "forward":
        q, k = shp[0], shp[1]
        heads = math.prod(q[:-2])
        lq, d = q[-2], q[-1]
        lk = k[-2]
        dv = shp[2][-1]
        return [Layer.gemm(f"{name}.qk", lq, lk, d, count=op.count * heads),
                Layer.gemm(f"{name}.pv", lq, dv, lk, count=op.count * heads)]
    raise ValueError("no lowering for this op")


def map_ops(ops: Iterable) -> MappedWorkload:
    """Layers for the matmul, convolution and attention ops of a Profile (or any Op list)."""
    layers: list[Layer] = []
    unmapped: list[tuple[str, str]] = []
    for op in ops:
        if op.category not in MAPPED_CATEGORIES or getattr(op, "is_view", False):
            continue
        try:
            layers.extend(op_layers(op))
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            unmapped.append((op.name, f"shapes {op.input_shapes} not lowered ({exc})"))
    return MappedWorkload(layers=tuple(layers), unmapped=tuple(unmapped))


def map_profile(profile) -> MappedWorkload:
    return map_ops(profile.ops)
