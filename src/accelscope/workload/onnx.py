"""ONNX frontend: an ``.onnx`` file's graph -> the same Ops and Profile a PyTorch trace gives.

Shapes come from onnx's own shape inference with data propagation (``infer_shapes(...,
data_prop=True)``), after the graph's symbolic input dimensions are bound: by ``--dim
NAME=VALUE`` (``WorkloadSpec.dims``) first, then the leading dimension of every input to the
batch size, the second dimension of an integer (token id) input, or a dimension named like a
sequence (``seq``, ``sequence_length``, ...), to ``--seq-len``, and a dimension named like a
height or width to ``--image-size``. A dimension still unbound is refused, by name.

Each node becomes one :class:`~accelscope.workload.profile.Op` by the rules below. Nodes that
a performance model prices as a particular kernel are recorded under that kernel's aten name
(MatMul -> ``aten.mm`` / ``aten.bmm``, Conv -> ``aten.convolution``, ...; the node's op type is
kept in ``attrs["onnx"]``), so every model prices an ONNX graph as it prices a PyTorch trace;
every other node is ``onnx.<OpType>``. Conventions as ``workload.profile``: a multiply-add is
2 FLOPs, bytes are every input read once and every output written once.

* **MatMul** ``[..., M, K] x [..., K, N]``: ``2 M K N`` per broadcast batch; with a 2-D
  (weight) operand it is one product of ``(batch x M, K) x (K, N)`` (``aten.mm``, as PyTorch
  runs ``nn.Linear``), else a batched product (``aten.bmm``); a bias Add after it is part of
  the product (``aten.addmm``, as runtimes fuse it). **Gemm**: ``2 M K N`` (the ``C`` term
  uncounted, as ``torch.utils.flop_counter`` counts addmm). **Conv**: ``2 x N x C_out x out pixels x C_in / groups x kernel area``, plus the
  bias; **ConvTranspose**: ``2 x N x C_in x input pixels x C_out / groups x kernel area``.
* **Attention**: a MatMul of two activations whose result reaches a Softmax (through scale,
  mask and cast nodes) and whose Softmax output is multiplied by a third activation is one
  fused attention op (``4 x batch x heads x S x T x D``, PyTorch's scaled-dot-product
  count), as ONNX Runtime's and TensorRT's attention fusions run it; the scale, mask and
  softmax nodes are absorbed (causal when the mask derives from a Trilu). Opset 23's
  ``Attention`` node is counted the same way.
* Norms (LayerNormalization and GroupNormalization 8 FLOPs an element, BatchNormalization
  and InstanceNormalization 4, RMSNormalization 4), Softmax 5, element-wise ops 1 an output
  element (Gelu 8, Sigmoid 3, HardSwish 4, ...: ``rules.POINTWISE_COST``), reductions and
  pooling 1 per element read (a window element per output), Resize 4 per output element
  (bilinear; nearest 0), Gather / Scatter / Concat / Slice / Pad / Transpose / Expand / Tile
  move data (0 FLOPs); a Gather from a weight is an embedding lookup.
* Reshape, Squeeze, Unsqueeze, Flatten, Identity, Dropout (inference), and a Transpose
  every consumer of which is a matrix product (a GEMM reads a transposed operand in place)
  are views: 0 bytes, as PyTorch's views.
* Constant subgraphs (nodes whose inputs are all initializers, Constants or shapes known
  statically) are folded, as ONNX Runtime folds them when a session starts, and not counted.
* Any other node has ``flops = None`` and is named in ``uncovered_ops``; its bytes count.

Parameters are the floating-point initializers of more than one element (weights, biases,
and buffers such as batch norm statistics; a scalar is a constant of a formula). A graph is an inference pass: a training step needs the PyTorch model.
Precision: the graph's own float type; ``fp16`` / ``bf16`` (and ``amp-*``, which an ONNX
graph cannot autocast) count its float tensors at 2 bytes, as a graph converted to that type.
External-data files beside the model are read for small tensors only (shape constants); the
weights' sizes come from their declared shapes.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from accelscope.errors import ConfigError, WorkloadError
from accelscope.workload.profile import Op, Profile
from accelscope.workload.spec import WorkloadSpec

#: external-data tensors loaded for data propagation (shape constants); larger ones are weights
SMALL_EXTERNAL_BYTES = 64 * 1024
BATCH_NAMES = frozenset({"batch", "batch_size", "batchsize", "n", "b", "bs", "batch_dim"})
SEQ_NAMES = frozenset({"seq", "seq_len", "seqlen", "sequence", "sequence_length", "seq_length", "s", "t",
                       "tokens", "num_tokens", "length", "len"})
IMAGE_NAMES = frozenset({"height", "width", "h", "w", "image_size", "size"})

#: bytes per element of onnx's TensorProto element types (by name)
_ELEM_BYTES = {"FLOAT": 4, "UINT8": 1, "INT8": 1, "UINT16": 2, "INT16": 2, "INT32": 4, "INT64": 8, "BOOL": 1,
               "FLOAT16": 2, "DOUBLE": 8, "UINT32": 4, "UINT64": 8, "BFLOAT16": 2, "FLOAT8E4M3FN": 1,
               "FLOAT8E4M3FNUZ": 1, "FLOAT8E5M2": 1, "FLOAT8E5M2FNUZ": 1, "UINT4": 0.5, "INT4": 0.5,
               "FLOAT4E2M1": 0.5, "COMPLEX64": 8, "COMPLEX128": 16, "STRING": 0}
_FLOATS = {"FLOAT": "float32", "FLOAT16": "float16", "BFLOAT16": "bfloat16", "DOUBLE": "float64"}
_GRAPH_PRECISION = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
#: the float dtype a requested precision counts an fp32 graph's float tensors in
_PRECISION_DTYPE = {"fp32": "float32", "tf32": "float32", "fp16": "float16", "bf16": "bfloat16",
                    "amp-fp16": "float16", "amp-bf16": "bfloat16"}

VIEWS = frozenset({"Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Dropout"})
#: nodes that only re-lay data out: views when every consumer is a matrix product (PyTorch's
#: transpose and split are views a GEMM or attention kernel reads strided)
LAYOUT = frozenset({"Transpose", "Split"})
DATA_MOVEMENT = frozenset({"Transpose", "Concat", "Split", "Slice", "Pad", "Expand", "Tile", "Gather",
                           "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Cast", "CastLike",
                           "DepthToSpace", "SpaceToDepth", "Trilu", "Shape", "Size", "ConstantOfShape",
                           "Range", "Constant", "NonZero", "Compress", "OneHot", "ReverseSequence"})
NORMS = {"LayerNormalization": 8, "GroupNormalization": 8, "BatchNormalization": 4, "InstanceNormalization": 4,
         "RMSNormalization": 4, "SimplifiedLayerNormalization": 4, "LpNormalization": 3}
REDUCTIONS = frozenset({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                        "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin",
                        "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "CumSum", "TopK"})
POOLS = frozenset({"MaxPool", "AveragePool", "LpPool"})
#: FLOPs per output element of element-wise ops (``rules.POINTWISE_COST``'s counts; 1 unless named)
ELEMENTWISE = {"Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Sqrt": 1, "Reciprocal": 1, "Neg": 1, "Abs": 1,
               "Exp": 1, "Log": 1, "Erf": 1, "Tanh": 1, "Relu": 1, "LeakyRelu": 1, "PRelu": 1, "Elu": 3,
               "Selu": 3, "Celu": 3, "Sigmoid": 3, "HardSigmoid": 3, "HardSwish": 4, "Softplus": 3,
               "Softsign": 2, "Gelu": 8, "FastGelu": 8, "QuickGelu": 4, "BiasGelu": 9, "Mish": 5,
               "Clip": 1, "Max": 1, "Min": 1, "Mean": 1, "Sum": 1, "Where": 1, "Equal": 1, "Less": 1,
               "LessOrEqual": 1, "Greater": 1, "GreaterOrEqual": 1, "Not": 1, "And": 1, "Or": 1, "Xor": 1,
               "Sign": 1, "Floor": 1, "Ceil": 1, "Round": 1, "Mod": 1, "IsNaN": 1, "IsInf": 1, "Sin": 1,
               "Cos": 1, "Tan": 1, "Asin": 1, "Acos": 1, "Atan": 1, "Sinh": 1, "Cosh": 1, "BitShift": 1,
               "ThresholdedRelu": 1, "Shrink": 1, "Swish": 4}
SOFTMAX = frozenset({"Softmax", "LogSoftmax"})
#: nodes between the score MatMul and the Softmax of an attention pattern (scale, mask, cast)
_SCORE_PATH = frozenset({"Mul", "Div", "Add", "Where", "Cast", "Sub"})
_MATRIX = frozenset({"MatMul", "Gemm", "Conv", "ConvTranspose", "Attention"})


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ConfigError("reading .onnx files needs the onnx package: pip install 'accelscope[onnx]'") from None
    return onnx


# -- loading ------------------------------------------------------------------------------------

def load(path: str | Path):
    """The ModelProto of ``path`` (its small external tensors loaded), checked: a missing
    file, a file that is not ONNX or is truncated, an opset or IR version newer than the
    installed onnx reads, are ConfigError saying what to do."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"no ONNX file at {str(p)!r}" + (" (it is a directory)" if p.is_dir() else ""))
    st = p.stat()
    return _load(str(p.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, size: int):
    onnx = _onnx()
    from google.protobuf.message import DecodeError

    what = (f"{path!r} is not an ONNX model (or is truncated); export one with torch.onnx.export, Keras's "
            "model.export(path, format='onnx') or a converter, and check the file is complete")
    try:
        model = onnx.load(path, load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} ({type(exc).__name__}: {str(exc)[:120]})") from None
    if model.ir_version <= 0 or not model.graph.node:
        raise ConfigError(what + " (no graph nodes in it)")
    newest = onnx.defs.onnx_opset_version()
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx") and imp.version > newest:
            raise ConfigError(f"{path!r} uses ONNX opset {imp.version}; the installed onnx {onnx.__version__} reads up "
                              f"to opset {newest}: upgrade onnx (pip install -U onnx) or export at opset {newest} or "
                              "lower (torch.onnx.export(..., opset_version=N))")
    if model.ir_version > onnx.IR_VERSION:
        raise ConfigError(f"{path!r} has ONNX IR version {model.ir_version}; the installed onnx {onnx.__version__} "
                          f"reads up to {onnx.IR_VERSION}: upgrade onnx (pip install -U onnx)")
    base = os.path.dirname(path)
    from onnx.external_data_helper import load_external_data_for_tensor, uses_external_data

    for t in model.graph.initializer:
        if uses_external_data(t) and _numel(t.dims) * _elem_bytes(t.data_type) <= SMALL_EXTERNAL_BYTES:
            try:
                load_external_data_for_tensor(t, base)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{path!r}: its external data for {t.name!r} cannot be read ({exc}); keep the "
                                  "model's .data file beside it") from None
            t.data_location = onnx.TensorProto.DEFAULT
            del t.external_data[:]
    return model


