"""Layer shapes as a systolic array sees them: every layer is a GEMM after im2col lowering.

A layer is stored the way SCALE-Sim stores one row of a convolution topology: input feature map
height and width, filter height and width, input channels, number of filters, and the two
strides. There is no padding parameter (SCALE-Sim has none): padding is folded into the input
size, i.e. a 3x3 convolution with padding 1 on a 56x56 map is described as a 58x58 input.

The lowering is SCALE-Sim's (``scalesim/compute/operand_matrix.py``):

* ``ofmap_h = ceil((ifmap_h - filter_h + stride_h) / stride_h)``, likewise for the width. When
  ``ifmap_h - filter_h`` is not a multiple of the stride this is one row more than PyTorch's
  ``floor``; the extra windows hang off the edge and their out-of-range input elements are
  empty (-1) requests, exactly as SCALE-Sim produces them.
* ``M = ofmap_h * ofmap_w`` output pixels (rows of the im2col input matrix),
  ``K = filter_h * filter_w * channels`` (the convolution window), ``N = num_filters``.
* A GEMM ``(M, K) x (K, N)`` is the convolution of an ``M x K`` "image" of one channel with
  ``N`` filters of size ``1 x K`` (SCALE-Sim's GEMM topology format does exactly this).
* Addresses: input element ``(row, col, channel)`` of an ``H x W x C`` map is word
  ``(row * W + col) * C + channel``; filter ``n``'s element ``k`` of its window is
  ``n * K + k``; output ``(m, n)`` is ``m * N + n``; each operand adds its base offset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelscope.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer:
    """One convolution (or GEMM) layer in SCALE-Sim's description."""

    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filters: int
    stride_h: int = 1
    stride_w: int = 1
    count: int = 1  # identical occurrences (a Profile op with count > 1); results scale by it

    def __post_init__(self) -> None:
        for field in ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters",
                      "stride_h", "stride_w", "count"):
            value = getattr(self, field)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(
                    f"layer {self.name!r}: {field} must be a positive integer, got {value!r}. "
                    "Describe padding by enlarging the input (SCALE-Sim has no padding field)."
                )
        if self.filter_h > self.ifmap_h or self.filter_w > self.ifmap_w:
            raise ConfigError(
                f"layer {self.name!r}: the {self.filter_h}x{self.filter_w} filter is larger than "
                f"the {self.ifmap_h}x{self.ifmap_w} input; fold the padding into the input size."
            )

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def gemm(cls, name: str, m: int, n: int, k: int, count: int = 1) -> Layer:
        """``(m x k) @ (k x n)``, lowered the way SCALE-Sim reads a GEMM topology row."""
        return cls(name=name, ifmap_h=m, ifmap_w=k, filter_h=1, filter_w=k, channels=1,
                   num_filters=n, count=count)

    @classmethod
    def conv(cls, name: str, *, ifmap_h: int, ifmap_w: int, filter_h: int, filter_w: int,
             channels: int, num_filters: int, stride: int | tuple[int, int] = 1,
             padding: int | tuple[int, int] = 0, count: int = 1) -> Layer:
        """A convolution; ``padding`` is folded into the input size (``H + 2 * padding``)."""
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        return cls(name=name, ifmap_h=ifmap_h + 2 * ph, ifmap_w=ifmap_w + 2 * pw,
                   filter_h=filter_h, filter_w=filter_w, channels=channels,
                   num_filters=num_filters, stride_h=sh, stride_w=sw, count=count)

    # -- derived --------------------------------------------------------------------------
    @property
    def ofmap_h(self) -> int:
        return math.ceil((self.ifmap_h - self.filter_h + self.stride_h) / self.stride_h)

    @property
    def ofmap_w(self) -> int:
        return math.ceil((self.ifmap_w - self.filter_w + self.stride_w) / self.stride_w)

    @property
    def m(self) -> int:
        """Output pixels per filter: rows of the im2col input matrix."""
        return self.ofmap_h * self.ofmap_w

    @property
    def k(self) -> int:
        """Convolution window size: the reduction dimension."""
        return self.filter_h * self.filter_w * self.channels

    @property
    def n(self) -> int:
        return self.num_filters

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one occurrence (SCALE-Sim's ``num_compute``)."""
        return self.m * self.n * self.k

    @property
    def ifmap_words(self) -> int:
        return self.ifmap_h * self.ifmap_w * self.channels

    @property
    def filter_words(self) -> int:
        return self.k * self.n

    @property
    def ofmap_words(self) -> int:
        return self.m * self.n

    def ifmap_matrix(self) -> np.ndarray:
        """The ``M x K`` im2col matrix of input word indices (no offset), -1 off the edge.

        A word's index is ``(row * W + col) * C + ch`` with ``row = irow(m) + frow(k)`` and
        ``col = icol(m) + fcol(k)``, so it splits into a part of the output pixel and a part
        of the window position: one broadcast add. Only a stride that does not tile the input
        (the ceiling in ``ofmap_h``/``ofmap_w``) leaves windows off the edge to mask.
        """
        e = np.arange(self.m, dtype=np.int64)
        j = np.arange(self.k, dtype=np.int64)
        orow, ocol = np.divmod(e, self.ofmap_w)
        irow, icol = orow * self.stride_h, ocol * self.stride_w
        frow, rest = np.divmod(j, self.filter_w * self.channels)
        fcol, ch = np.divmod(rest, self.channels)
        pixel = (irow * self.ifmap_w + icol) * self.channels
        window = (frow * self.ifmap_w + fcol) * self.channels + ch
        addr = pixel[:, None] + window[None, :]
        if ((self.ofmap_h - 1) * self.stride_h + self.filter_h > self.ifmap_h
                or (self.ofmap_w - 1) * self.stride_w + self.filter_w > self.ifmap_w):
            valid = ((irow[:, None] + frow[None, :] < self.ifmap_h)
                     & (icol[:, None] + fcol[None, :] < self.ifmap_w))
            addr = np.where(valid, addr, -1)
        return addr

    def to_dict(self) -> dict[str, int | str]:
        return {
            "name": self.name, "ifmap_h": self.ifmap_h, "ifmap_w": self.ifmap_w,
            "filter_h": self.filter_h, "filter_w": self.filter_w, "channels": self.channels,
            "num_filters": self.num_filters, "stride_h": self.stride_h,
            "stride_w": self.stride_w, "count": self.count,
            "m": self.m, "n": self.n, "k": self.k,
        }
