"""LLM serving: a prefill over the prompt, then one decode step per output token.

A serving workload (``task="serve"``: ``input_tokens`` I, ``output_tokens`` O, a static batch
of ``batch_size`` B requests or ``concurrency`` C under continuous batching) is two kinds of
pass of a decoder, each profiled from its pieces in inference, as ``workload.shard`` profiles
a training step (one block, the embedding, the head; tensor-parallel shards when ``tp > 1``):

* the **prefill**: B sequences of I tokens through a block (causal attention over the prompt,
  its keys and values written into the KV cache), the embedding of the prompt, and the head
  on each sequence's last token only (what generation needs; TensorRT-LLM and vLLM compute no
  other logits);
* a **decode step**: one token per sequence through a block that writes its key and value
  into a cache of ``L`` positions and attends to all of them, the embedding of that token and
  the head. A step's cost is linear in ``L``, so the mean of the O - 1 steps after the first
  token (contexts I + 1 .. I + O - 1) is the step at the mean context ``I + O/2``: one trace
  stands for all of them.

The blocks are the zoo's own (``nets.GPT2Block``, ``nets.LlamaBlock``) with an explicit
``nets.KVCache``, the same code ``accelscope bench --task serve`` runs for real; the caches are
the pieces' inputs, so a profile's activation memory holds no cache (the KV cache's bytes are
counted per token by :func:`kv_bytes_per_token`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache, partial

from accelscope.errors import ConfigError
from accelscope.workload.profile import Profile
from accelscope.workload.shard import (DecoderShape, _config, _embed_module, _head_module, _token_inputs,
                                       decoder_shape, value_bytes, with_mode)
from accelscope.workload.spec import WorkloadSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingPieces:
    """Inference profiles of one rank's pieces for a prefill and for a decode step."""

    shape: DecoderShape
    tp: int
    batch: int  # sequences in the pass
    input_tokens: int
    decode_context: int  # the cache length the decode step attends to
    prefill_block: Profile
    prefill_embed: Profile
    prefill_head: Profile
    decode_block: Profile
    decode_embed: Profile
    decode_head: Profile
    #: a user decoder's KV-cache bytes per token (its own caches' size); None: from the shape
    kv_bytes_per_token: int | None = None


def kv_heads_per_rank(shape: DecoderShape, tp: int) -> int:
    return shape.kv_heads // tp if shape.kv_heads >= tp else 1


def kv_bytes_per_token(shape: DecoderShape, tp: int, bytes_per_value: int) -> int:
    """KV-cache bytes one token of one sequence takes on one rank, all layers (keys and values)."""
    return 2 * shape.layers * kv_heads_per_rank(shape, tp) * shape.head_width * bytes_per_value


