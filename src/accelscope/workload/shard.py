"""One rank's share of a parallel decoder, profiled at the cost of one layer.

A decoder (``gpt:...``, ``llama:...`` or a named preset such as ``gpt3-175b``) is L identical
blocks between an embedding and an LM head. Under tensor (``tp``), context (``cp``) and
pipeline (``pp``) parallelism a rank of pipeline stage *i* runs L/pp blocks, each the
tp-shard of a block (``nets.GPT2Block(tp=, cp=)``: Megatron-LM's column/row split) on a
micro-batch of ``seq/cp`` tokens, plus the embedding (first stage) or the final norm, LM
head and loss (last stage), the vocabulary split ``tp`` ways (Megatron's vocab-parallel
embedding and cross-entropy, the vocabulary padded to a multiple of 128 x tp as Megatron's
``_vocab_size_with_padding`` does).

So three small traces describe every rank of every layout: one block, the embedding and the
head (:func:`decoder_pieces`), each a training step on fake tensors (forward, backward and
the optimizer on that piece's parameters), kept in the on-disk profile cache like any other
profile. A 1T-parameter model costs what a one-layer
model costs to profile: its blocks are identical, and fake tensors hold no data. The
per-rank times and memory are then sums of these pieces (``models.distributed``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from accelscope.errors import ConfigError
from accelscope.workload.profile import Profile
from accelscope.workload.spec import WorkloadSpec

#: Megatron-LM pads the vocabulary to a multiple of ``make_vocab_size_divisible_by`` (128)
#: times the tensor-parallel degree (megatron/training/tokenizer: ``_vocab_size_with_padding``).
VOCAB_MULTIPLE = 128


@dataclass(frozen=True, slots=True, kw_only=True)
class DecoderShape:
    """The architecture of a decoder spec (what the layout checks divide)."""

    family: str  # "gpt" or "llama"
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    positions: int
    flash: bool = True
    experts: int = 0  # mixture of experts: experts per layer (0: a dense MLP)
    top_k: int = 2
    parallel: bool = False  # GPT family: attention and MLP side by side (GPT-J, Falcon)
    rotary: bool = False  # GPT family: rotary positions, no learned position table
    head_dim: int = 0  # each head's width (0: hidden / heads)

    @property
    def head_width(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def params(self) -> int:
        """Parameters of the whole model (GPT: tied head, learned positions, biases)."""
        h, f, v = self.hidden, self.ffn, self.vocab
        kv, w = self.kv_heads * self.head_width, self.heads * self.head_width
        if self.family == "gpt":
            qkv = w + 2 * kv
            block = h * qkv + qkv + w * h + h + 2 * h * f + f + h + 4 * h
            return self.layers * block + v * h + (0 if self.rotary else self.positions * h) + 2 * h
        mlp = (self.experts * 3 * h * f + h * self.experts) if self.experts else 3 * h * f
        block = h * w + 2 * h * kv + w * h + mlp + 2 * h
        return self.layers * block + 2 * v * h + h

    def padded_vocab(self, tp: int) -> int:
        m = VOCAB_MULTIPLE * tp
        return -(-self.vocab // m) * m


def value_bytes(precision: str) -> int:
    """Bytes per activation (or cached key/value) element in ``precision``'s compute type."""
    return 4 if precision in ("fp32", "tf32") else 2


def with_mode(pieces, names: tuple[str, ...], mode: str):
    """``pieces`` (traced in eager mode) with each named profile run in ``mode``: the mode
    changes how a pass runs, not what it computes, so one trace serves every mode."""
    if mode == "eager":
        return pieces
    return dataclasses.replace(pieces, **{k: dataclasses.replace(getattr(pieces, k), spec=getattr(pieces, k).spec
                                                                 .with_(mode=mode)) for k in names})


