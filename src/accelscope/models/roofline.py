"""Per-op roofline with size-dependent efficiency, wave quantisation and launch overhead.

For every op of a Profile (per occurrence; then multiplied by its count)::

    compute_s  = (flops / algorithm_speedup) / (peak(op dtype) * efficiency(op shape))
    memory_s   = bytes / (bandwidth * bw_efficiency)   (multi-pass kernels: READ_PASSES)
    device_s   = max(compute_s, memory_s, kernel_floor_s)     (0 for ops that move nothing)
    host_s     = host_overhead_s                               (framework dispatch + launch)

and the step takes ``max(sum(device_s), sum(host_s))``: the host enqueues kernels
asynchronously, so a step is bound either by the device (large batches) or by the host
issuing kernels (small batches). This is the structure of the strong per-op predictors
(Habitat, Yu et al. ATC 2021; the "overhead / bandwidth / compute" regimes of He,
"Making Deep Learning Go Brrrr From First Principles", 2022) rather than total FLOPs over
a datasheet peak, which misses small-batch and memory-bound work entirely.

Efficiency of matrix work (matmul, convolution as implicit GEMM, attention) is

    efficiency = max_efficiency * tile_fill * wave_efficiency * K / (K + k_half)

* tiles: the output (M x N, times the batch of independent GEMMs) is cut into tiles, as
  cuBLAS/CUTLASS kernels do; of the candidate tile shapes the best one is taken. ``tile_fill``
  is the useful fraction of the padded tiles.
* waves: tiles are scheduled on ``compute_units`` (SMs, TPU matrix units, cores) in waves;
  the last partial wave leaves units idle: ``tiles / (ceil(tiles / units) * units)``.
* K / (K + k_half): a short reduction dimension cannot hide the pipeline's prologue and
  epilogue.

Depthwise convolutions and matrix-vector products run on the vector units. Ops that are
not matrix work (norms, activations, reductions, optimizer updates, copies) use the
device's fp32 vector rate times ``vector_efficiency`` and are in practice memory-bound.

``estimate_ops`` builds each op's ``base_cost`` (the op as traced, on the vector units, one
dispatch, one kernel) and then applies the adjustment rules of ``ADJUSTMENTS``, each a small
registered function, in this order:

1. ``fused_recurrent``: ops inside a fused recurrent kernel have no dispatch and no floor;
2. ``foreach_optimizer``: optimizer ops share one dispatch per op type, one floor per launch;
3. ``unfused_dropout``: CPU dropout as ATen's several kernels (``UNFUSED_DROPOUT``);
4. ``scalar_kernels``: scalar-loop kernels (CPU max pooling) run ``scalar_kernel_slowdown`` slower;
5. ``matrix_work``: matrix work on the matrix units at the efficiency above (attention, fused
   recurrent layers; vector-matrix ops stay on the vector units); causal attention executes
   half its counted product (``CAUSAL_SPEEDUP``);
6. ``nchw_transposes``: NCHW <-> NHWC transposes around tensor-core convolutions (``layout_s``);
7. ``dnn_library_rate``: the DNN library's rate (``DeviceRates.conv_factor``);
8. ``winograd``: Winograd convolutions do less arithmetic (``algorithm_speedup``);
9. ``last_level_cache``: ops that fit in the last-level cache stream at its bandwidth;
10. ``planned_buffers``: allocations cost nothing where the graph's buffers are planned once;
11. ``first_touch``: first touch of fresh output pages (``alloc_s``).

(and, where their parameters ask for them: ``compiled_pointwise``, element-wise ops fused into
their producer under a graph compiler, before ``matrix_work``; ``depthwise``, depthwise
convolutions at a fraction of the datasheet bandwidth, after it.)

The parameters are typical achieved fractions, not fitted to any validation row; each
device kind has its own defaults (``DEFAULTS``) and ``calibrate`` refits them from the
user's measurements. Everything this model assumes is returned in ``Estimate.parameters``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from accelscope.models.estimate import OpEstimate
from accelscope.registry import Registry
from accelscope.workload.profile import Op, Profile

MATRIX = ("matmul", "conv", "attention")
#: Tile shapes (rows, cols, relative efficiency of the kernel) a GEMM library chooses from:
#: large tiles reuse operands best; small ones fill more units on small problems.
GPU_TILES = ((128, 256, 1.0), (128, 128, 0.95), (64, 128, 0.85), (64, 64, 0.7))
#: Hopper reaches its tensor peak only through warpgroup MMA (wgmma: 64 x N x 16 per
#: 4-warp warpgroup; CUTLASS 3's Hopper kernels tile 128 x 128 x 64 and larger, cuBLAS
#: picks 320 x 128 for a large FP16 GEMM). Kernels with smaller tiles use the legacy
#: mma.sync path, which reaches ~63-65% of peak where wgmma reaches ~96% (H800: 494 of 757
#: TFLOPS; Luo et al., arXiv:2501.12084, as quoted by waynehacking8/blackwell-tensorcore-kernels):
#: small tiles keep their relative efficiency times 0.64 / 0.96.
HOPPER_LEGACY = 0.64 / 0.96
HOPPER_TILES = ((128, 256, 1.0), (128, 128, 0.95), (64, 128, 0.85 * HOPPER_LEGACY), (64, 64, 0.7 * HOPPER_LEGACY))
#: Tile sets by architecture (``HardwareSpec.architecture``); others use GPU_TILES.
ARCH_TILES = {"Hopper": HOPPER_TILES}


@dataclass(frozen=True, slots=True, kw_only=True)
class RooflineParams:
    """Efficiency parameters of the per-op roofline (fractions of datasheet figures)."""

    matrix_efficiency: float = 0.75    # large GEMM on tensor cores: 70-80% of dense peak
    fp32_matrix_efficiency: float = 0.85  # large FP32 GEMM on CUDA cores (SIMT)
    # fused (flash) attention relative to peak: FlashAttention-2 reaches 50-73% of A100 peak
    # in the forward pass, less in the backward (Dao, 2023, "FlashAttention-2", section 4.1)
    attention_efficiency: float = 0.6
    k_half: float = 32.0
    #: CPU GEMM libraries (GotoBLAS-style: MKL, OpenBLAS, BLIS, oneDNN) pack the K x N operand
    #: into cache-sized panels on every call; the packing is amortised over the M rows:
    #: efficiency x M / (M + m_half). 0 on GPUs (no packing). CPU default: least squares over
    #: this machine's sgemm at K = 768, N = 768 / 3072 / 10000, M = 8 ... 2048 (at N = 3072:
    #: 68, 140, 160, 195, 210 GFLOP/s at M = 8, 32, 64, 128, 512).
    m_half: float = 0.0
    bw_efficiency: float = 0.8          # achieved / datasheet memory bandwidth
    vector_efficiency: float = 0.5      # elementwise arithmetic vs fp32 vector peak
    kernel_floor_s: float = 4e-6        # shortest kernel, launch to completion on the device
    # Eager PyTorch's host time per aten op on a datacenter GPU host: Python, nn.Module calls,
    # binding, autograd, dispatcher, cuDNN/cuBLAS set-up and cudaLaunchKernel. Measured:
    # pytorch/benchmark PR #668 (2021) reports 13.3 ms of "CPU Dispatch Time" for one eager
    # ResNet-50 eval forward on a V100 host; accelscope's ResNet-50 inference profile has 227
    # (non-view) aten ops, so 13.3 ms / 227 = 58.6 us per op. Newer stacks on faster hosts
    # spend less ("~5-25 us of CPU-side work per op", J. Lin, "From PyTorch op to kernel
    # launch"); `accelscope calibrate` fits the figure of your own host.
    host_overhead_s: float = 13.3e-3 / 227
    tiles: tuple[tuple[int, int, float], ...] = GPU_TILES
    #: Accelerators run kernels asynchronously while the host issues the next ones; on a
    #: CPU the same cores dispatch and compute, so host time adds to device time.
    host_overlaps_device: bool = True
    #: Kernels that are scalar loops on this kind of device (PyTorch's CPU max pooling of
    #: contiguous NCHW tensors, ``cpu_max_pool`` in ATen's MaxPoolKernel.cpp, walks each
    #: window element by element, selecting both the value and its index): they run
    #: ``scalar_kernel_slowdown`` times slower than vectorised arithmetic: one lane of a
    #: 16-lane fp32 vector unit, two selects per element. (Measured on this machine's
    #: ResNet-18 and small-CNN steps: 27-48x the calibrated vector rate.)
    scalar_kernels: tuple[str, ...] = ()
    scalar_kernel_slowdown: float = 32.0
    #: FP32 3x3 stride-1 convolutions on CUDA cores: cuDNN's Winograd kernels compute each
    #: 2x2 output tile with 16 multiplications instead of 36 (F(2x2, 3x3), Lavin & Gray,
    #: "Fast Algorithms for Convolutional Neural Networks", CVPR 2016), so they do 1 / this of
    #: the direct-convolution arithmetic the profile counts (transforms taken as hidden): the
    #: op's ``algorithm_speedup``; its peak and efficiency stay those of the executed work.
    #: 1: not used (tensor-core and TF32 convolutions use implicit GEMM; CPUs' oneDNN does not
    #: pick Winograd by default).
    winograd_speedup: float = 1.0
    #: Tensor-core convolutions of NCHW (PyTorch's default, not channels-last) activations:
    #: NVIDIA's tensor cores convolve in NHWC, so cuDNN transposes the NCHW tensor to NHWC
    #: before each convolution and back after (MosaicML Composer's "Channels Last" method card,
    #: after NVIDIA's diagram): one more read and write of every tensor the kernel touches, in
    #: two more kernels. True on GPUs; CUDA-core (FP32) convolutions run NCHW kernels. (The
    #: same card reports ~30% faster ResNet-50 training on V100/A100 with channels last; this
    #: model gives 1.36x for AMP at batch 256: README, accuracy section.)
    nchw_transposes: bool = False
    #: Dropout as ATen runs it on CPU tensors (``_dropout_impl``: ``empty_like``, ``bernoulli_``,
    #: ``div_``, ``mul``, a mask in the input's dtype; its backward a ``mul``) rather than as
    #: CUDA's one ``native_dropout`` kernel, which is how profiles record it (``UNFUSED_DROPOUT``).
    unfused_dropout: bool = False
    #: Outputs larger than this are fresh pages from the OS on every step (glibc malloc serves
    #: them with mmap and unmaps them on free: its mmap threshold adapts up to
    #: DEFAULT_MMAP_THRESHOLD_MAX = 32 MiB on 64-bit, mallopt(3)); the first write to each
    #: page faults and zeroes it, at ``first_touch_bytes_per_s``. 0: the allocator caches
    #: (PyTorch's CUDA caching allocator).
    fresh_alloc_threshold_bytes: int = 0
    #: Measured on the 2-core development VM (AMD EPYC, Linux): an out-of-place sqrt of 40 MB
    #: to 500 MB costs an extra 2.5-3.8 GB/s-worth of time over writing into an existing
    #: tensor, which streams at ~37 GB/s (README, `accelscope predict`).
    first_touch_bytes_per_s: float = 3.5e9
    #: A graph compiler's fusion (``mode = "compile"``; XLA and the ASIC graph compilers
    #: always): element-wise ops are fused into the kernel that produces their input
    #: (``compiled_pointwise``): they read nothing from memory (the producer's output is still
    #: in registers), write their output, and need no dispatch or kernel of their own. An
    #: inference batch normalisation, an affine per-channel scale and shift at inference
    #: (Ioffe & Szegedy 2015, 3.1), is folded into the convolution that produces its input
    #: (OpenVINO's and inductor's freezing conv-BN folding, XLA's fusion): nothing of its own.
    fuse_pointwise: bool = False
    #: Where the compiler fuses element-wise work into the epilogue of the matrix op (or other
    #: kernel) that produces its input (``fuse_pointwise`` must be on): the op is applied to the
    #: producer's result before that is written, so it writes nothing of its own and reads only
    #: its other operands (a residual add's skip tensor, a bias). ``"always"``: XLA's and the
    #: ASIC graph compilers' fusions into their matrix ops, training included; ``"inference"``:
    #: inference graphs only, as on CPUs (OpenVINO's CPU plugin and inductor's frozen inference
    #: graphs run them as oneDNN post-ops: eltwise, sum, binary); ``""``: never (a fused
    #: element-wise op writes its output: inductor fuses chains of pointwise ops, but
    #: cuDNN/cuBLAS convolutions and GEMMs stay external kernels).
    epilogue_fusion: str = ""
    #: A graph runtime plans its intermediate buffers once, when it compiles the graph
    #: (OpenVINO's CPU plugin, XLA's buffer assignment): the allocations a trace records
    #: (``aten.empty*``) cost no dispatch per step (``planned_buffers``).
    planned_buffers: bool = False
    #: The kernel floor adds to an op's compute or memory time instead of bounding it from
    #: below: a kernel's launch, ramp-up and drain are paid whatever it moves. GPUs: back-to-back
    #: tiny kernels take 1.6-2.6 us each (te42kyfo/gpu-benches gpu-small-kernels), and a PyTorch
    #: elementwise kernel on an H200 moves 25 MB at 1.83 TB/s but 126 MB at 3.37 TB/s: a fixed
    #: few microseconds on top of bytes / bandwidth (tile-ai/TileOPs issue #512's PyTorch column).
    floor_adds: bool = False
    #: Depthwise convolutions (one group per channel) are bandwidth-bound kernels that reach only
    #: this fraction of the device's datasheet bandwidth: a 3x3 depthwise convolution of a
    #: (2, 32, 512, 512) float32 tensor took 1.02 ms on a Titan Xp, properly synchronised
    #: (pytorch/pytorch issue #18631, cuDNN 7.4): 134 MB in 1.02 ms is 132 GB/s of its 547.6.
    #: The kernels are "very simple, not even using shared memory" (ngimel, issue #1708); 0: not
    #: modelled (CPUs, where oneDNN's depthwise kernels stream at the cache rates).
    depthwise_bandwidth_fraction: float = 0.0
    #: Host time once per step, on top of the per-op terms: a CUDA graph's replay launch
    #: (``mode = "cuda-graphs"``) or a compiled program's launch.
    step_overhead_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tiles"] = [list(t) for t in self.tiles]
        return d


#: Defaults by device kind. GPUs run eager PyTorch (per-op host overhead); TPUs and ASICs
#: run compiled graphs (XLA, Neuron, SynapseAI) with little per-op overhead; CPUs have no
#: launch latency but a dispatch cost per op.
DEFAULTS: dict[str, RooflineParams] = {
    # GPUs are priced against achievable ceilings (``hardware/achievable.py``): a large GEMM
    # reaches the measured GEMM ceiling (efficiency 1 before tiles, waves and short K), a
    # streaming kernel the measured bandwidth. Fused attention: FlashAttention-2 reaches
    # 50-73% of A100's datasheet peak forward, less backward (Dao 2023, section 4.1): with
    # A100's measured GEMM ceiling at 0.87 of its datasheet, 0.58-0.84 of the ceiling: 0.7.
    "gpu": RooflineParams(matrix_efficiency=1.0, fp32_matrix_efficiency=1.0, attention_efficiency=0.7,
                          bw_efficiency=1.0, winograd_speedup=36 / 16, nchw_transposes=True, floor_adds=True,
                          depthwise_bandwidth_fraction=132 / 547.6),
    # TPUs: each MXU is a 128 x 128 weight-stationary systolic array fed by XLA's compiled
    # schedule. A GEMM runs at the array's peak but for the 128 x 128 tiles' padding and each
    # tile's fill and drain: M input rows stream through a loaded weight tile in M + 128 + 128
    # - 2 cycles (SCALE-Sim's weight-stationary fold, 2 Sr + Sc + T - 2, with the Sr cycles of
    # the weight load hidden by the double-buffered weights of Jouppi et al., ISCA 2017), so an
    # efficiency of M / (M + 254): no fitted fraction.
    "tpu": RooflineParams(matrix_efficiency=1.0, fp32_matrix_efficiency=1.0, attention_efficiency=0.5,
                          k_half=0.0, m_half=254.0,
                          kernel_floor_s=1e-6, host_overhead_s=1e-6, tiles=((128, 128, 1.0),)),
    "asic": RooflineParams(matrix_efficiency=0.5, fp32_matrix_efficiency=0.5, attention_efficiency=0.4,
                           kernel_floor_s=2e-6, host_overhead_s=2e-6, tiles=((128, 128, 1.0),)),
    "fpga": RooflineParams(matrix_efficiency=0.5, fp32_matrix_efficiency=0.5, attention_efficiency=0.4,
                           bw_efficiency=0.7, kernel_floor_s=1e-6, host_overhead_s=1e-6,
                           tiles=((32, 32, 1.0),)),
    # CPU GEMM kernels keep their accumulators in registers over the whole K loop: no short-K
    # penalty (k_half 0). This machine's sgemm at M = N = 2048 reaches its plateau by K = 32
    # (198.7 GFLOP/s, against 204.1 at K = 2048; 191.5 at K = 24), where the GPU default
    # k_half = 32 would halve it; below that the write of C bounds it (the memory term).
    "cpu": RooflineParams(matrix_efficiency=0.6, fp32_matrix_efficiency=0.7, attention_efficiency=0.4,
                          bw_efficiency=0.7, vector_efficiency=0.25, kernel_floor_s=1e-6,
                          host_overhead_s=8e-6, m_half=20.0, k_half=0.0, unfused_dropout=True,
                          scalar_kernels=("max_pool2d_with_indices", "max_pool3d_with_indices"),
                          fresh_alloc_threshold_bytes=32 * 2**20,
                          # per-thread blocks of a CPU GEMM library (register/cache blocking)
                          tiles=((16, 64, 1.0), (8, 32, 0.9), (4, 16, 0.75), (1, 16, 0.5)),
                          host_overlaps_device=False),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRates:
    """The hardware figures the model needs, from a catalog spec or a calibration."""

    matrix_flops_per_s: dict[str, float]   # by dtype name: float32, bfloat16, float16, ...
    vector_flops_per_s: float
    bandwidth_bytes_per_s: float
    compute_units: int
    fp32_is_tensor: bool = False
    #: Last-level cache: an op whose inputs and outputs fit in it streams at
    #: ``cache_bandwidth_bytes_per_s`` instead of the memory bandwidth (0: not modelled).
    cache_bytes: int = 0
    cache_bandwidth_bytes_per_s: float = 0.0
    #: the datasheet memory bandwidth (``bandwidth_bytes_per_s`` is the achievable one on GPUs)
    datasheet_bandwidth_bytes_per_s: float = 0.0
    #: Convolutions and fused recurrent layers run in the DNN library (cuDNN, oneDNN), not the
    #: BLAS of matrix products (cuBLAS, MKL/OpenBLAS), often with a different instruction set
    #: on CPUs: a calibration may find their achieved rate differs. Multiplies the matrix
    #: rate for those ops.
    conv_factor: float = 1.0


#: ATen's CPU dropout for each traced op: (dispatches, bytes moved per byte of the input (forward)
#: or of the gradient (backward), FLOPs relative to the traced op's). Forward: bernoulli_ writes a
#: mask in the input's dtype (1), div_ scales it in place (2), mul reads input and mask and
#: writes the output (3): 6x; the traced native_dropout reads 1x and writes 1x plus a bool mask.
#: Backward: one mul of gradient and mask, 3x the gradient's bytes.
UNFUSED_DROPOUT = {"native_dropout": (4, 6, 1.5), "native_dropout_backward": (1, 3, 1.0)}

#: Tensors one foreach (multi-tensor) kernel launch covers for 4-list ops such as Adam's
#: (param, grad, exp_avg, exp_avg_sq): ATen's MultiTensorApply.cuh ``depth_to_max_tensors``.
FOREACH_TENSORS_PER_LAUNCH = 36

#: Kernels that read their inputs more than once. Batch norm in training is two passes in
#: ATen (and cuDNN): one kernel collects the batch statistics, a second normalises; its
#: backward likewise reduces (grad_out, input) and then applies the gradient elementwise.
READ_PASSES = {"native_batch_norm": 2, "_native_batch_norm_legit": 2, "cudnn_batch_norm": 2,
               "native_batch_norm_backward": 2, "cudnn_batch_norm_backward": 2}


def op_kind(op: Op) -> str:
    """The aten op's name without namespace and overload: ``aten.add_.Tensor`` -> ``add_``."""
    return op.name.split(".")[1] if op.name.startswith("aten.") else op.name