def _elem_name(elem_type: int) -> str:
    return _onnx().TensorProto.DataType.Name(elem_type)


def _elem_bytes(elem_type: int) -> float:
    return _ELEM_BYTES.get(_elem_name(elem_type), 0)


def _numel(dims: Iterable[int]) -> int:
    return math.prod(int(d) for d in dims)


# -- inputs and their dimensions ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Input:
    name: str
    elem_type: int
    dims: tuple  # ints, dim names (str), or None (neither)


def inputs(model) -> list[Input]:
    """The graph's real inputs (not initializers listed as inputs, as older exporters do)."""
    inits = {t.name for t in model.graph.initializer}
    out = []
    for v in model.graph.input:
        if v.name in inits:
            continue
        tt = v.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tt.shape.dim)
        out.append(Input(name=v.name, elem_type=tt.elem_type, dims=dims))
    return out


def _is_int(elem_type: int) -> bool:
    return _elem_name(elem_type).startswith(("INT", "UINT"))


def bind(model, spec: WorkloadSpec) -> dict[str, tuple[int, ...]]:
    """Every input's concrete shape (see the module docstring); ConfigError naming the
    dimensions left unbound, and for an option that contradicts a fixed dimension."""
    given = dict(spec.dims or ())
    shapes, unbound, used = {}, [], set()
    for inp in inputs(model):
        shape = []
        for i, d in enumerate(inp.dims):
            if isinstance(d, int) and d > 0:
                if i == 0 and spec.batch_size is not None and spec.batch_size != d and len(inp.dims) > 1:
                    raise ConfigError(f"the graph's input {inp.name!r} has a fixed batch of {d}; --batch "
                                      f"{spec.batch_size} needs a graph exported with a dynamic batch dimension "
                                      "(torch.onnx.export(..., dynamic_shapes=...) or dynamic_axes)")
                shape.append(d)
                continue
            name = d if isinstance(d, str) else None
            value = None
            if name is not None and name in given:
                value = given[name]
                used.add(name)
            elif i == 0 and len(inp.dims) > 1 or (name or "").lower() in BATCH_NAMES:
                value = spec.batch_size or 1
            elif (name or "").lower() in SEQ_NAMES or (i == 1 and _is_int(inp.elem_type)):
                value = spec.seq_len
            elif (name or "").lower() in IMAGE_NAMES:
                value = spec.image_size
            if value is None:
                unbound.append(f"{inp.name!r} dimension {i}" + (f" ({name!r})" if name else " (unnamed)"))
                shape.append(0)
            else:
                shape.append(int(value))
        shapes[inp.name] = tuple(shape)
    if unbound:
        names = [u.split("(")[1].rstrip(")").strip("'") for u in unbound if "unnamed" not in u]
        hint = f"--dim {names[0]}=VALUE" if names else "--dim NAME=VALUE"
        raise ConfigError(f"the graph's input dimension(s) {', '.join(unbound)} are not bound: give {hint} "
                          "(or --batch / --seq-len / --image-size for a batch, sequence or image dimension)")
    extra = set(given) - used
    if extra:
        known = sorted({d for inp in inputs(model) for d in inp.dims if isinstance(d, str)})
        raise ConfigError(f"--dim {', '.join(sorted(extra))}: the graph has no such symbolic dimension"
                          + (f" (it has {', '.join(known)})" if known else " (all its input dimensions are fixed)"))
    return shapes


