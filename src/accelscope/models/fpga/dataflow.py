"""Streaming dataflow FPGA accelerators (FINN / hls4ml style), estimated without synthesis.

One hardware stage per layer, all stages running at once on successive data (a pipeline).
A layer's parallelism is set by its *folding*:

* **FINN** (Umuroglu et al., FPGA 2017; FINN's ``MVAU``/``VVAU``): a matrix-vector unit
  (MVU) computes ``MH`` outputs from ``MW`` inputs with ``PE`` processing elements (each owns
  ``MH/PE`` outputs) of ``SIMD`` lanes (each eats ``MW/SIMD`` inputs per cycle). Validity:
  ``MH % PE == 0`` and ``MW % SIMD == 0`` (FINN "Folding Factor Constraints"); depthwise
  units (VVAU): ``channels % PE == 0`` and ``k_h*k_w % SIMD == 0``. Cycles per frame
  (FINN ``MVAU.get_exp_cycles``)::

      cycles = (MH / PE) * (MW / SIMD) * vectors

  A convolution is a sliding-window generator (SWG, FINN ``ConvolutionInputGenerator``)
  feeding an MVU with ``MW = k_h*k_w*C_in``, ``MH = C_out`` and ``vectors = H_out*W_out``.
  The SWG is a stage of its own; its cycles per frame (FINN's HLS SWG estimate)::

      swg = W_in*k_h*C_in/S + H_out * max(W_out*k_h*k_w*C_in/S, stride*W_in*C_in/S)

  (an initial buffer of ``k_h`` input rows, then one block per output row that writes the
  row's windows while reading the next ``stride`` input rows; FINN
  ``ConvolutionInputGenerator.get_exp_cycles``, the loop of finn-hlslib's ``slidingwindow.h``
  and of the 2017 BNN-PYNQ release), with ``S`` its SIMD (a divisor of ``C_in``, as large as
  the MVU's SIMD allows).
* **hls4ml** (Duarte et al., JINST 2018): a layer with ``n_in`` inputs and ``n_out`` outputs
  and reuse factor ``R`` uses ``ceil(n_in*n_out/R)`` multipliers, each used ``R`` times, and
  accepts a new input every ``R`` cycles (II = R). Valid reuse factors are hls4ml's own
  rule (:func:`is_valid_reuse_factor`).

Per stage the model returns cycles (= initiation interval per frame), latency, multipliers,
DSP, LUT, BRAM and URAM (formulas in :mod:`accelscope.models.fpga.resources`).

Network: ``throughput = clock / max(stage cycles)`` (the slowest stage paces the pipeline).

**Latency** follows one frame through the stages as FINN's streaming units process it, per
output unit (a row of a feature map, or one vector of a dense layer), from the time each
unit's first and last element leave the producer:

* *Compute unit* (FINN's matrix-vector-threshold unit, FINN paper section 4.3, and the loop
  of its HLS library ``StreamingMatrixVector_Batch``/``Matrix_Vector_Activate_Batch``): per
  output vector it reads the ``SF = MW/SIMD`` input words of its first fold *as they
  arrive*, emits that fold's ``PE`` results, then runs the ``NF - 1 = MH/PE - 1`` other folds
  from its input buffer, ``SF`` cycles each. The vector's last result is therefore ready at
  ``max(last input + (NF-1)*SF, first input + NF*SF - 1) + depth``, and no earlier than
  ``NF*SF`` after the previous vector's; its first result at ``max(last input, first input +
  SF - 1) + depth`` for a dense layer (every output needs the whole input vector).
* *Sliding-window generator* (FINN HLS SWG, same loop as the cycle formula above): it reads
  input rows one word per cycle, needs ``k_h`` buffered rows before the first window, and
  writes each output row's windows in one block of ``max(write, read)`` cycles that starts
  once the ``k_h`` rows that row needs are in; the convolution's compute unit then treats
  each window as an input vector.
* *Pooling*: output row ``r`` follows the read of its last input row.
* Each stream hop between stages costs ``HOP_CYCLES``; FINN adds a data-width converter
  (``DWC_CYCLES``) where a producer's output word (``PE`` results) and the consumer's input
  word (``SIMD`` elements) differ in width. ``depth`` is the unit's arithmetic pipeline.

Throughput follows FINN's own cycle estimates (``get_exp_cycles``); the latency structure is
FINN-R's view of a dataflow design (Blott et al., ACM TRETS 2018: per-layer compute units
joined by streams, throughput set by the slowest layer) applied at the granularity above.
For a chain of dense layers with ``NF = 1`` this is the sum of the stages plus their
pipeline fill; with ``NF > 1`` a layer's first fold overlaps the arrival of its input.
The whole input frame is taken to be ready at cycle 0 (input DMA not modelled).

Assumptions (each an estimate, not synthesis):

* pipeline depth of an MVU/hls4ml dense unit = 1 multiply stage + the adder tree at
  ``ADDER_LEVELS_PER_CYCLE`` levels per cycle + 1 accumulate stage (+ 1 threshold stage in
  FINN); a binarised MVU has no multiply stage (its XNOR sits in the popcount's first LUT
  level, FINN paper section 4.2);
* activations, batch norm and quantisation are fused into the unit's thresholds (FINN) or
  cost one cycle (hls4ml); pooling is a stage of ``H_in*W_in*C/PE`` cycles;
* weights live on chip (FINN ``internal_decoupled``/hls4ml io_parallel) and do not limit
  throughput; FIFOs between stages are not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

from accelscope.errors import ConfigError
from accelscope.models.fpga import resources as R

LAYER_KINDS = ("dense", "conv", "depthwise", "pool", "eltwise")
#: kinds a dataflow (FINN / hls4ml) design is built from; ``eltwise`` (an element-wise add or
#: multiply of two feature maps) is an overlay processor's layer only
DATAFLOW_KINDS = ("dense", "conv", "depthwise", "pool")
FRAMEWORKS = ("finn", "hls4ml")
#: Adder-tree levels per clock cycle (two LUT-level adders fit a 5 ns cycle on UltraScale+
#: and 7 series at 200 MHz); an assumption of this model.
ADDER_LEVELS_PER_CYCLE = 2
#: Vivado HLS refuses to unroll more than 4,096 multiplications in one loop (hls4ml issue
#: #1013; recorded in the project's FPGA reference data).
HLS4ML_MAX_UNROLL = 4096
#: Widest output activation implemented with thresholds (2^A - 1 comparisons); FINN's
#: thresholding is used for low-precision activations, wider ones are requantised.
MAX_THRESHOLD_BITS = 4
#: Cycles a word spends in the stream FIFO between two dataflow stages (written in one cycle,
#: read in the next: FINN's and hls4ml's stages are separate processes joined by FIFOs).
HOP_CYCLES = 1
#: Extra cycles of a data-width converter, which FINN inserts where a producer's output word
#: (PE results) and a consumer's input word (SIMD elements) differ in width.
DWC_CYCLES = 1


# --------------------------------------------------------------------------------------
# Layers and folding
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerSpec:
    """One layer of a dataflow design.

    ``dense``: ``in_ch`` inputs -> ``out_ch`` outputs, applied to ``vectors`` vectors per
    frame (tokens, or 1). ``conv``: ``k_h x k_w`` kernel over ``in_hw`` with ``stride``,
    giving ``out_hw``. ``depthwise``: one ``k_h x k_w`` filter per channel
    (``in_ch == out_ch``). ``pool``: ``k_h x k_w`` max/avg pooling. ``eltwise``: two
    ``in_hw`` x ``in_ch`` feature maps combined element by element (a residual add), overlays only.
    """

    name: str
    kind: str
    in_ch: int
    out_ch: int
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    in_hw: tuple[int, int] = (1, 1)
    out_hw: tuple[int, int] = (1, 1)
    vectors: int = 1

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise ConfigError(f"layer {self.name!r}: kind {self.kind!r} is not one of {LAYER_KINDS}")
        for key in ("in_ch", "out_ch", "vectors"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"layer {self.name!r}: {key} must be >= 1, got {getattr(self, key)}")
        if self.kind in ("depthwise", "pool", "eltwise") and self.in_ch != self.out_ch:
            raise ConfigError(f"layer {self.name!r}: a {self.kind} layer keeps its channels "
                              f"(in_ch {self.in_ch} != out_ch {self.out_ch})")

    @property
    def k2(self) -> int:
        return self.kernel[0] * self.kernel[1]

    @property
    def mw(self) -> int:
        """Matrix width: inputs per output (FINN ``MW``); per channel for depthwise."""
        if self.kind == "conv":
            return self.in_ch * self.k2
        if self.kind in ("depthwise", "pool"):
            return self.k2
        return self.in_ch

    @property
    def mh(self) -> int:
        """Matrix height: outputs per output pixel/vector (FINN ``MH``)."""
        return self.out_ch

    @property
    def out_pixels(self) -> int:
        """Output vectors per frame (pixels of a feature map, or ``vectors``)."""
        if self.kind == "dense":
            return self.vectors
        return self.out_hw[0] * self.out_hw[1]

    @property
    def in_pixels(self) -> int:
        if self.kind == "dense":
            return self.vectors
        return self.in_hw[0] * self.in_hw[1]

    @property
    def macs(self) -> int:
        """Multiply-accumulates per frame (one MAC = 2 ops)."""
        if self.kind in ("pool", "eltwise"):
            return 0
        if self.kind == "depthwise":
            return self.out_pixels * self.out_ch * self.k2
        return self.out_pixels * self.mw * self.mh

    @property
    def weights(self) -> int:
        if self.kind in ("pool", "eltwise"):
            return 0
        if self.kind == "depthwise":
            return self.out_ch * self.k2
        return self.mw * self.mh

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "in_ch": self.in_ch, "out_ch": self.out_ch,
                "kernel": list(self.kernel), "stride": list(self.stride), "in_hw": list(self.in_hw),
                "out_hw": list(self.out_hw), "vectors": self.vectors}


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerFold:
    """Parallelism of one layer: FINN ``pe``/``simd`` or hls4ml ``reuse_factor``."""

    pe: int = 1
    simd: int = 1
    reuse_factor: int | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.reuse_factor is not None:
            return {"reuse_factor": self.reuse_factor}
        return {"pe": self.pe, "simd": self.simd}


@dataclass(frozen=True, slots=True, kw_only=True)
class DesignOptions:
    """Design-wide settings: bit widths, multiplier and memory styles, clock.

    ``w_bits``/``a_bits``: weight and activation bits (1/1 is a binarised network with
    XNOR-popcount). ``resource_type``: ``dsp``, ``lut`` or ``auto``; ``mem_style``:
    ``block`` (BRAM), ``ultra`` (URAM), ``distributed`` (LUTRAM) or ``auto``.
    ``first_layer_a_bits`` overrides the activation bits of the first layer's input (image
    pixels are usually 8 bit even in binarised networks).
    """

    framework: str = "finn"
    w_bits: int = 8
    a_bits: int = 8
    first_layer_a_bits: int | None = None
    resource_type: str = "auto"
    mem_style: str = "auto"
    clock_hz: float = 200e6

    def __post_init__(self) -> None:
        if self.framework not in FRAMEWORKS:
            raise ConfigError(f"framework {self.framework!r} is not one of {FRAMEWORKS}")
        for key in ("w_bits", "a_bits"):
            v = getattr(self, key)
            if not 1 <= v <= 32:
                raise ConfigError(f"{key} must be 1..32 bits, got {v}")
        if self.clock_hz <= 0:
            raise ConfigError(f"clock_hz must be positive, got {self.clock_hz}")
        R.resolve_resource_type(self.resource_type, 8, 8)
        R.resolve_mem_style(self.mem_style, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"framework": self.framework, "w_bits": self.w_bits, "a_bits": self.a_bits,
                "first_layer_a_bits": self.first_layer_a_bits, "resource_type": self.resource_type,
                "mem_style": self.mem_style, "clock_hz": self.clock_hz}


def divisors(n: int) -> list[int]:
    """Sorted divisors of ``n``."""
    small = [d for d in range(1, int(math.isqrt(n)) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def simd_limit(layer: LayerSpec) -> int:
    """The quantity ``SIMD`` must divide: ``MW`` (MVU) or ``k_h*k_w`` (depthwise); 1 for pool."""
    return 1 if layer.kind == "pool" else layer.mw


def check_fold(layer: LayerSpec, fold: LayerFold) -> None:
    """Raise ConfigError unless ``fold`` is valid for ``layer`` (FINN rules / hls4ml rule)."""
    if fold.reuse_factor is not None:
        rf = fold.reuse_factor
        n_in, n_out = hls4ml_dims(layer)
        if rf < 1 or not is_valid_reuse_factor(n_in, n_out, rf):
            near = closest_reuse_factor(n_in, n_out, max(rf, 1))
            raise ConfigError(
                f"layer {layer.name!r}: reuse factor {rf} is not valid for n_in={n_in}, "
                f"n_out={n_out} (hls4ml requires it to divide n_in*n_out and to be a multiple of "
                f"n_in or leave whole outputs per multiplier); the closest valid one is {near}")
        return
    if fold.pe < 1 or layer.out_ch % fold.pe:
        raise ConfigError(
            f"layer {layer.name!r}: PE={fold.pe} must divide {layer.out_ch} "
            f"({'channels' if layer.kind in ('depthwise', 'pool') else 'MH, the outputs'}); "
            f"valid PE: {_short(divisors(layer.out_ch))}")
    lim = simd_limit(layer)
    if fold.simd < 1 or lim % fold.simd:
        what = "k_h*k_w" if layer.kind == "depthwise" else "MW = inputs x kernel"
        raise ConfigError(f"layer {layer.name!r}: SIMD={fold.simd} must divide {lim} ({what}); "
                          f"valid SIMD: {_short(divisors(lim))}")


def _short(xs: list[int], n: int = 12) -> str:
    return ", ".join(map(str, xs)) if len(xs) <= n else ", ".join(map(str, xs[:n])) + ", ..."


# --------------------------------------------------------------------------------------
# hls4ml reuse factors
# --------------------------------------------------------------------------------------


def hls4ml_dims(layer: LayerSpec) -> tuple[int, int]:
    """(n_in, n_out) of the dense product hls4ml builds for a layer (per output pixel)."""
    if layer.kind == "depthwise":
        return layer.k2 * layer.in_ch, layer.out_ch
    if layer.kind == "pool":
        return layer.k2, 1
    return layer.mw, layer.mh


def is_valid_reuse_factor(n_in: int, n_out: int, rf: int) -> bool:
    """hls4ml's rule (``FPGABackend._validate_reuse_factor``)::

        multfactor = min(n_in, rf)
        multiplier_limit = ceil(n_in * n_out / multfactor)
        valid = (multiplier_limit % n_out == 0 or rf >= n_in)
                and (rf % n_in == 0 or rf < n_in)
                and (n_in * n_out) % rf == 0
    """
    if rf < 1:
        return False
    multfactor = min(n_in, rf)
    multiplier_limit = math.ceil(n_in * n_out / multfactor)
    ok = (multiplier_limit % n_out == 0) or rf >= n_in
    ok = ok and (rf % n_in == 0 or rf < n_in)
    return ok and (n_in * n_out) % rf == 0


def valid_reuse_factors(n_in: int, n_out: int) -> list[int]:
    """All valid reuse factors (hls4ml ``get_valid_reuse_factors``): 1 .. n_in*n_out."""
    return [rf for rf in divisors(n_in * n_out) if is_valid_reuse_factor(n_in, n_out, rf)]


def closest_reuse_factor(n_in: int, n_out: int, rf: int) -> int:
    """The valid reuse factor closest to ``rf`` (ties: the smaller), as hls4ml picks one."""
    valid = valid_reuse_factors(n_in, n_out)
    return min(valid, key=lambda v: (abs(v - rf), v))


# --------------------------------------------------------------------------------------
# Per-layer cost
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerResult:
    """Cost of one layer: cycles per frame, latency terms and resources.

    ``cycles`` is the stage's initiation interval per frame (the slower of its SWG and its
    compute unit); ``compute_cycles``/``swg_cycles`` separate them. ``depth_cycles`` is the
    pipeline depth; ``first_out_cycles`` and ``done_cycles`` are filled by the network
    recursion (time from the frame's start to this stage's first and last output).
    """

    layer: LayerSpec
    fold: LayerFold
    cycles: int
    compute_cycles: int
    swg_cycles: int
    depth_cycles: int
    resources: R.Resources
    resource_type: str
    mem_style: str
    w_bits: int
    a_bits: int
    first_out_cycles: float = 0.0
    done_cycles: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def bound(self) -> str:
        return "swg" if self.swg_cycles > self.compute_cycles else "compute"

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer.to_dict(), "fold": self.fold.to_dict(), "cycles": self.cycles,
                "compute_cycles": self.compute_cycles, "swg_cycles": self.swg_cycles,
                "depth_cycles": self.depth_cycles, "first_out_cycles": self.first_out_cycles,
                "done_cycles": self.done_cycles, "bound": self.bound,
                "resources": self.resources.to_dict(), "resource_type": self.resource_type,
                "mem_style": self.mem_style, "w_bits": self.w_bits, "a_bits": self.a_bits,
                "notes": list(self.notes)}


def swg_simd(layer: LayerSpec, mvu_simd: int) -> int:
    """SIMD of a convolution's sliding-window generator: the largest divisor of ``C_in`` not
    above the MVU's SIMD (FINN requires ``C_in % SIMD == 0`` for the SWG)."""
    return max(d for d in divisors(layer.in_ch) if d <= max(mvu_simd, 1))