def fresh_output_bytes(op: Op, p: RooflineParams) -> int:
    """Bytes of ``op``'s outputs that are new allocations above the allocator's threshold
    (in-place ops, named ``..._``, write into memory that already exists)."""
    if op.is_view or op_kind(op).endswith("_") or not op.bytes_written:
        return 0
    sizes = [math.prod(s) for s in op.output_shapes if s is not None]
    total = sum(sizes)
    if not total:
        return 0
    out_bytes = [op.bytes_written * n / total for n in sizes]
    return int(sum(b for b in out_bytes if b > p.fresh_alloc_threshold_bytes))


def is_winograd_conv(op: Op) -> bool:
    """A dense 2-D convolution (or its backward) with a 3x3 kernel, stride 1, no dilation."""
    kind = op_kind(op)
    if kind not in ("convolution", "convolution_backward"):
        return False
    at = 2 if kind == "convolution_backward" else 1  # (grad, input, weight) / (input, weight)
    w = op.input_shapes[at] if len(op.input_shapes) > at else None
    return (w is not None and len(w) == 4 and tuple(w[2:]) == (3, 3)
            and tuple(op.attrs.get("stride", (1, 1))) == (1, 1)
            and tuple(op.attrs.get("dilation", (1, 1))) == (1, 1)
            and int(op.attrs.get("groups", 1)) == 1 and not op.attrs.get("transposed", False))