def defaults(spec: WorkloadSpec) -> WorkloadSpec:
    """The spec with the graph's batch (a fixed leading dimension, else 1) and, for a token
    model, its sequence length filled in; refuses what an ONNX graph cannot be asked."""
    if spec.task != "infer":
        raise ConfigError(f"{spec.model}: an ONNX graph is an inference pass; --task {spec.task} needs the "
                          "PyTorch model (a zoo name, torchvision:NAME or package.module:callable)")
    if spec.inputs is not None or spec.input_shape is not None:
        raise ConfigError(f"{spec.model}: an ONNX graph declares its own inputs; --input-shape and --inputs do not "
                          "apply (bind its symbolic dimensions with --dim NAME=VALUE)")
    if spec.mode != "eager":
        raise ConfigError(f"{spec.model}: --mode {spec.mode} is how PyTorch runs a step; an ONNX graph runs in its "
                          "runtime (leave --mode out)")
    model = load(spec.model)
    ins = inputs(model)
    batch = spec.batch_size
    if batch is None:
        lead = [i.dims[0] for i in ins if len(i.dims) > 1 and isinstance(i.dims[0], int) and i.dims[0] > 0]
        batch = lead[0] if lead else 1
    seq = spec.seq_len
    if seq is None:
        fixed = [i.dims[1] for i in ins if _is_int(i.elem_type) and len(i.dims) > 1
                 and isinstance(i.dims[1], int) and i.dims[1] > 0]
        seq = fixed[0] if fixed else None
    return spec.with_(batch_size=batch, seq_len=seq)


