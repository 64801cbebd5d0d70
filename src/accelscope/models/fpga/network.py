"""Layers for the FPGA models: from a Profile, from a Python list, or from a small file.

**From a Profile** (forward ops only): matrix products become ``dense`` layers
(``vectors`` = rows per sample, e.g. tokens), convolutions ``conv`` (``groups == channels``:
``depthwise``; other grouped convolutions are mapped as ``conv`` with ``C_in/groups`` inputs
per output, which has the same MAC count), and an op that ran ``count`` times becomes
``count`` stages. Attention, norms, activations and pooling are not mapped: a dataflow design
fuses activations into thresholds, and attention needs an architecture these models do not
cover; what was left out is listed so that the estimate can say so.

**Layer list** (``.json``, ``.toml``, or ``.yaml`` when PyYAML is installed)::

    {"layers": [
      {"name": "fc1", "kind": "dense", "in": 16, "out": 64},
      {"name": "c0", "kind": "conv", "in": 3, "out": 64, "kernel": 3, "in_hw": 32,
       "stride": 1, "padding": 0},
      {"name": "p0", "kind": "pool", "in": 64, "kernel": 2, "in_hw": 28}
    ],
     "folding": [{"pe": 16, "simd": 3}, {"reuse_factor": 4}, ...]}

``folding`` is optional (a list in layer order, or a table by layer name); a fold file for
``--fold`` may hold only ``folding``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Mapping, Sequence

from accelscope.errors import ConfigError
from accelscope.models.fpga.dataflow import LayerFold, LayerSpec
from accelscope.models.roofline import gemm_dims
from accelscope.workload.profile import Profile


#: pooling ops an overlay runs (max and average, their adaptive global form)
POOL_OPS = ("max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d", "_adaptive_avg_pool2d")
#: element-wise ops of two feature maps an overlay runs on its element-wise engine
ELTWISE_OPS = ("add", "add_", "mul", "mul_")


def layers_from_profile(profile: Profile, *, overlay: bool = False) -> tuple[list[LayerSpec], list[str]]:
    """(layers, names of forward ops that were not mapped). ``overlay``: also the pooling layers
    and the element-wise adds and multiplies of two feature maps (residual adds), which an
    overlay processor runs as layers of their own; a dataflow design takes neither here."""
    if profile.task != "infer":
        raise ConfigError(f"FPGA dataflow and overlay designs run inference; the profile is a "
                          f"{profile.task!r} step. Profile with --task infer.")
    layers: list[LayerSpec] = []
    skipped: set[str] = set()
    batch = max(profile.batch_size, 1)
    for op in profile.ops:
        if op.phase != "forward" or op.is_view:
            continue
        short = op.name.split(".")[1] if op.name.startswith("aten.") else op.name
        made: LayerSpec | None = None
        if op.category == "conv" and short == "convolution":
            made = _conv(op, len(layers))
        elif overlay and short in POOL_OPS:
            made = _pool(op, len(layers))
        elif overlay and short in ELTWISE_OPS:
            made = _eltwise(op, len(layers))
        elif op.category == "matmul":
            dims = gemm_dims(op)
            if dims is not None:
                b, m, n, k = dims
                vectors = max(1, (b * m) // batch)
                made = LayerSpec(name=f"dense{len(layers)}", kind="dense", in_ch=k, out_ch=n,
                                 vectors=vectors)
        if made is None:
            if (op.flops or 0) > 0 and op.category in ("matmul", "conv", "attention"):
                skipped.add(op.name)
            continue
        for i in range(op.count):
            layers.append(made if i == 0 else _renamed(made, len(layers)))
    return layers, sorted(skipped)


def _pool(op, idx: int) -> LayerSpec | None:
    x = op.input_shapes[0] if op.input_shapes else None
    y = op.output_shapes[0] if op.output_shapes else None
    if x is None or y is None or len(x) != 4 or len(y) != 4:
        return None
    in_hw, out_hw = (x[2], x[3]), (y[2], y[3])
    if "adaptive" in op.name:  # global average pooling to 1 x 1 (other output sizes: not mapped)
        if out_hw != (1, 1):
            return None
        kernel, stride = in_hw, in_hw
    else:
        kernel = tuple(_pair(op.attrs.get("kernel_size", 2), "kernel_size", op.name))
        stride = tuple(_pair(op.attrs.get("stride") or kernel, "stride", op.name))
        pad = _pair(op.attrs.get("padding", 0), "padding", op.name)
        in_hw = (in_hw[0] + 2 * pad[0], in_hw[1] + 2 * pad[1])  # padding folded into the input
    return LayerSpec(name=f"pool{idx}", kind="pool", in_ch=x[1], out_ch=x[1], kernel=kernel, stride=stride,
                     in_hw=in_hw, out_hw=out_hw)


def _eltwise(op, idx: int) -> LayerSpec | None:
    shapes = [s for s in op.input_shapes if s is not None]
    y = op.output_shapes[0] if op.output_shapes else None
    if len(shapes) < 2 or y is None or len(y) != 4 or any(len(s) != 4 for s in shapes[:2]):
        return None  # a scalar or a vector operand is a bias or a scale, not a layer of its own
    return LayerSpec(name=f"eltwise{idx}", kind="eltwise", in_ch=y[1], out_ch=y[1], in_hw=(y[2], y[3]),
                     out_hw=(y[2], y[3]))


def _renamed(layer: LayerSpec, idx: int) -> LayerSpec:
    d = {f: getattr(layer, f) for f in LayerSpec.__dataclass_fields__}
    d["name"] = f"{layer.kind}{idx}"
    return LayerSpec(**d)


def _conv(op, idx: int) -> LayerSpec | None:
    s = [x for x in op.input_shapes if x is not None]
    if len(s) < 2 or not op.output_shapes or op.output_shapes[0] is None:
        return None
    x, w, y = s[0], s[1], op.output_shapes[0]
    if len(x) != 4 or len(w) != 4:
        return None  # conv1d/3d are not mapped
    groups = int(op.attrs.get("groups", 1))
    stride = tuple(op.attrs.get("stride", (1, 1)))
    cin, cout = x[1], y[1]
    kernel, in_hw, out_hw = (w[2], w[3]), (x[2], x[3]), (y[2], y[3])
    if groups > 1 and groups == cin == cout:
        return LayerSpec(name=f"dw{idx}", kind="depthwise", in_ch=cin, out_ch=cout, kernel=kernel,
                         stride=stride, in_hw=in_hw, out_hw=out_hw)
    return LayerSpec(name=f"conv{idx}", kind="conv", in_ch=cin // groups, out_ch=cout, kernel=kernel,
                     stride=stride, in_hw=in_hw, out_hw=out_hw)


def _pair(v: Any, key: str, name: str) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return (int(v[0]), int(v[1]))
    raise ConfigError(f"layer {name!r}: {key} must be an integer or a pair, got {v!r}")


def layer_from_dict(d: Mapping[str, Any], idx: int = 0) -> LayerSpec:
    """One layer of the list format (module docstring)."""
    kind = d.get("kind", "dense")
    name = str(d.get("name", f"{kind}{idx}"))
    known = {"name", "kind", "in", "out", "kernel", "stride", "padding", "in_hw", "vectors"}
    unknown = set(d) - known
    if unknown:
        raise ConfigError(f"layer {name!r}: unknown keys {sorted(unknown)}; valid: {sorted(known)}")
    if "in" not in d:
        raise ConfigError(f"layer {name!r}: 'in' (input features or channels) is required")
    cin = int(d["in"])
    cout = int(d.get("out", cin))
    if kind == "dense":
        return LayerSpec(name=name, kind="dense", in_ch=cin, out_ch=cout, vectors=int(d.get("vectors", 1)))
    kernel = _pair(d.get("kernel", 1), "kernel", name)
    stride = _pair(d.get("stride", kernel if kind == "pool" else 1), "stride", name)
    pad = _pair(d.get("padding", 0), "padding", name)
    if "in_hw" not in d:
        raise ConfigError(f"layer {name!r}: a {kind} layer needs in_hw (input height/width)")
    in_hw = _pair(d["in_hw"], "in_hw", name)
    out_hw = tuple((in_hw[i] + 2 * pad[i] - kernel[i]) // stride[i] + 1 for i in (0, 1))
    if min(out_hw) < 1:
        raise ConfigError(f"layer {name!r}: kernel {kernel} does not fit input {in_hw} with padding {pad}")
    # Padding is folded into the input size the sliding window sees.
    in_eff = (in_hw[0] + 2 * pad[0], in_hw[1] + 2 * pad[1])
    if kind in ("depthwise", "pool"):
        cout = cin
    return LayerSpec(name=name, kind=kind, in_ch=cin, out_ch=cout, kernel=kernel, stride=stride,
                     in_hw=in_eff, out_hw=out_hw)  # type: ignore[arg-type]


def fold_from_dict(d: Mapping[str, Any]) -> LayerFold:
    unknown = set(d) - {"pe", "simd", "reuse_factor", "name"}
    if unknown:
        raise ConfigError(f"folding entry {dict(d)}: unknown keys {sorted(unknown)}; "
                          "use pe and simd (FINN) or reuse_factor (hls4ml)")
    if "reuse_factor" in d:
        return LayerFold(reuse_factor=int(d["reuse_factor"]))
    return LayerFold(pe=int(d.get("pe", 1)), simd=int(d.get("simd", 1)))


def folds_for(layers: Sequence[LayerSpec], raw: Any) -> list[LayerFold]:
    """Folding entries (a list in layer order, or a mapping by layer name) for ``layers``."""
    if isinstance(raw, Mapping):
        names = {l.name for l in layers}
        extra = set(raw) - names
        if extra:
            raise ConfigError(f"folding names {sorted(extra)} match no layer; layers: {sorted(names)}")
        return [fold_from_dict(raw[l.name]) if l.name in raw else LayerFold() for l in layers]
    if isinstance(raw, Sequence) and not isinstance(raw, (str, bytes)):
        if len(raw) != len(layers):
            raise ConfigError(f"{len(raw)} folding entries for {len(layers)} layers; give one per "
                              f"layer in order ({', '.join(l.name for l in layers[:8])}...)")
        return [fold_from_dict(x) for x in raw]
    raise ConfigError("folding must be a list (one entry per layer) or a table by layer name")


def read_file(path: str | Path) -> dict[str, Any]:
    """Parse a ``.json``, ``.toml`` or ``.yaml``/``.yml`` layer-list or fold file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such file; give a .json, .toml or .yaml layer list / fold file")
    text = p.read_text()
    suffix = p.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ConfigError(f"{p}: reading YAML needs PyYAML (pip install pyyaml), or "
                                  "write the file as .json or .toml") from exc
            data = yaml.safe_load(text)
        else:
            raise ConfigError(f"{p}: unknown extension {suffix!r}; use .json, .toml or .yaml")
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: cannot parse: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a table/object with 'layers' and/or 'folding'")
    return data