def read_passes(op: Op) -> int:
    """How many times the kernel of ``op`` reads its inputs (1 for almost every op)."""
    name = op_kind(op)
    passes = READ_PASSES.get(name, 1)
    if passes > 1 and not name.endswith("backward") and not op.attrs.get("training", True):
        return 1  # eval-mode batch norm uses the stored statistics: one pass
    return passes


def gemm_dims(op: Op) -> tuple[int, int, int, int] | None:
    """(batch, M, N, K) of the matrix product an op performs, or None."""
    s = [x for x in op.input_shapes if x is not None]
    name = op_kind(op)
    try:
        if name in ("mm", "addmm") and len(s) >= 2:
            (m, k), (_, n) = s[-2], s[-1]
            return 1, m, n, k
        if name in ("bmm", "baddbmm") and len(s) >= 2:
            (b, m, k), (_, _, n) = s[-2], s[-1]
            return b, m, n, k
        if name == "convolution" and len(s) >= 2:
            x, w = s[0], s[1]
            out = op.output_shapes[0]
            groups = int(op.attrs.get("groups", 1))
            m = out[0] * math.prod(out[2:])
            return groups, m, w[0] // groups, w[1] * math.prod(w[2:])
        if name == "convolution_backward" and len(s) >= 3:
            g, w = s[0], s[2]
            groups = int(op.attrs.get("groups", 1))
            return groups, g[0] * math.prod(g[2:]), w[0] // groups, w[1] * math.prod(w[2:])
        if op.category == "attention" and s and len(s[0]) == 4:
            q = s[1] if "backward" in name else s[0]
            k = s[2] if "backward" in name else s[1]
            return q[0] * q[1], q[2], k[2], q[3]
    except (ValueError, IndexError, TypeError):
        return None
    return None