# -- shape inference -------------------------------------------------------------------------------

def _inferred(model, shapes: dict[str, tuple[int, ...]]):
    """A copy of the model with its inputs set to ``shapes`` and every value's shape inferred."""
    onnx = _onnx()
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for v in m.graph.input:
        if v.name in shapes:
            dims = v.type.tensor_type.shape.dim
            for d, n in zip(dims, shapes[v.name]):
                d.Clear()
                d.dim_value = n
    try:
        return onnx.shape_inference.infer_shapes(m, check_type=False, strict_mode=True, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError, RuntimeError) as exc:
        raise WorkloadError(f"onnx shape inference failed on {shapes}: {str(exc)[:300]}") from None


@dataclass(slots=True)
class _Value:
    shape: tuple[int, ...] | None
    elem: str  # TensorProto element type name


def _values(m) -> dict[str, _Value]:
    out: dict[str, _Value] = {}
    for v in list(m.graph.input) + list(m.graph.value_info) + list(m.graph.output):
        tt = v.type.tensor_type
        if not tt.HasField("shape"):
            shape = None
        else:
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
            shape = None if any(d is None for d in dims) else tuple(dims)
        out[v.name] = _Value(shape=shape, elem=_elem_name(tt.elem_type) if tt.elem_type else "UNDEFINED")
    for t in m.graph.initializer:
        out[t.name] = _Value(shape=tuple(t.dims), elem=_elem_name(t.data_type))
    return out


# -- the graph as Ops ------------------------------------------------------------------------------

def _attr(node, name: str, default: Any = None) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