def load_layer_list(source: str | Path | Sequence[Mapping[str, Any]]) -> tuple[list[LayerSpec], list[LayerFold] | None]:
    """Layers (and folding, when given) from a file or a Python list of dicts."""
    if isinstance(source, (str, Path)):
        data = read_file(source)
        raw_layers, raw_folds = data.get("layers"), data.get("folding")
    else:
        raw_layers, raw_folds = source, None
    if not raw_layers:
        raise ConfigError("the layer list is empty; give at least one layer under 'layers'")
    layers = [layer_from_dict(d, i) for i, d in enumerate(raw_layers)]
    return layers, (folds_for(layers, raw_folds) if raw_folds is not None else None)


def count_macs(layers: Sequence[LayerSpec]) -> int:
    return sum(l.macs for l in layers)



def reference_design(name: str) -> tuple[list[LayerSpec], dict[str, Any]]:
    """A published design from ``data/reference_designs.toml`` (``sfc``, ``lfc``, ``cnv``,
    ``jet_tagger``): its layers and its settings (bits, clock, source)."""
    from importlib import resources as ir

    data = tomllib.loads(ir.files("accelscope.models.fpga").joinpath("data/reference_designs.toml").read_text())
    if name not in data:
        raise ConfigError(f"unknown reference design {name!r}; valid: {', '.join(sorted(data))}")
    entry = dict(data[name])
    layers, _ = load_layer_list(entry.pop("layers"))
    return layers, entry


def published_folding(name: str) -> tuple[list[LayerFold], dict[str, str]] | None:
    """The published per-layer folding of a reference design and where it comes from
    (``design``, ``source``), or ``None`` when none is recorded (see the data file's notes).

    Every layer must be listed: a published folding with a layer missing is an error in the
    data file, never filled in with a default."""
    layers, entry = reference_design(name)
    raw = entry.get("published_folding")
    if raw is None:
        return None
    info = {k: raw[k] for k in ("design", "source")}
    table = {k: v for k, v in raw.items() if k not in info}
    missing = [l.name for l in layers if l.name not in table]
    if missing:
        raise ConfigError(f"reference design {name!r}: published_folding lacks {missing}")
    return folds_for(layers, table), info