#: Split-K factors a GEMM library may use when the output has too few tiles to fill the
#: device (each split computes a slice of K; the partial results are then reduced).
SPLIT_K = (1, 2, 4, 8, 16)
SPLIT_K_PENALTY = 0.9  # the extra reduction pass and partial-result traffic


def matrix_efficiency(dims: tuple[int, int, int, int], units: int, p: RooflineParams) -> float:
    """Fraction of the matrix peak a GEMM of these dimensions reaches (before max_efficiency).

    The best over tile shapes and split-K factors of
    ``tile_eff * fill * wave_efficiency * k / (k + k_half)``.
    """
    batch, m, n, k = dims
    best = 0.0
    for tm, tn, tile_eff in p.tiles:
        tiles_m, tiles_n = math.ceil(m / tm), math.ceil(n / tn)
        fill = (m / (tiles_m * tm)) * (n / (tiles_n * tn))
        for split in SPLIT_K:
            ks = k / split
            if split > 1 and ks < 4 * p.k_half:
                break
            tiles = tiles_m * tiles_n * batch * split
            waves = math.ceil(tiles / units)
            eff = tile_eff * fill * tiles / (waves * units) * ks / (ks + p.k_half) * m / (m + p.m_half)
            best = max(best, eff * (SPLIT_K_PENALTY if split > 1 else 1.0))
    return best