class _Graph:
    def __init__(self, m, float_dtype: str):
        self.m = m
        self.values = _values(m)
        self.inits = {t.name for t in m.graph.initializer}
        self.producer = {o: n for n in m.graph.node for o in n.output}
        self.consumers: dict[str, list] = {}
        for n in m.graph.node:
            for i in n.input:
                if i:
                    self.consumers.setdefault(i, []).append(n)
        self.float_dtype = float_dtype
        self.unknown: set[str] = set()  # tensors of unknown shape met (their bytes not counted)
        self.outputs = {o.name for o in m.graph.output}
        self.fused: dict[int, dict] = {}  # node id -> its attention pattern
        self.static = self._static()

    def _static(self) -> set[str]:
        """Values computable when a session starts: initializers, Constants, and what only
        they (or statically known shapes) feed."""
        static = set(self.inits)
        for n in self.m.graph.node:  # nodes are topologically sorted in a valid graph
            ins = [i for i in n.input if i]
            if n.op_type == "Shape" and ins and self.values.get(ins[0], _Value(None, "")).shape is not None:
                static.update(n.output)
            elif n.op_type == "Constant" or (ins and all(i in static for i in ins)):
                static.update(n.output)
        return static

    def shape(self, name: str) -> tuple[int, ...] | None:
        v = self.values.get(name)
        return v.shape if v else None

    def nbytes(self, name: str) -> int:
        v = self.values.get(name)
        if not name or v is None or v.shape is None:
            if name:
                self.unknown.add(name)
            return 0
        per = (2 if self.float_dtype in ("float16", "bfloat16") else 4) if v.elem in ("FLOAT", "FLOAT16", "BFLOAT16") \
            else _ELEM_BYTES.get(v.elem, 0)
        return int(_numel(v.shape) * per)

    def numel(self, name: str) -> int:
        s = self.shape(name)
        return _numel(s) if s is not None else 0

    def is_activation(self, name: str) -> bool:
        return name not in self.static

    def feeds_only_matrix(self, node) -> bool:
        """Every consumer of ``node``'s outputs is a matrix product or a fused attention
        (through views and other layout nodes): the kernel reads the operand strided."""
        seen, todo = set(), list(node.output)
        while todo:
            v = todo.pop()
            for c in self.consumers.get(v, []):
                if id(c) in seen:
                    continue
                seen.add(id(c))
                if c.op_type in ("MatMul", "Gemm") or id(c) in self.fused:
                    continue
                if c.op_type in VIEWS or c.op_type in LAYOUT:
                    todo.extend(c.output)
                    continue
                return False
            if v in self.outputs:
                return False
        return True


def _attention(g: _Graph, sm) -> dict | None:
    """The attention pattern around Softmax ``sm``: {nodes, q, k_t, v, out, causal} or None."""
    absorbed = [sm]
    x = sm.input[0]
    mask_inputs: list[str] = []
    while True:
        n = g.producer.get(x)
        if n is None:
            return None
        if n.op_type == "MatMul":
            break
        if n.op_type not in _SCORE_PATH or len(g.consumers.get(n.output[0], [])) != 1:
            return None
        acts = [i for i in n.input if i and g.is_activation(i)]
        if n.op_type in ("Cast",):
            x = n.input[0]
        else:
            # the score path runs through the one input that comes from a MatMul chain
            path = [i for i in acts if _reaches_matmul(g, i)]
            if len(path) != 1:
                return None
            x = path[0]
            mask_inputs += [i for i in n.input if i and i != x]
        absorbed.append(n)
    score = n
    if len(g.consumers.get(score.output[0], [])) != 1:
        return None
    q, kt = score.input[0], score.input[1]
    if not (g.is_activation(q) and g.is_activation(kt)):
        return None
    # softmax -> (Cast|Dropout)* -> MatMul(P, V)
    y, pv = sm.output[0], None
    while True:
        cons = g.consumers.get(y, [])
        if len(cons) != 1:
            return None
        c = cons[0]
        if c.op_type in ("Cast", "Dropout"):
            absorbed.append(c)
            y = c.output[0]
            continue
        if c.op_type == "MatMul" and c.input[0] == y and g.is_activation(c.input[1]):
            pv = c
        break
    if pv is None:
        return None
    causal = any(_has_ancestor(g, m, "Trilu") for m in mask_inputs)
    pre = []
    for name in (q, kt):  # a scale applied to q and to k before the product (sqrt(sqrt(d)) each) is the kernel's
        n = g.producer.get(name)
        if (n is not None and n.op_type in ("Mul", "Div") and len(g.consumers.get(name, [])) == 1
                and sum(g.is_activation(i) for i in n.input if i) == 1):
            pre.append(n)
    return {"nodes": [score, *absorbed, pv, *pre], "q": q, "k_t": kt, "v": pv.input[1], "out": pv.output[0],
            "causal": causal, "inputs": [next(i for i in n.input if g.is_activation(i)) for n in pre]}


def _reaches_matmul(g: _Graph, name: str, depth: int = 6) -> bool:
    for _ in range(depth):
        n = g.producer.get(name)
        if n is None:
            return False
        if n.op_type == "MatMul":
            return True
        if n.op_type not in _SCORE_PATH:
            return False
        acts = [i for i in n.input if i and g.is_activation(i)]
        if not acts:
            return False
        name = acts[0]
    return False