def decoder_shape(spec: WorkloadSpec) -> DecoderShape | None:
    """The decoder architecture of ``spec`` (a parametric decoder or a preset naming one),
    or None for any other model."""
    from accelscope.workload.zoo import decoder_config

    found = decoder_config(spec.model)
    if found is None:
        return None
    family, cfg = found
    return DecoderShape(family=family, layers=cfg["n_layers"], hidden=cfg["d_model"], heads=cfg["n_heads"],
                        kv_heads=cfg.get("n_kv_heads") or cfg["n_heads"], ffn=cfg["d_ff"],
                        vocab=cfg["vocab_size"], positions=cfg["max_positions"],
                        flash=cfg.get("flash_attention", True), experts=cfg.get("n_experts", 0) or 0,
                        top_k=cfg.get("experts_per_token", 2), parallel=cfg.get("parallel_block", False),
                        rotary=cfg.get("rotary", False),
                        head_dim=cfg.get("d_head") or cfg["d_model"] // cfg["n_heads"])


@dataclass(frozen=True, slots=True, kw_only=True)
class DecoderPieces:
    """Training-step profiles of one rank's pieces: one block, the embedding, the head."""

    shape: DecoderShape
    tp: int
    cp: int
    micro_batch: int
    seq_len: int
    block: Profile
    embed: Profile
    head: Profile

    @property
    def tokens(self) -> int:
        """Tokens of one micro-batch on one rank (``micro_batch x seq/cp``)."""
        return self.micro_batch * self.seq_len // self.cp


def _config(shape: DecoderShape, tp: int):
    from accelscope.workload import nets

    return nets.TransformerConfig(vocab_size=shape.padded_vocab(tp), d_model=shape.hidden, n_layers=1,
                                  n_heads=shape.heads, n_kv_heads=shape.kv_heads, d_ff=shape.ffn,
                                  max_positions=shape.positions, flash_attention=shape.flash,
                                  n_experts=shape.experts, experts_per_token=shape.top_k,
                                  parallel_block=shape.parallel, rotary=shape.rotary,
                                  d_head=shape.head_dim or None)


def _block_module(shape: DecoderShape, tp: int, cp: int):
    import torch
    from torch import nn

    from accelscope.workload import nets

    c = _config(shape, tp)
    if shape.family == "gpt":
        return nets.GPT2Block(c, tp=tp, cp=cp)

    class RotaryBlock(nn.Module):  # a LLaMA block with its rotary tables made per call
        def __init__(self):
            super().__init__()
            self.block = nets.LlamaBlock(c, tp=tp, cp=cp)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            d = c.head_dim
            inv = 1.0 / c.rope_theta ** (torch.arange(0, d, 2, device=x.device).float() / d)
            ang = torch.outer(torch.arange(x.shape[1], device=x.device).float(), inv)
            emb = torch.cat((ang, ang), dim=-1)
            return self.block(x, emb.cos().to(x.dtype), emb.sin().to(x.dtype))

    return RotaryBlock()


def _embed_module(shape: DecoderShape, tp: int):
    import torch
    from torch import nn

    class Embed(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(shape.padded_vocab(tp) // tp, shape.hidden)
            self.positions = (nn.Embedding(shape.positions, shape.hidden) if shape.family == "gpt" and not shape.rotary
                              else None)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            x = self.tokens(tokens)
            if self.positions is not None:
                x = x + self.positions(torch.arange(tokens.shape[1], device=tokens.device))
            return x

    return Embed()


def _head_module(shape: DecoderShape, tp: int):
    import torch
    from torch import nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.LayerNorm(shape.hidden) if shape.family == "gpt" else nn.RMSNorm(shape.hidden)
            self.out = nn.Linear(shape.hidden, shape.padded_vocab(tp) // tp, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.out(self.norm(x))

    return Head()


def _hidden_inputs(batch: int, tokens: int, hidden: int):
    import torch

    return torch.randn(batch, tokens, hidden).requires_grad_()


def _token_inputs(batch: int, tokens: int, vocab: int):
    import torch

    return torch.randint(0, vocab, (batch, tokens))


def _trace_piece(spec: WorkloadSpec, name: str, build, make_inputs, make_targets, loss, cache: bool) -> Profile:
    """A piece's training-step profile (``traced_cached``)."""
    from accelscope.workload.workload import Workload

    from accelscope.workload.spec import FP8_BASE

    fp8 = spec.precision in FP8_BASE  # FP8 training: the base precision's trace with FP8 linear products
    w = Workload(name=f"{spec.model} [{name}]", build_model=build, make_inputs=make_inputs,
                 make_targets=make_targets, loss_fn=loss, task="train", batch_size=spec.batch_size or 1,
                 precision=FP8_BASE.get(spec.precision, spec.precision), optimizer=spec.optimizer, seq_len=spec.seq_len,
                 description=f"one rank's {name}")
    if fp8:
        from accelscope.workload.fp8 import with_fp8_linears

        return with_fp8_linears(traced_cached(w, cache), spec.precision)
    return traced_cached(w, cache)


def traced_cached(w, cache: bool) -> Profile:
    """The profile of a piece's Workload, from the on-disk profile cache when traced before
    (the piece's name in its spec makes the cache's key cover it), traced and kept otherwise."""
    from accelscope.workload import cache as profile_cache

    if cache and (hit := profile_cache.load(w.spec)) is not None:
        return hit
    from accelscope.workload.trace import trace

    traced = trace(w)
    if cache:
        profile_cache.save(traced)
    return traced


def decoder_pieces(spec: WorkloadSpec, *, tp: int = 1, cp: int = 1, cache: bool = True) -> DecoderPieces:
    """The pieces of one rank of ``spec`` (a resolved decoder spec whose ``batch_size`` is the
    micro-batch) under ``tp``-way tensor and ``cp``-way context parallelism (ConfigError
    when they do not divide the heads, the MLP width or the sequence). Traced once per shape
    (the execution mode changes how they run, not what they compute)."""
    return with_mode(_pieces(spec.with_(mode="eager"), tp, cp, cache), ("block", "embed", "head"), spec.mode)


@lru_cache(maxsize=512)
def _pieces(spec: WorkloadSpec, tp: int, cp: int, cache: bool) -> DecoderPieces:
    from accelscope.workload.workload import classification_loss, generic_loss

    shape = decoder_shape(spec)
    if shape is None:
        raise ConfigError(f"model {spec.model!r} is not a decoder accelscope can shard; tensor, pipeline and "
                          "context parallelism take gpt:..., llama:... or a named decoder preset")
    spec = spec.concrete()
    seq, mb = spec.seq_len or 2048, spec.batch_size or 1
    for n, what in ((shape.heads, "attention heads"), (shape.ffn, "MLP width (ffn)")):
        if n % tp:
            raise ConfigError(f"tensor parallel tp={tp} does not divide the {what} ({n}) of {spec.model}")
    if shape.kv_heads >= tp and shape.kv_heads % tp:
        raise ConfigError(f"tensor parallel tp={tp} does not divide the K/V heads ({shape.kv_heads}) of {spec.model}")
    if seq % cp:
        raise ConfigError(f"context parallel cp={cp} does not divide the sequence length {seq}")
    tokens = seq // cp
    vocab_shard = shape.padded_vocab(tp) // tp
    block = _trace_piece(spec, f"block tp={tp} cp={cp}", partial(_block_module, shape, tp, cp),
                         partial(_hidden_inputs, tokens=tokens, hidden=shape.hidden), None, generic_loss, cache)
    embed = _trace_piece(spec, f"embedding tp={tp}", partial(_embed_module, shape, tp),
                         partial(_token_inputs, tokens=tokens, vocab=vocab_shard), None, generic_loss, cache)
    head = _trace_piece(spec, f"head tp={tp}", partial(_head_module, shape, tp),
                        partial(_hidden_inputs, tokens=tokens, hidden=shape.hidden),
                        partial(_token_inputs, tokens=tokens, vocab=vocab_shard), classification_loss, cache)
    return DecoderPieces(shape=shape, tp=tp, cp=cp, micro_batch=mb, seq_len=seq, block=block, embed=embed,
                         head=head)


def describe(pieces: DecoderPieces) -> dict[str, Any]:
    """What the pieces are, for an estimate's parameters."""
    return {"family": pieces.shape.family, "layers": pieces.shape.layers, "tp": pieces.tp, "cp": pieces.cp,
            "micro_batch": pieces.micro_batch, "tokens_per_rank": pieces.tokens,
            "padded_vocab": pieces.shape.padded_vocab(pieces.tp),
            "traced": "one block, the embedding and the head, each a training step on fake tensors"}