#: Query rows per thread block of a fused attention kernel (FlashAttention-2's block size).
ATTENTION_BLOCK_Q = 128


#: Work a fused attention kernel skips under a causal mask: the blocks above the diagonal,
#: half of the (T x T) product for long sequences (FlashAttention-2, Dao 2023, 3.1.1).
CAUSAL_SPEEDUP = 2.0


def attention_wave_efficiency(dims: tuple[int, int, int, int], units: int) -> float:
    """Wave quantisation of a fused attention kernel: one thread block per (batch x head,
    block of ``ATTENTION_BLOCK_Q`` query rows), scheduled in waves over the compute units.
    The head dimension is the kernel's own tile width, so no short-K penalty applies."""
    batch_heads, tq, _, _ = dims
    blocks = batch_heads * math.ceil(tq / ATTENTION_BLOCK_Q)
    return blocks / (math.ceil(blocks / units) * units)


def _is_vector_matrix_op(dims: tuple[int, int, int, int]) -> bool:
    """Depthwise convolutions and matrix-vector products have no reuse for matrix units."""
    _, m, n, k = dims
    return min(m, n) <= 4 or k <= 4


# -- per-op cost: a base cost, then adjustment rules --------------------------------------
#
# Every op starts from ``base_cost`` (the op as traced, on the vector units, one dispatch,
# one kernel); the rules of ``ADJUSTMENTS`` then adjust that record in the order they are
# registered below, and ``OpCost.estimate`` freezes it into an ``OpEstimate``. The order
# matters: rules that change what the op does (dispatches, bytes, FLOPs) come before rules
# that price it, and the matrix rate's factors (DNN library, Winograd) come after the rule
# that puts the op on the matrix units.


@dataclass(frozen=True, slots=True)
class CostContext:
    """What the rules share for one ``estimate_ops`` call: the device, the parameters and the
    figures derived from them once per profile."""

    rates: DeviceRates
    p: RooflineParams
    bandwidth: float  # achieved memory bandwidth: rates.bandwidth_bytes_per_s * p.bw_efficiency
    vector: float  # achieved vector rate: rates.vector_flops_per_s * p.vector_efficiency
    #: dispatches of each optimizer op over the profile (``foreach_optimizer``); empty where
    #: the host does not overlap the device (CPUs)
    foreach_calls: dict[str, int]
    #: ``p`` without GEMM packing or short-K penalty, for fused recurrent kernels (``matrix_work``)
    blocked: RooflineParams
    #: the profile is an inference pass (no training statistics to compute)
    inference: bool = False

    @classmethod
    def build(cls, profile: Profile, rates: DeviceRates, p: RooflineParams) -> CostContext:
        foreach_calls: dict[str, int] = {}
        if p.host_overlaps_device:
            for op in profile.ops:
                if op.phase == "optimizer" and not op.is_view:
                    foreach_calls[op.name] = foreach_calls.get(op.name, 0) + op.count
        return cls(rates=rates, p=p, bandwidth=rates.bandwidth_bytes_per_s * p.bw_efficiency,
                   vector=rates.vector_flops_per_s * p.vector_efficiency, foreach_calls=foreach_calls,
                   blocked=replace(p, m_half=0.0, k_half=0.0), inference=profile.task != "train")