def mean_decode_context(input_tokens: int, output_tokens: int) -> int:
    """The cache length of the mean decode step (steps 2 .. O attend to I+1 .. I+O-1 positions)."""
    return input_tokens + max(1, output_tokens // 2)


def _block(shape: DecoderShape, tp: int, cached: int):
    """A block that runs its input against a KV cache holding ``cached`` positions already."""
    import torch
    from torch import nn

    from accelscope.workload import nets

    c = _config(shape, tp)
    block = nets.GPT2Block(c, tp=tp) if shape.family == "gpt" else nets.LlamaBlock(c, tp=tp)

    class Cached(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = block

        def forward(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *rope: torch.Tensor) -> torch.Tensor:
            cache = nets.KVCache(k=k, v=v, length=cached)
            if shape.family == "gpt":
                return self.block(x, cache)
            return self.block(x, *rope, cache)  # RoPE tables: made once per pass, shared by the blocks

    return Cached()


def _block_inputs(batch: int, *, tokens: int, capacity: int, shape: DecoderShape, tp: int):
    import torch

    d = shape.head_width
    kv = (batch, kv_heads_per_rank(shape, tp), capacity, d)
    rope = (torch.randn(tokens, d), torch.randn(tokens, d)) if shape.family == "llama" else ()
    return (torch.randn(batch, tokens, shape.hidden), torch.zeros(kv), torch.zeros(kv), *rope)


def _hidden(batch: int, *, hidden: int):
    import torch

    return torch.randn(batch, 1, hidden)


def _trace(spec: WorkloadSpec, name: str, batch: int, build, make_inputs, cache: bool) -> Profile:
    """One piece's inference profile (``shard.traced_cached``)."""
    from accelscope.workload.shard import traced_cached
    from accelscope.workload.workload import Workload, generic_loss

    w = Workload(name=f"{spec.model} [{name}]", build_model=build, make_inputs=make_inputs, loss_fn=generic_loss,
                 task="infer", batch_size=batch, precision=spec.precision, description=f"one rank's {name}")
    return traced_cached(w, cache)


def serving_pieces(spec: WorkloadSpec, *, batch: int, tp: int = 1, decode_context: int | None = None,
                   cache: bool = True) -> ServingPieces:
    """The prefill and decode pieces of ``spec`` (a resolved serving spec) for ``batch``
    sequences on one of ``tp`` tensor-parallel ranks (ConfigError when tp does not divide the
    heads or the MLP width)."""
    pieces = _serving_pieces(spec.with_(mode="eager", batch_size=None, concurrency=None), batch, tp,
                             decode_context, cache)
    names = ("prefill_block", "prefill_embed", "prefill_head", "decode_block", "decode_embed", "decode_head")
    return with_mode(pieces, names, spec.mode)


#: What a user decoder (``package.module:callable`` returning an ``nn.Module``) provides to be
#: served: ``forward(tokens, caches=None, last_only=False)`` returning logits, and
#: ``new_caches(batch, capacity, dtype=None, device=None)`` returning one cache per layer with a
#: settable ``length`` (positions filled), as ``nets.KVCache`` and ``nets.new_caches`` do; and
#: ``vocab_size`` (or ``config.vocab_size``). Its passes are traced whole (no tensor parallelism).
USER_DECODER_PROTOCOL = ("forward(tokens, caches=None, last_only=False)",
                         "new_caches(batch, capacity, dtype=None, device=None)", "vocab_size")


def _user_shape(model) -> DecoderShape:
    vocab = getattr(model, "vocab_size", None) or getattr(getattr(model, "config", None), "vocab_size", None)
    if not hasattr(model, "new_caches") or not vocab:
        raise ConfigError(f"a decoder served from your own code must provide {', '.join(USER_DECODER_PROTOCOL)} "
                          "(workload.serving.USER_DECODER_PROTOCOL; nets.GPT2 and nets.Llama are examples)")
    return DecoderShape(family="user", layers=1, hidden=1, heads=1, kv_heads=1, ffn=1, vocab=int(vocab),
                        positions=10**9)


def _user_pass(factory, batch: int, capacity: int, filled: int):
    """The user's decoder with caches of ``capacity`` positions, ``filled`` already, made when
    the model is built (so creating them is no op of the pass)."""
    from torch import nn

    class Pass(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = factory()
            self.caches = self.model.new_caches(batch, capacity)
            for c in self.caches:
                c.length = filled

        def forward(self, tokens):
            return self.model(tokens, self.caches, last_only=True)

    return Pass()


def _cache_bytes_per_token(factory, precision: str) -> int:
    """KV-cache bytes one token of one sequence takes: the user's caches for 1 x 64 positions
    in the precision's type."""
    import torch

    from accelscope.workload.trace import _skip_weight_init  # no real weights for a size
    from accelscope.workload.workload import precision_dtypes

    with torch.device("meta"), _skip_weight_init():
        caches = factory().new_caches(1, 64, dtype=precision_dtypes(precision)[1] or precision_dtypes(precision)[0])
    total = 0
    for c in caches:
        for t in (getattr(c, "k", None), getattr(c, "v", None)):
            if t is not None:
                total += t.numel() * t.element_size()
    return total // 64


def _user_pieces(spec: WorkloadSpec, batch: int, ctx: int, cache: bool) -> ServingPieces:
    from accelscope.workload.shard import traced_cached
    from accelscope.workload.workload import Workload, generic_loss
    from accelscope.workload.zoo import _checked_factory, _import_callable

    factory = _checked_factory(spec.model, _import_callable(spec.model, "model factory"))
    import torch

    from accelscope.workload.trace import _skip_weight_init

    with torch.device("meta"), _skip_weight_init():
        shape = _user_shape(factory())
    inp = spec.input_tokens

    def trace_pass(name, tokens, capacity, filled):
        w = Workload(name=f"{spec.model} [{name} b={batch}]", build_model=partial(_user_pass, factory, batch,
                                                                                   capacity, filled),
                     make_inputs=partial(_token_inputs, tokens=tokens, vocab=shape.vocab), loss_fn=generic_loss,
                     task="infer", batch_size=batch, precision=spec.precision, description=f"your decoder's {name}")
        return traced_cached(w, False)  # user code can change under its name: never cached

    prefill = trace_pass(f"prefill I={inp}", inp, inp, 0)
    decode = trace_pass(f"decode L={ctx}", 1, ctx, ctx - 1)
    empty = dataclasses.replace(decode, ops=(), params=0, trainable_params=0, param_bytes=0, activation_bytes=0,
                                input_bytes=0)
    per_token = _cache_bytes_per_token(factory, spec.precision)
    return ServingPieces(shape=dataclasses.replace(shape, kv_heads=0), tp=1, batch=batch, input_tokens=inp,
                         decode_context=ctx, prefill_block=prefill, prefill_embed=empty, prefill_head=empty,
                         decode_block=decode, decode_embed=empty, decode_head=empty, kv_bytes_per_token=per_token)


@lru_cache(maxsize=256)
def _serving_pieces(spec: WorkloadSpec, batch: int, tp: int, decode_context: int | None, cache: bool) -> ServingPieces:
    shape = decoder_shape(spec)
    if shape is None and spec.is_user_model:
        if tp != 1:
            raise ConfigError("your own decoder is served on one device: tensor parallelism splits the zoo's "
                              "decoders only")
        return _user_pieces(spec, batch, decode_context or mean_decode_context(spec.input_tokens,
                                                                                spec.output_tokens), cache)
    if shape is None:
        raise ConfigError(f"model {spec.model!r} is not a decoder; serving takes gpt:..., llama:... or a preset")
    spec = spec.concrete()
    for n, what in ((shape.heads, "attention heads"), (shape.ffn, "MLP width (ffn)")):
        if n % tp:
            raise ConfigError(f"tensor parallel over {tp} devices does not divide the {what} ({n}) of {spec.model}")
    if shape.kv_heads >= tp and shape.kv_heads % tp:
        raise ConfigError(f"tensor parallel over {tp} devices does not divide the K/V heads ({shape.kv_heads}) of "
                          f"{spec.model}")
    inp, out = spec.input_tokens, spec.output_tokens
    ctx = decode_context or mean_decode_context(inp, out)
    vocab = shape.padded_vocab(tp) // tp
    tag = f"tp={tp} b={batch}"
    pb = _trace(spec, f"prefill block I={inp} {tag}", batch, partial(_block, shape, tp, 0),
                partial(_block_inputs, tokens=inp, capacity=inp, shape=shape, tp=tp), cache)
    pe = _trace(spec, f"prefill embedding I={inp} {tag}", batch, partial(_embed_module, shape, tp),
                partial(_token_inputs, tokens=inp, vocab=vocab), cache)
    ph = _trace(spec, f"head {tag}", batch, partial(_head_module, shape, tp), partial(_hidden, hidden=shape.hidden), cache)
    db = _trace(spec, f"decode block L={ctx} {tag}", batch, partial(_block, shape, tp, ctx - 1),
                partial(_block_inputs, tokens=1, capacity=ctx, shape=shape, tp=tp), cache)
    de = _trace(spec, f"decode embedding {tag}", batch, partial(_embed_module, shape, tp),
                partial(_token_inputs, tokens=1, vocab=vocab), cache)
    if spec.weights is not None:
        pb, pe, ph, db, de = (with_weight_format(p, spec.weights) for p in (pb, pe, ph, db, de))
    return ServingPieces(shape=shape, tp=tp, batch=batch, input_tokens=inp, decode_context=ctx, prefill_block=pb,
                         prefill_embed=pe, prefill_head=ph, decode_block=db, decode_embed=de, decode_head=ph)


#: bits per weight of each format, and whether activations and the KV cache shrink with it
FORMAT_BITS = {"fp8": 8, "int8": 8, "int4": 4}
FP8_DTYPE = "float8_e4m3fn"


def _prod(shape) -> int:
    n = 1
    for d in shape or ():
        n *= d
    return n


def _weight_operand(op) -> tuple | None:
    """The weight's shape in a linear layer's product (``mm(x, W.t())``, ``addmm(b, x, W.t())``)."""
    name = op.name.split(".")[1] if "." in op.name else op.name
    at = {"mm": 1, "addmm": 2}.get(name)
    if at is None or len(op.input_shapes) <= at or op.input_shapes[at] is None or len(op.input_shapes[at]) != 2:
        return None
    return op.input_shapes[at]


def with_weight_format(profile: Profile, fmt: str) -> Profile:
    """``profile`` (traced in 16 bits) with its weights stored as ``fmt``: every linear layer's
    product reads its weight at the format's width (``fp8`` also its input activation, and runs
    on the FP8 matrix units: the op's dtype becomes ``float8_e4m3fn``); ``fp8`` reads the KV
    cache at one byte per value; the parameters' bytes shrink by the format's width."""
    bits = FORMAT_BITS[fmt]
    ops = []
    for op in profile.ops:
        elt = 4 if op.dtype == "float32" else 2
        w = _weight_operand(op) if op.category == "matmul" else None
        if w is not None:
            weight = _prod(w) * elt
            saved = weight - weight * bits // (8 * elt)
            changes: dict = {}
            if fmt == "fp8":
                x = _prod(op.input_shapes[0 if op.name.split(".")[1] == "mm" else 1]) * elt
                saved += x - x // elt
                changes["dtype"] = FP8_DTYPE
            op = dataclasses.replace(op, bytes_read=max(0, op.bytes_read - saved), **changes)
        elif fmt == "fp8" and op.category == "attention" and len(op.input_shapes) >= 3:
            kv = (_prod(op.input_shapes[1]) + _prod(op.input_shapes[2])) * elt
            op = dataclasses.replace(op, bytes_read=max(0, op.bytes_read - kv // 2))
        ops.append(op)
    spec = profile.spec.with_(model=f"{profile.spec.model} weights={fmt}")
    return dataclasses.replace(profile, spec=spec, ops=tuple(ops),
                               param_bytes=profile.param_bytes * bits // 16)


def kv_value_bytes(spec: WorkloadSpec) -> int:
    """Bytes per cached key or value element: one under ``fp8``, else the precision's."""
    return 1 if spec.weights == "fp8" else value_bytes(spec.precision)