def swg_cycles(layer: LayerSpec, simd: int) -> int:
    """Cycles per frame of a sliding-window generator (FINN HLS SWG estimate, module doc):
    ``k_h`` buffered input rows, then ``H_out`` blocks of ``max(write, read)`` cycles."""
    (_, iw), (oh, _) = layer.in_hw, layer.out_hw
    write_block, read_block = _swg_blocks(layer, simd)
    return iw * layer.kernel[0] * (layer.in_ch // simd) + oh * max(write_block, read_block)


def _swg_blocks(layer: LayerSpec, simd: int) -> tuple[int, int]:
    """(cycles to write one output row of windows, cycles to read ``stride`` input rows)."""
    per_ch = layer.in_ch // simd
    write_block = layer.out_hw[1] * layer.kernel[0] * layer.kernel[1] * per_ch
    read_block = layer.stride[1] * layer.in_hw[1] * per_ch
    return write_block, read_block


def adder_depth(fan_in: int) -> int:
    """Pipeline depth of a multiply + adder tree + accumulate unit (module assumptions)."""
    levels = math.ceil(math.log2(fan_in)) if fan_in > 1 else 0
    return 1 + math.ceil(levels / ADDER_LEVELS_PER_CYCLE) + 1


def layer_cost(layer: LayerSpec, fold: LayerFold, opts: DesignOptions, *,
               a_bits: int | None = None) -> LayerResult:
    """Cycles, latency terms and resources of one layer under ``fold``."""
    check_fold(layer, fold)
    w, a = opts.w_bits, a_bits if a_bits is not None else opts.a_bits
    notes: list[str] = []
    if layer.kind == "pool":
        return _pool_cost(layer, fold, a)
    rtype = R.resolve_resource_type(opts.resource_type, w, a)
    if fold.reuse_factor is not None:
        n_in, n_out = hls4ml_dims(layer)
        rf = fold.reuse_factor
        mults = math.ceil(n_in * n_out / rf)
        per_px = rf
        fan_in = math.ceil(n_in / rf) if rf < n_in else 1
        depth = adder_depth(n_in) if rf == 1 else adder_depth(fan_in) + 1
        if rf == 1 and mults > HLS4ML_MAX_UNROLL:
            notes.append(f"{mults} multiplications fully unrolled: Vivado HLS stops at "
                         f"{HLS4ML_MAX_UNROLL} (hls4ml issue #1013); raise the reuse factor")
        # Latency strategy keeps the weights as constants in the fabric (RF = 1); the
        # Resource strategy reads them from a memory RF words deep.
        mem_depth, mem_width = (0, 0) if rf == 1 else (rf, mults * w)
        pe, simd = (n_out, max(1, mults // n_out)) if mults >= n_out else (1, mults)
    else:
        pe, simd = fold.pe, fold.simd
        mults = pe * simd
        if layer.kind == "depthwise":
            per_px = (layer.out_ch // pe) * (layer.k2 // simd)
            mem_depth = layer.out_ch * layer.k2 // mults
        else:
            per_px = (layer.mh // pe) * (layer.mw // simd)
            mem_depth = layer.mw * layer.mh // mults
        mem_width = mults * w
        # + threshold (activation) stage; a binarised MVU has no multiply stage: the XNOR is
        # absorbed into the first LUT level of its popcount (FINN paper, section 4.2)
        depth = adder_depth(simd) + 1 - (1 if w == 1 and a == 1 else 0)
    compute = per_px * layer.out_pixels
    mstyle = R.resolve_mem_style(opts.mem_style, mem_depth) if mem_depth else "none"

    # Resources of the compute unit: FINN-R LUT model (resources.py), per PE of SIMD lanes.
    acc = R.accumulator_bits(layer.mw, w, a)
    mult_luts = R.lut_per_multiplier(w, a) if rtype == "lut" else 0
    lanes = simd if fold.reuse_factor is None else max(1, mults // max(pe, 1))
    tree_luts = (w + a) * (2 * lanes - 1)
    # Output activation: FINN multi-thresholding (2^A - 1 thresholds of acc bits per output,
    # in LUTRAM, plus as many comparators; FINN-R) up to MAX_THRESHOLD_BITS; wider outputs
    # (and hls4ml) requantise with one shift-and-round of acc bits per PE instead.
    tmem = math.ceil(layer.mh / max(pe, 1))
    if opts.framework == "finn" and opts.a_bits <= MAX_THRESHOLD_BITS:
        thr_levels = 2 ** opts.a_bits - 1
        thr_luts = thr_levels * acc * math.ceil(tmem / 64) + thr_levels * acc
    else:
        thr_luts = 2 * acc
    lut = R.FINN_LUT_C0 + R.FINN_LUT_C1 * pe * (lanes * mult_luts + tree_luts + acc + thr_luts)
    dsp = mults * R.dsp_per_multiplier(w, a) if rtype == "dsp" else 0
    bram18 = uram = 0
    if mstyle == "block":
        bram18 = R.bram18(mem_depth, mem_width)
    elif mstyle == "ultra":
        uram = R.uram(mem_depth, mem_width)
    elif mstyle == "distributed":
        lut += R.lutram_luts(mem_depth, mem_width)

    swg = 0
    if layer.kind in ("conv", "depthwise") and (layer.k2 > 1 or layer.stride != (1, 1)):
        s = swg_simd(layer, simd if layer.kind == "conv" else pe)
        swg = swg_cycles(layer, s)
        # line buffer: k_h rows of the input, S channels wide (FINN SWG 'block' buffer)
        buf_depth = layer.kernel[0] * layer.in_hw[1] * layer.in_ch // s
        bram18 += R.bram18(buf_depth, s * a) if buf_depth * s * a > 1024 else 0
        lut += R.FINN_LUT_C0
    res = R.Resources(lut=lut, dsp=dsp, bram18=bram18, uram=uram, multipliers=mults)
    return LayerResult(layer=layer, fold=fold, cycles=max(compute, swg), compute_cycles=compute,
                       swg_cycles=swg, depth_cycles=depth, resources=res, resource_type=rtype, mem_style=mstyle,
                       w_bits=w, a_bits=a, notes=tuple(notes))


def _pool_cost(layer: LayerSpec, fold: LayerFold, a: int) -> LayerResult:
    pe = fold.pe if fold.reuse_factor is None else layer.in_ch
    cycles = layer.in_pixels * (layer.in_ch // pe)
    lut = R.FINN_LUT_C0 + R.FINN_LUT_C1 * pe * a * 2
    return LayerResult(layer=layer, fold=fold, cycles=cycles, compute_cycles=cycles, swg_cycles=0,
                       depth_cycles=1, resources=R.Resources(lut=lut), resource_type="lut", mem_style="none",
                       w_bits=0, a_bits=a)


# --------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DataflowResult:
    """A whole pipelined design: per-layer results, throughput, latency, resources."""

    layers: tuple[LayerResult, ...]
    options: DesignOptions
    ii_cycles: int
    latency_cycles: float
    bottleneck: str

    @property
    def clock_hz(self) -> float:
        return self.options.clock_hz

    @property
    def throughput_fps(self) -> float:
        return self.clock_hz / self.ii_cycles

    @property
    def latency_s(self) -> float:
        return self.latency_cycles / self.clock_hz

    @property
    def resources(self) -> R.Resources:
        total = R.Resources()
        for lr in self.layers:
            total = total + lr.resources
        return total

    @property
    def macs(self) -> int:
        return sum(lr.layer.macs for lr in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {"options": self.options.to_dict(), "ii_cycles": self.ii_cycles,
                "latency_cycles": self.latency_cycles, "throughput_fps": self.throughput_fps,
                "latency_s": self.latency_s, "bottleneck": self.bottleneck, "macs": self.macs,
                "resources": self.resources.to_dict(), "layers": [lr.to_dict() for lr in self.layers]}


def default_fold(layer: LayerSpec, framework: str) -> LayerFold:
    """Fully folded: PE = SIMD = 1 (FINN), or the largest valid reuse factor (hls4ml)."""
    if framework == "hls4ml":
        n_in, n_out = hls4ml_dims(layer)
        return LayerFold(reuse_factor=valid_reuse_factors(n_in, n_out)[-1])
    return LayerFold()


def dataflow(layers: Sequence[LayerSpec], folds: Sequence[LayerFold] | None,
             opts: DesignOptions) -> DataflowResult:
    """Cost every layer and run the streaming latency recursion (module docstring)."""
    if not layers:
        raise ConfigError("no layers to map: the model has no dense/conv/depthwise/pool layers "
                          "a dataflow design could implement")
    other = [l.name for l in layers if l.kind not in DATAFLOW_KINDS]
    if other:
        raise ConfigError(f"layers {', '.join(other[:3])}: element-wise layers are an overlay processor's "
                          "(--style overlay); a dataflow design takes dense, conv, depthwise and pool layers")
    folds = list(folds) if folds is not None else [default_fold(l, opts.framework) for l in layers]
    if len(folds) != len(layers):
        raise ConfigError(f"{len(folds)} folding entries for {len(layers)} layers; give one per layer")
    results = []
    for i, (layer, fold) in enumerate(zip(layers, folds)):
        a = opts.first_layer_a_bits if i == 0 and opts.first_layer_a_bits else None
        results.append(layer_cost(layer, fold, opts, a_bits=a))
    return network(results, opts)


def _folds(lr: LayerResult) -> tuple[int, int]:
    """(NF, SF) of a layer's compute unit: neuron folds per output vector and cycles per fold.

    FINN MVU: ``NF = MH/PE`` output words of ``PE`` results, each after ``SF = MW/SIMD``
    cycles (depthwise: ``C/PE`` and ``k_h*k_w/SIMD``); hls4ml: one fold of ``R`` cycles."""
    lay, f = lr.layer, lr.fold
    if f.reuse_factor is not None:
        return 1, f.reuse_factor
    if lay.kind == "depthwise":
        return lay.out_ch // f.pe, lay.k2 // f.simd
    return lay.mh // f.pe, lay.mw // f.simd


def _in_units(lay: LayerSpec) -> int:
    return lay.vectors if lay.kind == "dense" else lay.in_hw[0]


def _out_units(lay: LayerSpec) -> int:
    return lay.vectors if lay.kind == "dense" else lay.out_hw[0]


def _span(first: list[float], last: list[float], lo: int, hi: int, q: int) -> tuple[float, float]:
    """Arrival (first element, last element) of a consumer's input units ``lo..hi`` out of
    ``q``, mapped proportionally onto the producer's units (flatten, padding)."""
    p = len(first)
    a = min(p - 1, (lo * p) // q)
    b = min(p - 1, max(a, -(-(hi + 1) * p // q) - 1))
    return first[a], last[b]


def _stage_times(lr: LayerResult, first: list[float], last: list[float], hop: int
                 ) -> tuple[list[float], list[float]]:
    """Streaming recursion of one layer (module docstring, "Latency"): for each output unit
    (a row of the feature map, or a vector) the time of its first and its last element,
    given the same for the producer's units."""
    lay, depth = lr.layer, lr.depth_cycles
    q, n_out = _in_units(lay), _out_units(lay)
    out_first: list[float] = []
    out_last: list[float] = []
    if lay.kind == "pool":
        cf = lay.in_ch // (lr.fold.pe if lr.fold.reuse_factor is None else lay.in_ch)
        rd_row, read = lay.in_hw[1] * cf, []
        for k in range(q):  # the pool reads its input one (folded) pixel per cycle
            a0, a1 = _span(first, last, k, k, q)
            read.append(max(a1 + hop, a0 + hop + rd_row - 1, (read[-1] + rd_row) if read else 0))
        for r in range(n_out):
            n = min(q - 1, r * lay.stride[0] + lay.kernel[0] - 1)
            out_last.append(read[n] + depth)
            out_first.append(read[n] - rd_row + lay.kernel[1] * cf + depth)
        return out_first, out_last

    nf, sf = _folds(lr)
    per_px = nf * sf
    # 1. Sliding-window generator (FINN HLS SWG): reads input rows one word per cycle,
    #    buffers k_h rows, then writes each output row's windows in one block of
    #    max(write, read) cycles, which starts once the rows it needs are buffered.
    if lr.swg_cycles:
        s = swg_simd(lay, lr.fold.simd if lay.kind == "conv" else lr.fold.pe)
        write, read_blk = _swg_blocks(lay, s)
        block, rd_row = max(write, read_blk), lay.in_hw[1] * (lay.in_ch // s)
        read: list[float] = []
        for k in range(q):
            a0, a1 = _span(first, last, k, k, q)
            read.append(max(a1 + hop, a0 + hop + rd_row - 1, (read[-1] + rd_row) if read else 0))
        win_first, win_last, end = [], [], 0.0
        for r in range(n_out):
            n = min(q - 1, r * lay.stride[0] + lay.kernel[0] - 1)
            begin = max(end, read[n])
            end = begin + block
            win_first.append(begin + 1)
            win_last.append(begin + write)
        mvu_in = lr.fold.simd if lay.kind == "conv" else lr.fold.pe
        first, last, q = win_first, win_last, n_out  # the compute unit reads the windows
        hop = HOP_CYCLES + (DWC_CYCLES if s != mvu_in and lr.fold.reuse_factor is None else 0)
    # 2. Compute unit (FINN MVU / VVU, hls4ml dense): per output vector it reads the SF
    #    input words of its first fold as they arrive, emits that fold's PE results, then
    #    NF - 1 more folds of SF cycles each (FINN's MVAU loop; FINN paper section 4.3).
    px = 1 if lay.kind == "dense" else lay.out_hw[1]
    row = px * per_px
    prev = -math.inf
    for u in range(n_out):
        lo, hi = (u * q) // n_out, max((u * q) // n_out, -(-(u + 1) * q // n_out) - 1)
        a0, a1 = _span(first, last, lo, hi, q)
        if lay.kind == "dense":
            done = max(a1 + hop + (nf - 1) * sf, a0 + hop + row - 1) + depth
            head = max(a1 + hop, a0 + hop + sf - 1) + depth
        else:  # the last window of the row arrives at a1; the first at a0
            done = max(a1 + hop + (nf - 1) * sf, a0 + hop + row - 1) + depth
            head = a0 + hop + sf - 1 + depth
        done = max(done, prev + row)
        head = min(done, max(head, prev + sf))
        out_first.append(head)
        out_last.append(done)
        prev = done
    return out_first, out_last


def network(results: Iterable[LayerResult], opts: DesignOptions) -> DataflowResult:
    """Throughput (slowest stage) and streaming latency (module docstring) of costed layers."""
    results = list(results)
    hop = HOP_CYCLES
    n0 = _in_units(results[0].layer)
    first, last = [0.0] * n0, [0.0] * n0  # the whole input frame is ready at cycle 0
    timed: list[LayerResult] = []
    prev_width = None
    for lr in results:
        width = _in_width(lr)
        extra = DWC_CYCLES if (opts.framework == "finn" and prev_width is not None
                               and width != prev_width) else 0
        first, last = _stage_times(lr, first, last, hop + extra)
        timed.append(replace(lr, first_out_cycles=first[0], done_cycles=last[-1]))
        prev_width = _out_width(lr)
    slow = max(timed, key=lambda x: x.cycles)
    what = "sliding-window generator" if slow.bound == "swg" else "compute unit"
    return DataflowResult(layers=tuple(timed), options=opts, ii_cycles=slow.cycles,
                          latency_cycles=timed[-1].done_cycles,
                          bottleneck=f"{slow.layer.name} ({what}, {slow.cycles} cycles/frame)")


def _in_width(lr: LayerResult) -> int:
    """Elements per input word of a stage (FINN stream width, for data-width converters)."""
    lay, f = lr.layer, lr.fold
    if f.reuse_factor is not None:
        return lay.in_ch
    if lay.kind == "pool":
        return f.pe
    if lr.swg_cycles:
        return swg_simd(lay, f.simd if lay.kind == "conv" else f.pe)
    return f.pe if lay.kind == "depthwise" else f.simd


def _out_width(lr: LayerResult) -> int:
    """Elements per output word: PE results of an MVU/VVU fold, PE channels of a pool."""
    return lr.layer.out_ch if lr.fold.reuse_factor is not None else lr.fold.pe