@dataclass(slots=True, kw_only=True)
class OpCost:
    """The cost of one op (per occurrence) while the rules adjust it."""

    op: Op
    kind: str  # op_kind(op)
    flops: int  # arithmetic the op's kernels do, as the profile counts it
    moved: int  # bytes its kernels read and write
    compute_s: float
    memory_s: float
    host_s: float  # host time: framework dispatch + launch
    floor_s: float  # shortest time its kernels take on the device
    efficiency: float  # fraction of ``peak`` the executed arithmetic reaches
    peak: float  # FLOP/s of the unit it runs on, at efficiency 1
    unit: str = "vector"
    #: the algorithm does flops / algorithm_speedup of arithmetic (``winograd``)
    algorithm_speedup: float = 1.0
    tensor: bool = False  # matrix work on tensor cores / matrix units (not FP32 CUDA cores)
    dnn_library: bool = False
    layout_s: float = 0.0
    alloc_s: float = 0.0
    floor_adds: bool = False  # the floor adds to the larger term (``RooflineParams.floor_adds``)

    @property
    def fused(self) -> bool:
        """Inside a fused kernel (a fused recurrent layer): its one dispatch is its own op."""
        return bool(self.op.attrs.get("fused_in"))

    def set_work(self, flops: int, moved: int, ctx: CostContext) -> None:
        """Replace what the op does and re-derive the base compute and memory terms from it."""
        self.flops, self.moved = flops, moved
        self.compute_s = flops / ctx.vector if flops else 0.0
        self.memory_s = moved / ctx.bandwidth if moved else 0.0

    def price_matrix(self) -> None:
        """compute_s = (flops / algorithm_speedup) / (peak * efficiency), evaluated as
        flops / (peak * algorithm_speedup * efficiency): the rounding of a peak raised by the
        speedup, so Winograd convolutions' compute_s is bit-identical to that model's."""
        eff = self.efficiency
        self.compute_s = self.flops / (self.peak * self.algorithm_speedup * eff) if eff > 0 else math.inf

    def estimate(self) -> OpEstimate:
        """device_s = max(compute_s, memory_s, floor_s) + alloc_s + layout_s (0 for an op that
        moves nothing); bound by the larger term, or by the kernel floor."""
        compute_s, memory_s, floor_s = self.compute_s, self.memory_s, self.floor_s
        work = (max(compute_s, memory_s) + floor_s) if self.floor_adds else max(compute_s, memory_s, floor_s)
        device_s = work + self.alloc_s + self.layout_s if (self.moved or self.flops) else 0.0
        bound = "compute" if compute_s >= memory_s else "memory"
        if max(compute_s, memory_s) < floor_s:
            bound = "overhead"
        op = self.op
        return OpEstimate(
            name=op.name, category=op.category, phase=op.phase, count=op.count, time_s=device_s,
            compute_s=compute_s, memory_s=memory_s, overhead_s=self.host_s, bound=bound,
            efficiency=self.efficiency, unit=self.unit, alloc_s=self.alloc_s, layout_s=self.layout_s,
            dnn_library=self.dnn_library, algorithm_speedup=self.algorithm_speedup,
        )


def base_cost(op: Op, ctx: CostContext) -> OpCost:
    """The op as the profile records it, on the vector units, one dispatch and one kernel::

        compute_s = flops / (vector rate * vector_efficiency)
        memory_s  = bytes / (bandwidth * bw_efficiency)   (multi-pass kernels: READ_PASSES)
        host_s    = host_overhead_s,  floor_s = kernel_floor_s
    """
    p = ctx.p
    cost = OpCost(op=op, kind=op_kind(op), flops=0, moved=0, compute_s=0.0, memory_s=0.0,
                  host_s=p.host_overhead_s, floor_s=p.kernel_floor_s, efficiency=p.vector_efficiency,
                  peak=ctx.rates.vector_flops_per_s, floor_adds=p.floor_adds)
    cost.set_work(op.flops or 0, op.bytes_read * read_passes(op) + op.bytes_written, ctx)
    return cost


Adjustment = Callable[[OpCost, CostContext], None]
#: The adjustment rules, applied to every op in registration order (the order below).
ADJUSTMENTS: Registry[Adjustment] = Registry("roofline adjustment")


def adjustment(name: str) -> Callable[[Adjustment], Adjustment]:
    """Register ``fn(cost, ctx)``, which adjusts ``cost`` in place, as the next rule."""

    def deco(fn: Adjustment) -> Adjustment:
        ADJUSTMENTS.add(name, fn)
        return fn

    return deco


@adjustment("fused_recurrent")
def _fused_recurrent(c: OpCost, ctx: CostContext) -> None:
    """An op inside a fused kernel (a fused recurrent layer) has no dispatch and no kernel of
    its own: the fused kernel's one dispatch is its own op."""
    if c.fused:
        c.host_s = c.floor_s = 0.0


@adjustment("foreach_optimizer")
def _foreach_optimizer(c: OpCost, ctx: CostContext) -> None:
    """On accelerators the optimizer runs as foreach kernels (PyTorch's default on CUDA): one
    dispatch per op type for all parameters, each launch covering up to
    FOREACH_TENSORS_PER_LAUNCH tensors. The profile traces the per-parameter form, so spread
    one dispatch over each op type's occurrences and one kernel floor over each launch."""
    op = c.op
    if c.fused or op.phase != "optimizer" or op.name not in ctx.foreach_calls:
        return
    c.host_s = ctx.p.host_overhead_s / ctx.foreach_calls[op.name]
    c.floor_s = ctx.p.kernel_floor_s / FOREACH_TENSORS_PER_LAUNCH


@adjustment("unfused_dropout")
def _unfused_dropout(c: OpCost, ctx: CostContext) -> None:
    """Dropout as ATen runs it on CPU tensors (``unfused_dropout``): the kernels, bytes and
    FLOPs of ``UNFUSED_DROPOUT`` instead of the traced fused op's."""
    if not ctx.p.unfused_dropout or c.kind not in UNFUSED_DROPOUT:
        return
    kernels, traffic, work = UNFUSED_DROPOUT[c.kind]
    c.host_s, c.floor_s = c.host_s * kernels, c.floor_s * kernels
    moved = traffic * (c.op.bytes_read if c.kind == "native_dropout" else c.op.bytes_written)
    c.set_work(int(c.flops * work), moved, ctx)


@adjustment("scalar_kernels")
def _scalar_kernels(c: OpCost, ctx: CostContext) -> None:
    """Kernels that are scalar loops on this device (``scalar_kernels``: CPU max pooling) run
    ``scalar_kernel_slowdown`` times slower than vectorised arithmetic."""
    if c.kind in ctx.p.scalar_kernels:
        c.efficiency /= ctx.p.scalar_kernel_slowdown
        c.compute_s *= ctx.p.scalar_kernel_slowdown