def _has_ancestor(g: _Graph, name: str, op_type: str, limit: int = 64) -> bool:
    todo, seen = [name], set()
    while todo and len(seen) < limit:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        n = g.producer.get(v)
        if n is None:
            continue
        if n.op_type == op_type:
            return True
        todo.extend(i for i in n.input if i)
    return False


def _mm_shapes(a: tuple, b: tuple) -> tuple[str, tuple, tuple, int]:
    """(aten name, GEMM operand shapes, output shape as a product, FLOPs) of MatMul a x b."""
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    m, k = a2[-2], a2[-1]
    n = b2[-1]
    batch_a, batch_b = a2[:-2], b2[:-2]
    width = max(len(batch_a), len(batch_b))
    ba = (1,) * (width - len(batch_a)) + batch_a
    bb = (1,) * (width - len(batch_b)) + batch_b
    batch = tuple(max(x, y) for x, y in zip(ba, bb))
    nb = _numel(batch) if batch else 1
    flops = 2 * nb * m * k * n
    if _numel(bb) == 1:  # a weight-like right operand: one product over the flattened batch
        return "aten.mm.default", ((nb * m, k), (k, n)), flops
    if _numel(ba) == 1:
        return "aten.mm.default", ((m, k), (k, nb * n)), flops
    return "aten.bmm.default", ((nb, m, k), (nb, k, n)), flops


def ops_of(g: _Graph) -> tuple[list[Op], list[str]]:
    """The graph's nodes as Ops (see the module docstring), and notes."""
    dtype = g.float_dtype
    fused = g.fused
    for n in g.m.graph.node:
        if n.op_type in SOFTMAX:
            a = _attention(g, n)
            if a is not None and not any(id(x) in fused for x in a["nodes"]):
                for x in a["nodes"]:
                    fused[id(x)] = a
    bias = _bias_adds(g)
    skip = {id(add) for add in bias.values()}
    done: set[int] = set()
    ops: list[Op] = []
    folded = 0
    for n in g.m.graph.node:
        if id(n) in skip:
            continue
        if id(n) in fused:
            a = fused[id(n)]
            if id(a["nodes"][0]) in done:
                continue
            done.add(id(a["nodes"][0]))
            ops.append(_attention_op(g, a))
            continue
        if all(o in g.static for o in n.output if o):
            folded += 1
            continue
        op = _node_op(g, n, dtype)
        if id(n) in bias:
            op = _with_bias(g, op, bias[id(n)], n)
        ops.append(op)
    notes = []
    if bias:
        notes.append(f"{len(bias)} bias Add(s) after a MatMul counted in the product (addmm), as runtimes fuse them")
    if fused:
        notes.append(f"{len(done)} attention pattern(s) (MatMul, scale/mask, Softmax, MatMul) counted as one fused "
                     "attention op each, as ONNX Runtime's and TensorRT's attention fusions run them")
    if folded:
        notes.append(f"{folded} constant-subgraph node(s) folded (computed once when a session starts), not counted")
    return ops, notes


def _bias_adds(g: _Graph) -> dict[int, Any]:
    """MatMul nodes whose only consumer is an Add of a static vector the length of the
    product's last dimension (a bias): {id(matmul): add}."""
    out = {}
    for n in g.m.graph.node:
        if n.op_type != "MatMul" or id(n) in g.fused:
            continue
        cons = g.consumers.get(n.output[0], [])
        if len(cons) != 1 or cons[0].op_type != "Add":
            continue
        add = cons[0]
        other = [i for i in add.input if i and i != n.output[0]]
        y = g.shape(n.output[0])
        if len(other) == 1 and not g.is_activation(other[0]) and y and g.numel(other[0]) == y[-1]:
            out[id(n)] = add
    return out


def _with_bias(g: _Graph, op: Op, add, product) -> Op:
    """The product with its bias: aten.addmm's operands (bias, A, B); FLOPs as
    ``torch.utils.flop_counter`` counts addmm (the product's; the bias add is not counted)."""
    bias = next(i for i in add.input if i and i != product.output[0])
    return replace(op, name="aten.addmm.default" if op.name == "aten.mm.default" else op.name,
                   bytes_read=op.bytes_read + g.nbytes(bias), bytes_written=g.nbytes(add.output[0]),
                   input_shapes=(g.shape(bias),) + op.input_shapes,
                   attrs=MappingProxyType(dict(op.attrs) | {"onnx": "MatMul+Add"}))