#: Categories a graph compiler fuses into the producer of their input (``fuse_pointwise``):
#: pointwise arithmetic and activations. Reductions, normalisations (which reduce) and
#: data movement stay kernels of their own, as in inductor's and XLA's default schedules.
FUSIBLE = ("elementwise",)


@adjustment("compiled_pointwise")
def _compiled_pointwise(c: OpCost, ctx: CostContext) -> None:
    """Under a graph compiler (``fuse_pointwise``) an element-wise op of the forward or
    backward pass is fused into its producer's kernel: it reads nothing (its inputs are in
    registers), writes its outputs, and has no dispatch or kernel floor of its own; fused
    into its producer's epilogue (``epilogue_fusion``) it writes nothing either and reads
    only its other operands. An inference batch norm is folded into its convolution's
    weights: nothing at all."""
    op = c.op
    if (ctx.p.fuse_pointwise and ctx.inference and op.category == "norm" and "batch_norm" in op_kind(op)
            and not c.fused):
        c.host_s = c.floor_s = 0.0
        c.set_work(0.0, 0, ctx)
        return
    if not ctx.p.fuse_pointwise or op.category not in FUSIBLE or op.phase == "optimizer" or c.fused:
        return
    c.host_s = c.floor_s = 0.0
    if ctx.p.epilogue_fusion == "always" or (ctx.p.epilogue_fusion == "inference" and ctx.inference):
        # in the producer's epilogue: the chained input (the size of the output) is the
        # producer's result in registers; only the other operands come from memory
        c.set_work(c.flops, max(0, op.bytes_read - op.bytes_written), ctx)
        return
    c.set_work(c.flops, op.bytes_written, ctx)


@adjustment("matrix_work")
def _matrix_work(c: OpCost, ctx: CostContext) -> None:
    """Matrix work (matmul, convolution as implicit GEMM, attention) on the matrix units, at the
    matrix peak of its dtype (float32's if none) times the module docstring's efficiency:
    tile fill, wave quantisation and short K for GEMMs (``matrix_efficiency``); fused attention
    at ``attention_efficiency`` times its own wave quantisation. Depthwise convolutions and
    matrix-vector products (``_is_vector_matrix_op``) stay on the vector units.

    A fused recurrent kernel blocks its per-time-step products over the steps (weights
    packed once, weight gradients as one product over all steps): neither GEMM packing nor
    a short K limits them (``CostContext.blocked``), and its small per-step products still
    run on the matrix path. Convolutions and fused recurrent layers run in the DNN library.
    """
    op, rates, p = c.op, ctx.rates, ctx.p
    if op.category not in MATRIX or not c.flops:
        return
    dims = gemm_dims(op)
    peak = rates.matrix_flops_per_s.get(op.dtype) or rates.matrix_flops_per_s.get("float32")
    if dims is None or not peak or (not c.fused and _is_vector_matrix_op(dims)):
        return
    c.tensor = op.dtype != "float32" or rates.fp32_is_tensor
    if op.category == "attention":
        c.efficiency = p.attention_efficiency * attention_wave_efficiency(dims, rates.compute_units)
        if op.attrs.get("is_causal"):
            # a fused kernel skips the blocks a causal mask zeroes: about half the product
            # (FlashAttention-2, Dao 2023, section 3.1.1); the profile counts the full product
            c.algorithm_speedup = CAUSAL_SPEEDUP
    else:
        base = p.matrix_efficiency if c.tensor else p.fp32_matrix_efficiency
        c.efficiency = base * matrix_efficiency(dims, rates.compute_units, ctx.blocked if c.fused else p)
    c.unit, c.peak = "matrix", peak
    c.dnn_library = op.category == "conv" or c.fused
    c.price_matrix()


@adjustment("depthwise")
def _depthwise(c: OpCost, ctx: CostContext) -> None:
    """Depthwise convolutions (and their backward) on the vector units stream at
    ``depthwise_bandwidth_fraction`` of the datasheet bandwidth."""
    frac, peak_bw = ctx.p.depthwise_bandwidth_fraction, ctx.rates.datasheet_bandwidth_bytes_per_s
    op = c.op
    if (frac and peak_bw and c.unit == "vector" and op.category == "conv" and c.moved
            and int(op.attrs.get("groups", 1)) > 1 and _is_depthwise(op)):
        c.memory_s = c.moved / (peak_bw * frac)


def _is_depthwise(op: Op) -> bool:
    """One group per input channel (the weight's second dimension is 1)."""
    at = 2 if op_kind(op) == "convolution_backward" else 1
    w = op.input_shapes[at] if len(op.input_shapes) > at else None
    return w is not None and len(w) >= 3 and w[1] == 1


@adjustment("nchw_transposes")
def _nchw_transposes(c: OpCost, ctx: CostContext) -> None:
    """Tensor-core convolutions of NCHW activations (``nchw_transposes``): into NHWC and back,
    one more read and write of every tensor, two kernels."""
    if (ctx.p.nchw_transposes and c.unit == "matrix" and c.tensor and c.op.category == "conv"
            and c.op.attrs.get("channels_last") is False):
        c.layout_s = max(2 * c.moved / ctx.bandwidth, 2 * ctx.p.kernel_floor_s)


@adjustment("dnn_library_rate")
def _dnn_library_rate(c: OpCost, ctx: CostContext) -> None:
    """Matrix work in the DNN library (convolutions, fused recurrent layers) runs at the matrix
    rate times ``DeviceRates.conv_factor``."""
    if c.unit == "matrix" and c.dnn_library:
        c.peak *= ctx.rates.conv_factor
        c.price_matrix()


@adjustment("winograd")
def _winograd(c: OpCost, ctx: CostContext) -> None:
    """FP32 3x3 stride-1 convolutions on CUDA cores (``winograd_speedup``, ``is_winograd_conv``)
    do 1 / winograd_speedup of the arithmetic the profile counts: ``algorithm_speedup``. The
    peak and the efficiency stay those of the executed work."""
    p = ctx.p
    if (c.unit == "matrix" and c.dnn_library and not c.tensor and p.winograd_speedup != 1.0
            and is_winograd_conv(c.op)):
        c.algorithm_speedup = p.winograd_speedup
        c.price_matrix()


@adjustment("last_level_cache")
def _last_level_cache(c: OpCost, ctx: CostContext) -> None:
    """An op whose inputs and outputs fit in the last-level cache streams at the cache
    bandwidth (``DeviceRates.cache_bytes``), times ``bw_efficiency``."""
    rates = ctx.rates
    if rates.cache_bytes and c.moved <= rates.cache_bytes:
        c.memory_s = c.moved / (rates.cache_bandwidth_bytes_per_s * ctx.p.bw_efficiency)


@adjustment("planned_buffers")
def _planned_buffers(c: OpCost, ctx: CostContext) -> None:
    """Allocations (``aten.empty*``) in a graph whose buffers are planned once
    (``planned_buffers``): no dispatch, no kernel."""
    if ctx.p.planned_buffers and c.kind.startswith("empty"):
        c.host_s = c.floor_s = 0.0


@adjustment("first_touch")
def _first_touch(c: OpCost, ctx: CostContext) -> None:
    """Outputs above ``fresh_alloc_threshold_bytes`` are fresh pages from the OS, faulted and
    zeroed on first write at ``first_touch_bytes_per_s`` (``fresh_output_bytes``)."""
    p = ctx.p
    if p.fresh_alloc_threshold_bytes:
        c.alloc_s = fresh_output_bytes(c.op, p) / p.first_touch_bytes_per_s


def estimate_ops(profile: Profile, rates: DeviceRates, p: RooflineParams) -> list[OpEstimate]:
    """Per-op time estimates (per occurrence) for one device: every non-view op's
    ``base_cost``, adjusted by the rules of ``ADJUSTMENTS`` in order."""
    ctx = CostContext.build(profile, rates, p)
    rules = [fn for _, fn in ADJUSTMENTS.items()]
    out = []
    for op in profile.ops:
        if op.is_view:
            continue
        cost = base_cost(op, ctx)
        for rule in rules:
            rule(cost, ctx)
        out.append(cost.estimate())
    return out


#: Ops after which the host waits for the device within a step: GradScaler.step reads
#: ``found_inf`` with ``.item()`` after the unscale and inf check (torch/amp/grad_scaler.py,
#: ``_maybe_opt_step``), so the optimizer is issued only when the backward pass has run.
SYNC_AFTER = ("_amp_foreach_non_finite_check_and_unscale_",)


def segments(ops: list[OpEstimate]) -> list[list[OpEstimate]]:
    """The step cut at its host-device synchronisations (``SYNC_AFTER``)."""
    out: list[list[OpEstimate]] = [[]]
    for o in ops:
        out[-1].append(o)
        if any(s in o.name for s in SYNC_AFTER) and o.count > 0:
            out.append([])
    return [seg for seg in out if seg]


def segment_time(ops: list[OpEstimate]) -> float:
    """Time of a stretch of ops between synchronisations: the host issues kernels into the
    device's queue asynchronously (the CUDA stream queue is deep), so the stretch is bound
    by the device's work or the host's, whichever is longer, plus the part the other side
    cannot overlap: the device starts only once the first op is issued, and the host's last
    op still runs on the device after it is issued::

        max(first op's host time + device total, host total + last op's device time)

    Ops are aggregated (identical shapes repeated across layers, at their first occurrence),
    so the trace does not hold the order in which host-heavy and device-heavy ops interleave;
    the queue absorbs host gaps as long as the device has work queued, which this bound
    assumes (Daydream, Zhu et al., USENIX ATC 2020, simulates the full dependency when the
    order is known)."""
    live = [o for o in ops if o.count > 0]
    if not live:
        return 0.0
    device = sum(o.time_s * o.count for o in live)
    host = sum(o.overhead_s * o.count for o in live)
    return max(live[0].overhead_s + device, host + live[-1].time_s)


def step_time(ops: list[OpEstimate], p: RooflineParams) -> tuple[float, float, float, dict[str, float]]:
    """(step_s, device_busy_s, host_s, time by phase): on accelerators the host enqueues
    kernels while the device runs earlier ones (``segment_time`` per stretch between
    synchronisations, the stretches one after another); on CPUs the same cores do both, so
    the times add. ``step_overhead_s`` (a graph's or a program's launch) is paid once."""
    device = sum(o.time_s * o.count for o in ops)
    host = sum(o.overhead_s * o.count for o in ops) + p.step_overhead_s
    by_phase: dict[str, float] = {}
    first = next((o.phase for o in ops if o.count > 0), "forward")
    if p.host_overlaps_device:
        step = p.step_overhead_s
        for seg in segments(ops):
            t = segment_time(seg)
            step += t
            # the stretch's time shared over its phases by the larger of their two sides
            weights: dict[str, float] = {}
            for o in seg:
                w = weights.setdefault(o.phase, 0.0)
                weights[o.phase] = w + o.count * max(o.time_s, o.overhead_s)
            total = sum(weights.values()) or 1.0
            for phase, w in weights.items():
                by_phase[phase] = by_phase.get(phase, 0.0) + t * w / total
    else:
        step = device + host
        for o in ops:
            by_phase[o.phase] = by_phase.get(o.phase, 0.0) + (o.time_s + o.overhead_s) * o.count
    if p.step_overhead_s:
        by_phase[first] = by_phase.get(first, 0.0) + p.step_overhead_s
    return step, device, host, by_phase