def _attention_op(g: _Graph, a: dict) -> Op:
    q, kt, v = g.shape(a["q"]), g.shape(a["k_t"]), g.shape(a["v"])
    out = g.shape(a["out"])
    if None in (q, kt, v, out):
        flops = None
        shapes: tuple = (q, kt, v)
    else:
        k = tuple(kt[:-2]) + (kt[-1], kt[-2])
        _, _, f1 = _mm_shapes(q, kt)
        _, _, f2 = _mm_shapes(out[:-1] + (kt[-1],), v)
        flops = f1 + f2
        shapes = (q, k, v)
    read = g.nbytes(a["q"]) + g.nbytes(a["k_t"]) + g.nbytes(a["v"])  # (a scale before the product: same size)
    return Op(name="aten._scaled_dot_product_attention.onnx", category="attention", phase="forward", flops=flops,
              bytes_read=read, bytes_written=g.nbytes(a["out"]), input_shapes=shapes, output_shapes=(out,),
              dtype=g.float_dtype, attrs=MappingProxyType({"onnx": "MatMul+Softmax+MatMul", "is_causal": a["causal"],
                                                          "node": a["nodes"][0].name}))


def _node_op(g: _Graph, n, dtype: str) -> Op:
    t = n.op_type
    ins = [i for i in n.input if i]
    outs = [o for o in n.output if o]
    in_shapes = tuple(g.shape(i) for i in ins)
    out_shapes = tuple(g.shape(o) for o in outs)
    attrs: dict[str, Any] = {"onnx": t, "node": n.name}
    read = sum(g.nbytes(i) for i in ins)
    written = sum(g.nbytes(o) for o in outs)
    out0 = g.numel(outs[0]) if outs else 0
    in0 = g.numel(ins[0]) if ins else 0
    name, category, flops, is_view = f"onnx.{t}", "other", None, False
    known = all(s is not None for s in in_shapes + out_shapes)
    if t in VIEWS or (t in LAYOUT and g.feeds_only_matrix(n)):
        category, flops, is_view, read, written = "data movement", 0, True, 0, 0
    elif t == "MatMul" and known:
        name, gemm, flops = _mm_shapes(in_shapes[0], in_shapes[1])
        category, in_shapes = "matmul", gemm
    elif t == "Gemm" and known:
        a, b = in_shapes[0], in_shapes[1]
        m, k = (a[1], a[0]) if _attr(n, "transA", 0) else a
        nn_ = b[0] if _attr(n, "transB", 0) else b[1]
        flops = 2 * m * k * nn_  # the C term is not counted (flop_counter's addmm)
        name, category = ("aten.addmm.default", "matmul") if len(ins) > 2 else ("aten.mm.default", "matmul")
        in_shapes = ((in_shapes[2],) if len(ins) > 2 else ()) + ((m, k), (k, nn_))
    elif t in ("Conv", "ConvTranspose") and known:
        x, w, y = in_shapes[0], in_shapes[1], out_shapes[0]
        groups = int(_attr(n, "group", 1))
        kernel = _numel(w[2:])
        if t == "Conv":
            flops = 2 * y[0] * y[1] * _numel(y[2:]) * w[1] * kernel
        else:
            flops = 2 * x[0] * x[1] * _numel(x[2:]) * w[1] * kernel
        if len(ins) > 2:
            flops += _numel(y)
        spatial = len(w) - 2
        attrs |= {"stride": tuple(_attr(n, "strides", [1] * spatial)), "dilation": tuple(_attr(n, "dilations",
                  [1] * spatial)), "groups": groups, "transposed": t == "ConvTranspose", "channels_last": False}
        name, category = "aten.convolution.default", "conv"
        if t == "ConvTranspose":  # aten's weight layout for a transposed convolution is (C_in, C_out/g, k...)
            in_shapes = (x, (w[1] * groups, w[0] // groups) + tuple(w[2:])) + in_shapes[2:]
    elif t == "Attention" and known:
        q, k, v = in_shapes[:3]
        flops = 2 * _numel(q[:-1]) * k[-2] * q[-1] + 2 * _numel(q[:-1]) * k[-2] * v[-1]
        name, category = "aten._scaled_dot_product_attention.onnx", "attention"
        attrs["is_causal"] = bool(_attr(n, "is_causal", 0))
    elif t in NORMS:
        category, flops = "norm", NORMS[t] * in0
        if t == "BatchNormalization":
            name, attrs["training"] = "aten.native_batch_norm.default", bool(_attr(n, "training_mode", 0))
    elif t in SOFTMAX:
        category, flops = "reduction", 5 * in0
    elif t in ELEMENTWISE:
        category, flops = "elementwise", ELEMENTWISE[t] * out0
    elif t in REDUCTIONS:
        category, flops = "reduction", in0
    elif t in POOLS and known:
        kernel = _numel(_attr(n, "kernel_shape", [1]))
        category, flops = "reduction", out0 * kernel
    elif t == "Resize":
        mode = _attr(n, "mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        category, flops = "data movement", (0 if mode == "nearest" else 4 * out0)
        attrs["mode"] = mode
    elif t in ("Gather", "GatherElements", "GatherND") and ins and ins[0] in g.inits:
        # a lookup in a weight table reads the rows it gathers, not the table
        category, flops = "embedding", 0
        read = sum(g.nbytes(i) for i in ins[1:]) + written
    elif t in DATA_MOVEMENT:
        category, flops = "data movement", 0
    if not known and t in _MATRIX:  # a product of unknown shape: no FLOPs claimed
        flops = None
    return Op(name=name, category=category, phase="forward", flops=None if flops is None else int(flops),
              bytes_read=int(read), bytes_written=int(written), input_shapes=in_shapes, output_shapes=out_shapes,
              dtype=dtype, is_view=is_view, attrs=MappingProxyType(attrs))


def _graph_dtype(model) -> str:
    counts: dict[str, int] = {}
    for t in model.graph.initializer:
        name = _FLOATS.get(_elem_name(t.data_type))
        if name:
            counts[name] = counts.get(name, 0) + _numel(t.dims)
    for inp in inputs(model):
        name = _FLOATS.get(_elem_name(inp.elem_type))
        if name:
            counts.setdefault(name, 0)
    return max(counts, key=counts.get) if counts else "float32"


def _aggregate(ops: list[Op]) -> tuple[Op, ...]:
    merged: dict[tuple, Op] = {}
    for op in ops:
        key = (op.name, op.category, op.flops, op.bytes_read, op.bytes_written, op.input_shapes, op.output_shapes,
               op.dtype, op.is_view, tuple(sorted((k, v) for k, v in op.attrs.items() if k != "node")))
        prev = merged.get(key)
        merged[key] = replace(prev, count=prev.count + 1) if prev is not None else replace(
            op, attrs=MappingProxyType({k: v for k, v in op.attrs.items() if k != "node"}))
    return tuple(merged.values())


def profile(spec: WorkloadSpec) -> Profile:
    """The Profile of a resolved ONNX spec (``spec.model``: the file)."""
    model = load(spec.model)
    graph_dtype = _graph_dtype(model)
    if spec.precision not in _PRECISION_DTYPE:
        raise ConfigError(f"{spec.model}: an ONNX graph is counted in its own float type or as converted to "
                          f"fp16/bf16 (--precision {', '.join(_PRECISION_DTYPE)}), not {spec.precision} (a quantised "
                          "graph is exported with QuantizeLinear/DequantizeLinear nodes)")
    dtype = _PRECISION_DTYPE.get(spec.precision, graph_dtype)
    shapes = bind(model, spec)
    inferred = _inferred(model, shapes)
    g = _Graph(inferred, dtype)
    ops, notes = ops_of(g)
    # floating-point tensors of more than one element: a scalar initializer is a constant of the formula
    inits = [t for t in model.graph.initializer if _elem_name(t.data_type) in _FLOATS and _numel(t.dims) > 1]
    params = sum(_numel(t.dims) for t in inits)
    per = 2 if dtype in ("float16", "bfloat16") else 4
    param_bytes = params * per
    input_bytes = sum(g.nbytes(i.name) for i in inputs(model))
    weights = {t.name for t in model.graph.initializer}
    working = 0
    for n in inferred.graph.node:
        b = sum(g.nbytes(i) for i in n.input if i and i not in weights) + sum(g.nbytes(o) for o in n.output if o)
        working = max(working, b)
    if g.unknown:
        notes.append(f"{len(g.unknown)} tensor(s) of unknown shape: their bytes are not counted")
    if _GRAPH_PRECISION.get(graph_dtype) != spec.precision and spec.precision not in ("tf32",):
        notes.append(f"the graph computes in {graph_dtype}; its float tensors are counted as {dtype} "
                     f"(--precision {spec.precision}, as the graph converted to that type)")
    notes.append(f"ONNX frontend: {Path(spec.model).name}, opset "
                 f"{max((i.version for i in model.opset_import if i.domain in ('', 'ai.onnx')), default=0)}, "
                 f"{len(model.graph.node)} nodes, shapes by onnx shape inference")
    return Profile(spec=spec, ops=_aggregate(ops), params=params, trainable_params=0, param_bytes=param_bytes,
                   grad_bytes=0, optimizer_state_bytes=0, activation_bytes=working, input_bytes=input_bytes,
                   samples_per_step=spec.batch_size or 1, param_tensors=0, notes=tuple(notes))
