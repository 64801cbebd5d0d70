"""Model definitions for the zoo presets that torchvision does not provide.

Each class follows its published architecture closely enough that the parameter count
equals the published one (checked by tests). Weights are random; nothing is downloaded.

* BERT: Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers"
  (base: L=12, H=768, A=12, 110M; large: L=24, H=1024, A=16, 340M); vocabulary 30522,
  512 positions, 2 token types, GELU, post-LayerNorm, masked-LM head tied to the embeddings.
* GPT-2: Radford et al. 2019 (small: 12 layers, 768 wide, 12 heads, 1024 positions,
  vocabulary 50257, pre-LayerNorm, tied LM head: 124.44M parameters).
* LLaMA: Touvron et al. 2023 (LLaMA-7B: d=4096, 32 layers, 32 heads, FFN 11008);
  LLaMA-2-70B (d=8192, 80 layers, 64 query heads, 8 key/value heads, FFN 28672), both with
  vocabulary 32000, RMSNorm, rotary position embeddings, SwiGLU and an untied LM head.
* LSTM language model: Zaremba et al. 2014, "Recurrent Neural Network Regularization"
  (medium: 2 layers of 650 units, vocabulary 10000, 35 unrolled steps).
* ResNeXt-101 32x4d and SE-ResNeXt-101 32x4d as NVIDIA DeepLearningExamples defines them
  (PyTorch/Classification/ConvNets/image_classification/models/resnet.py and common.py):
  stages of [3, 4, 23, 3] bottlenecks, 3x3 widths 128/256/512/1024 in 32 groups (4 channels
  a group), expansion 2, the stride in the 3x3 convolution (ResNet v1.5), 1x1-convolution +
  BatchNorm shortcuts; the SE variant squeezes every block's output through a fixed 16-unit
  hidden layer (Linear, ReLU, Linear, sigmoid), not the paper's C/16.
"""

from __future__ import annotations


import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    """A multi-layer perceptron for 28x28 MNIST digits: 784-512-256-10 with ReLU."""

    def __init__(self, in_features: int = 784, hidden: tuple[int, ...] = (512, 256), classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """A small CIFAR-10 CNN: two conv-BN-ReLU-pool blocks (32, 64 channels) and two dense layers."""

    def __init__(self, in_channels: int = 3, classes: int = 10, image_size: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        )
        side = image_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * side * side, 256), nn.ReLU(), nn.Linear(256, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# -- Transformers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformerConfig:
    vocab_size: int
    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int
    max_positions: int
    n_kv_heads: int | None = None
    type_vocab_size: int = 0
    dropout: float = 0.0
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    #: decoders: fused (flash) attention; False computes it unfused, as Megatron-LM did before
    #: FlashAttention (a score product, a scaled, masked softmax, a product: ``causal_attention``)
    flash_attention: bool = True
    #: mixture of experts (LLaMA family): ``n_experts`` SwiGLU experts of width ``d_ff`` per
    #: layer, each token routed to ``experts_per_token`` of them (Mixtral: 8 and 2); 0: dense
    n_experts: int = 0
    experts_per_token: int = 2
    #: GPT family variants: attention and MLP side by side on the block's input (GPT-J,
    #: Falcon: ``x + attn(ln(x)) + mlp(ln(x))``) and rotary positions instead of learned ones
    parallel_block: bool = False
    rotary: bool = False
    #: decoders: each head's width when it is not ``d_model / n_heads`` (maxtext's 16B-128B:
    #: 32 heads of 256 on a 5120-12288 model); None: ``d_model / n_heads``
    d_head: int | None = None

    @property
    def head_dim(self) -> int:
        return self.d_head or self.d_model // self.n_heads


BERT_BASE = TransformerConfig(vocab_size=30522, d_model=768, n_layers=12, n_heads=12, d_ff=3072,
                              max_positions=512, type_vocab_size=2, dropout=0.1, norm_eps=1e-12)
BERT_LARGE = TransformerConfig(vocab_size=30522, d_model=1024, n_layers=24, n_heads=16, d_ff=4096,
                               max_positions=512, type_vocab_size=2, dropout=0.1, norm_eps=1e-12)
GPT2_SMALL = TransformerConfig(vocab_size=50257, d_model=768, n_layers=12, n_heads=12, d_ff=3072,
                               max_positions=1024, dropout=0.1)
LLAMA_7B = TransformerConfig(vocab_size=32000, d_model=4096, n_layers=32, n_heads=32, d_ff=11008,
                             max_positions=2048, norm_eps=1e-6)
LLAMA2_70B = TransformerConfig(vocab_size=32000, d_model=8192, n_layers=80, n_heads=64, n_kv_heads=8,
                               d_ff=28672, max_positions=4096, norm_eps=1e-5)


@dataclass(slots=True)
class KVCache:
    """One layer's keys and values for generation: ``k`` and ``v`` of shape (batch, kv_heads,
    capacity, head_dim), the first ``length`` positions filled. A block appends the keys and
    values of the tokens it runs and attends to everything filled so far."""

    k: torch.Tensor
    v: torch.Tensor
    length: int = 0

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t, end = k.shape[2], self.length + k.shape[2]
        if end > self.k.shape[2]:
            raise ValueError(f"the KV cache holds {self.k.shape[2]} positions; {end} were asked for")
        self.k[:, :, self.length:end] = k
        self.v[:, :, self.length:end] = v
        self.length = end
        return self.k[:, :, :end], self.v[:, :, :end]


def new_caches(c: "TransformerConfig", batch: int, capacity: int, *, tp: int = 1, layers: int | None = None,
               dtype: torch.dtype | None = None, device=None) -> list[KVCache]:
    """Empty KV caches of ``capacity`` positions for each layer (``kv_heads/tp`` heads each)."""
    kv = c.n_kv_heads or c.n_heads
    heads = kv // tp if kv >= tp else 1
    shape = (batch, heads, capacity, c.head_dim)
    return [KVCache(k=torch.zeros(shape, dtype=dtype, device=device), v=torch.zeros(shape, dtype=dtype, device=device))
            for _ in range(layers if layers is not None else c.n_layers)]


def _cached(k: torch.Tensor, v: torch.Tensor, cache: "KVCache | None") -> tuple[torch.Tensor, torch.Tensor, bool]:
    """(keys, values, causal) for attention: the new ones alone, or the cache with them appended.
    A prompt runs into an empty cache (causal); a decode step's single token attends to all of
    it (nothing to mask)."""
    if cache is None:
        return k, v, True
    if k.shape[2] > 1 and cache.length:
        raise ValueError("a cache takes a prompt when empty, then one token at a time")
    causal = cache.length == 0
    k, v = cache.append(k, v)
    return k, v, causal


def _split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    b, t, _ = x.shape
    return x.view(b, t, n_heads, -1).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def eager_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
                    drop: nn.Module) -> torch.Tensor:
    """Unfused attention as the original BERT and NVIDIA's DeepLearningExamples BERT compute it:
    a score product, a scale, an additive mask, a softmax and a dropout, each its own kernel
    over the (batch, heads, T, T) scores, then a second product."""
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    return torch.matmul(drop(F.softmax(scores, dim=-1)), v)


class BertLayer(nn.Module):
    def __init__(self, c: TransformerConfig, attention: str = "fused"):
        super().__init__()
        self.n_heads, self.attention = c.n_heads, attention
        self.query = nn.Linear(c.d_model, c.d_model)
        self.key = nn.Linear(c.d_model, c.d_model)
        self.value = nn.Linear(c.d_model, c.d_model)
        self.attn_out = nn.Linear(c.d_model, c.d_model)
        self.attn_norm = nn.LayerNorm(c.d_model, eps=c.norm_eps)
        self.intermediate = nn.Linear(c.d_model, c.d_ff)
        self.output = nn.Linear(c.d_ff, c.d_model)
        self.out_norm = nn.LayerNorm(c.d_model, eps=c.norm_eps)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = (_split_heads(p(x), self.n_heads) for p in (self.query, self.key, self.value))
        if self.attention == "eager":
            a = _merge_heads(eager_attention(q, k, v, mask, self.drop))
        else:
            a = _merge_heads(F.scaled_dot_product_attention(q, k, v))
        x = self.attn_norm(x + self.drop(self.attn_out(a)))
        return self.out_norm(x + self.drop(self.output(F.gelu(self.intermediate(x)))))


class Bert(nn.Module):
    """BERT encoder with pooler and a masked-LM head whose decoder is tied to the word embeddings.

    ``forward(tokens)`` returns MLM logits for the first ``mlm_positions`` positions of each
    sequence (15% of them, as in BERT pre-training, which predicts only masked tokens).
    """

    def __init__(self, c: TransformerConfig, mlm_fraction: float = 0.15, attention: str = "fused"):
        super().__init__()
        if attention not in ("fused", "eager"):
            raise ValueError(f"attention must be 'fused' or 'eager', not {attention!r}")
        self.config, self.mlm_fraction, self.attention = c, mlm_fraction, attention
        self.word = nn.Embedding(c.vocab_size, c.d_model)
        self.position = nn.Embedding(c.max_positions, c.d_model)
        self.token_type = nn.Embedding(c.type_vocab_size, c.d_model)
        self.emb_norm = nn.LayerNorm(c.d_model, eps=c.norm_eps)
        self.drop = nn.Dropout(c.dropout)
        self.layers = nn.ModuleList(BertLayer(c, attention) for _ in range(c.n_layers))
        self.pooler = nn.Linear(c.d_model, c.d_model)
        self.mlm_dense = nn.Linear(c.d_model, c.d_model)
        self.mlm_norm = nn.LayerNorm(c.d_model, eps=c.norm_eps)
        self.mlm_bias = nn.Parameter(torch.zeros(c.vocab_size))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        pos = torch.arange(t, device=tokens.device)
        x = self.word(tokens) + self.position(pos) + self.token_type(torch.zeros_like(tokens))
        x = self.drop(self.emb_norm(x))
        mask = None
        if self.attention == "eager":  # the additive padding mask, (batch, 1, 1, T); no padding here
            mask = (1.0 - torch.ones_like(tokens, dtype=x.dtype)[:, None, None, :]) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        self.pooled = torch.tanh(self.pooler(x[:, 0]))
        n_pred = max(1, round(self.mlm_fraction * t))
        h = self.mlm_norm(F.gelu(self.mlm_dense(x[:, :n_pred])))
        return F.linear(h, self.word.weight, self.mlm_bias)


def _context_kv(k: torch.Tensor, v: torch.Tensor, cp: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Context parallelism's keys and values: a rank's ``T/cp`` queries attend to the whole
    sequence, whose other ``cp - 1`` chunks of K and V arrive from the other ranks (ring
    attention); here the local chunk stands in for them (the same shapes and FLOPs)."""
    if cp == 1:
        return k, v
    return k.repeat(1, 1, cp, 1), v.repeat(1, 1, cp, 1)


def _sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cp: int, gqa: bool = False,
          flash: bool = True, drop: nn.Module | None = None, causal: bool = True) -> torch.Tensor:
    # causal; with context parallelism a rank's T/cp queries against all T keys, which the
    # load-balanced chunk order (Megatron's and TorchTitan's) leaves half masked on average.
    # A decode step's one query attends to the whole cache (causal=False).
    if not causal:
        return F.scaled_dot_product_attention(q, k, v, enable_gqa=gqa)
    if flash:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=gqa)
    return causal_attention(q, k, v, drop or nn.Identity())


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, drop: nn.Module) -> torch.Tensor:
    """Unfused causal attention as Megatron-LM computed it before FlashAttention (its
    CoreAttention: a batched score product, FusedScaleMaskSoftmax, dropout, a batched
    product): the (T x T) scores of every head are written and read."""
    if k.shape[1] != q.shape[1]:  # grouped-query attention without a fused kernel: copy K/V heads
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    t_q, t_k = q.shape[-2], k.shape[-2]
    mask = torch.full((t_q, t_k), float("-inf"), device=q.device, dtype=q.dtype).triu(1 + t_k - t_q)
    return eager_attention(q, k, v, mask, drop)


def _shard(n: int, tp: int, what: str) -> int:
    if n % tp:
        raise ValueError(f"{what} {n} is not divisible by the tensor-parallel degree {tp}")
    return n // tp


class GPT2Block(nn.Module):
    """A GPT-2 block; with ``tp > 1`` one rank's tensor-parallel shard of it (Megatron-LM's
    split, Shoeybi et al. 2019 section 3): the QKV and first MLP products column-split
    (``heads/tp`` heads, ``ffn/tp`` units), the output and second MLP products row-split;
    the norms, residuals and dropouts on the whole hidden width. With ``cp > 1`` it is one
    rank's sequence chunk under context parallelism (see ``_context_kv``)."""

    def __init__(self, c: TransformerConfig, tp: int = 1, cp: int = 1):
        super().__init__()
        self.c = c
        self.n_heads, self.cp, self.flash = _shard(c.n_heads, tp, "heads"), cp, c.flash_attention
        kv = c.n_kv_heads or c.n_heads
        self.n_kv = kv // tp if kv >= tp else 1  # grouped-query attention (Falcon) as in LlamaBlock
        width, self.kv_width = self.n_heads * c.head_dim, self.n_kv * c.head_dim
        self.width = width
        self.ln_1 = nn.LayerNorm(c.d_model, eps=c.norm_eps)
        self.c_attn = nn.Linear(c.d_model, width + 2 * self.kv_width)
        self.c_proj = nn.Linear(width, c.d_model)
        self.ln_2 = nn.LayerNorm(c.d_model, eps=c.norm_eps)
        self.c_fc = nn.Linear(c.d_model, _shard(c.d_ff, tp, "ffn"))
        self.mlp_proj = nn.Linear(_shard(c.d_ff, tp, "ffn"), c.d_model)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        q, k, v = self.c_attn(self.ln_1(x)).split([self.width, self.kv_width, self.kv_width], dim=-1)
        q, k, v = _split_heads(q, self.n_heads), _split_heads(k, self.n_kv), _split_heads(v, self.n_kv)
        if self.c.rotary:
            start = cache.length if cache is not None else 0
            cos, sin = rotary_tables(self.c, start, x.shape[1], x.device, x.dtype)
            q, k = q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
        k, v = _context_kv(k, v, self.cp)
        k, v, causal = _cached(k, v, cache)
        a = _merge_heads(_sdpa(q, k, v, self.cp, gqa=self.n_kv != self.n_heads, flash=self.flash, drop=self.drop,
                               causal=causal))
        attn = self.drop(self.c_proj(a))
        if self.c.parallel_block:  # GPT-J, Falcon: both branches read the block's input
            return x + attn + self.drop(self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")))
        x = x + attn
        return x + self.drop(self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")))


class Generates:
    """What a decoder offers generation (the serving protocol a user decoder follows too):
    ``vocab_size`` and ``new_caches``; ``forward(tokens, caches, last_only)`` is the model's."""

    config: TransformerConfig

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def new_caches(self, batch: int, capacity: int, dtype=None, device=None) -> list[KVCache]:
        """Empty KV caches of ``capacity`` positions, in the weights' type and device by default."""
        p = next(self.parameters())  # type: ignore[attr-defined]
        return new_caches(self.config, batch, capacity, dtype=dtype or p.dtype, device=device or p.device)


class GPT2(Generates, nn.Module):
    """GPT-2 decoder; the LM head shares the token-embedding matrix."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.config = c
        self.wte = nn.Embedding(c.vocab_size, c.d_model)
        self.wpe = None if c.rotary else nn.Embedding(c.max_positions, c.d_model)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(GPT2Block(c) for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.d_model, eps=c.norm_eps)

    def forward(self, tokens: torch.Tensor, caches: list[KVCache] | None = None,
                last_only: bool = False) -> torch.Tensor:
        """Logits of every position, or of the last only (``last_only``: what generation
        needs); with ``caches`` (``new_caches``) the tokens continue what the caches hold."""
        start = caches[0].length if caches else 0
        x = self.wte(tokens)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(start, start + tokens.shape[1], device=tokens.device))
        x = self.drop(x)
        for i, block in enumerate(self.blocks):
            x = block(x, caches[i]) if caches else block(x)
        if last_only:
            x = x[:, -1:]
        return F.linear(self.ln_f(x), self.wte.weight)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def active_experts(experts: int, top_k: int, tokens: int) -> int:
    """Experts that receive at least one of ``tokens`` tokens when each picks ``top_k`` of
    ``experts`` uniformly (a balanced router): ``E (1 - (1 - k/E)^T)``, rounded up: 2 of
    Mixtral's 8 for one token, all 8 for a batch of 16."""
    return min(experts, max(top_k, math.ceil(experts * (1 - (1 - top_k / experts) ** tokens) - 1e-9)))


class MoEMLP(nn.Module):
    """A mixture-of-experts SwiGLU MLP (Mixtral, Jiang et al. 2024): a router picks the top-k
    experts per token (softmax over their logits), each expert runs its tokens and the outputs
    are summed with the router's weights. Run for real, tokens go where the router sends them.
    On fake tensors (a trace) routing is data-dependent, so the trace assumes a balanced
    router: ``active_experts`` experts each run ``ceil(T k / active)`` tokens, which is what
    every weight read and every product costs then."""

    def __init__(self, c: TransformerConfig, ffn: int):
        super().__init__()
        self.k = c.experts_per_token
        self.router = nn.Linear(c.d_model, c.n_experts, bias=False)
        self.experts = nn.ModuleList(nn.ModuleDict({"gate": nn.Linear(c.d_model, ffn, bias=False),
                                                    "up": nn.Linear(c.d_model, ffn, bias=False),
                                                    "down": nn.Linear(ffn, c.d_model, bias=False)})
                                     for _ in range(c.n_experts))

    @staticmethod
    def _expert(e: nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
        return e["down"](F.silu(e["gate"](x)) * e["up"](x))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        shape = h.shape
        x = h.reshape(-1, shape[-1])
        weights, chosen = torch.topk(F.softmax(self.router(x), dim=-1), self.k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        from torch._subclasses.fake_tensor import is_fake

        if is_fake(x):  # a trace: a balanced router (see the class docstring)
            n = x.shape[0]
            active = active_experts(len(self.experts), self.k, n)
            per = math.ceil(n * self.k / active)
            rows = torch.arange(min(per, n), device=x.device)
            for e in list(self.experts)[:active]:
                out.index_add_(0, rows, self._expert(e, x[rows]) * weights[rows, :1])
            return out.reshape(shape)
        for i, e in enumerate(self.experts):
            rows, slot = (chosen == i).nonzero(as_tuple=True)
            if rows.numel():
                out.index_add_(0, rows, self._expert(e, x[rows]) * weights[rows, slot, None])
        return out.reshape(shape)


class LlamaBlock(nn.Module):
    """A LLaMA block; with ``tp > 1`` one rank's tensor-parallel shard (as ``GPT2Block``):
    ``heads/tp`` query heads and ``kv_heads/tp`` K/V heads (at least one: with fewer K/V
    heads than ranks each rank keeps a replica of one), ``ffn/tp`` gate/up units."""

    def __init__(self, c: TransformerConfig, tp: int = 1, cp: int = 1):
        super().__init__()
        kv = c.n_kv_heads or c.n_heads
        self.n_heads, self.cp, self.flash = _shard(c.n_heads, tp, "heads"), cp, c.flash_attention
        self.n_kv = kv // tp if kv >= tp else 1
        if kv >= tp and kv % tp:
            raise ValueError(f"kv_heads {kv} is not divisible by the tensor-parallel degree {tp}")
        kv_dim, width = self.n_kv * c.head_dim, self.n_heads * c.head_dim
        ffn = _shard(c.d_ff, tp, "ffn")
        self.input_norm = nn.RMSNorm(c.d_model, eps=c.norm_eps)
        self.q_proj = nn.Linear(c.d_model, width, bias=False)
        self.k_proj = nn.Linear(c.d_model, kv_dim, bias=False)
        self.v_proj = nn.Linear(c.d_model, kv_dim, bias=False)
        self.o_proj = nn.Linear(width, c.d_model, bias=False)
        self.post_norm = nn.RMSNorm(c.d_model, eps=c.norm_eps)
        self.moe = MoEMLP(c, ffn) if c.n_experts else None
        if self.moe is None:
            self.gate_proj = nn.Linear(c.d_model, ffn, bias=False)
            self.up_proj = nn.Linear(c.d_model, ffn, bias=False)
            self.down_proj = nn.Linear(ffn, c.d_model, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                cache: KVCache | None = None) -> torch.Tensor:
        h = self.input_norm(x)
        q = _split_heads(self.q_proj(h), self.n_heads)
        k = _split_heads(self.k_proj(h), self.n_kv)
        v = _split_heads(self.v_proj(h), self.n_kv)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        k, v = _context_kv(k, v, self.cp)
        k, v, causal = _cached(k, v, cache)
        # grouped-query attention: each K/V head serves heads/kv_heads query heads inside the
        # fused kernel (FlashAttention-2 and SDPA's enable_gqa do not materialise the copies)
        a = _merge_heads(_sdpa(q, k, v, self.cp, gqa=self.n_kv != self.n_heads, flash=self.flash, causal=causal))
        x = x + self.o_proj(a)
        h = self.post_norm(x)
        if self.moe is not None:
            return x + self.moe(h)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(Generates, nn.Module):
    """LLaMA-family decoder: RMSNorm, rotary embeddings, SwiGLU, optional grouped-query attention."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.config = c
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.layers = nn.ModuleList(LlamaBlock(c) for _ in range(c.n_layers))
        self.norm = nn.RMSNorm(c.d_model, eps=c.norm_eps)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)

    def _rope(self, t: int, device: torch.device, dtype: torch.dtype, start: int = 0
              ) -> tuple[torch.Tensor, torch.Tensor]:
        return rotary_tables(self.config, start, t, device, dtype)

    def forward(self, tokens: torch.Tensor, caches: list[KVCache] | None = None,
                last_only: bool = False) -> torch.Tensor:
        """As ``GPT2.forward``: every position's logits or the last one's, with or without caches."""
        start = caches[0].length if caches else 0
        x = self.embed(tokens)
        cos, sin = self._rope(tokens.shape[1], tokens.device, x.dtype, start)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, caches[i]) if caches else layer(x, cos, sin)
        if last_only:
            x = x[:, -1:]
        return self.lm_head(self.norm(x))


def rotary_tables(c: TransformerConfig, start: int, t: int, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """RoPE's cos and sin tables for positions ``start .. start + t``."""
    d = c.head_dim
    inv_freq = 1.0 / c.rope_theta ** (torch.arange(0, d, 2, device=device).float() / d)
    angles = torch.outer(torch.arange(start, start + t, device=device).float(), inv_freq)
    emb = torch.cat((angles, angles), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


class LSTMLanguageModel(nn.Module):
    """Word-level LSTM language model (Zaremba et al. 2014, medium configuration)."""

    def __init__(self, vocab_size: int = 10000, hidden: int = 650, layers: int = 2, dropout: float = 0.5):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden, vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.drop(self.embed(tokens)))
        return self.decoder(self.drop(out))


# -- ResNeXt (NVIDIA DeepLearningExamples ConvNets) ------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ResNeXtConfig:
    """Stage depths, the 3x3 (grouped) width of each stage, and the block's output/width ratio."""

    layers: tuple[int, ...]
    widths: tuple[int, ...]
    expansion: int
    groups: int
    stem_width: int = 64
    se_hidden: int = 0  # units of the squeeze-and-excitation hidden layer; 0: no SE


RESNEXT101_32X4D = ResNeXtConfig(layers=(3, 4, 23, 3), widths=(128, 256, 512, 1024), expansion=2, groups=32)
SE_RESNEXT101_32X4D = ResNeXtConfig(layers=(3, 4, 23, 3), widths=(128, 256, 512, 1024), expansion=2,
                                    groups=32, se_hidden=16)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018) as DeepLearningExamples builds it: global average
    pool, Linear to ``hidden`` units, ReLU, Linear back, sigmoid; ``forward`` rescales ``x``'s
    channels by the resulting gate."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.squeeze = nn.Linear(channels, hidden)
        self.expand = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.expand(F.relu(self.squeeze(x.mean(dim=(2, 3))))))
        return x * gate[:, :, None, None]


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout)]


class ResNeXtBottleneck(nn.Module):
    """1x1 reduce, 3x3 grouped (carrying the stride), 1x1 expand, optional SE, residual add, ReLU."""

    def __init__(self, cin: int, width: int, cout: int, *, stride: int, groups: int, se_hidden: int = 0):
        super().__init__()
        self.reduce = nn.Sequential(*_conv_bn(cin, width, 1), nn.ReLU(inplace=True))
        self.grouped = nn.Sequential(*_conv_bn(width, width, 3, stride, groups), nn.ReLU(inplace=True))
        self.expand = nn.Sequential(*_conv_bn(width, cout, 1))
        self.se = SqueezeExcitation(cout, se_hidden) if se_hidden else None
        self.shortcut = (nn.Sequential(*_conv_bn(cin, cout, 1, stride))
                         if stride != 1 or cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand(self.grouped(self.reduce(x)))
        if self.se is not None:
            out = self.se(out)
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + identity)


class ResNeXt(nn.Module):
    """ResNeXt / SE-ResNeXt classifier: 7x7/2 stem, 3x3/2 max pool, bottleneck stages (the first
    at stride 1, the others at stride 2), global average pool, Linear."""

    def __init__(self, c: ResNeXtConfig, classes: int = 1000, in_channels: int = 3):
        super().__init__()
        self.config = c
        self.stem = nn.Sequential(*_conv_bn(in_channels, c.stem_width, 7, 2), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages, cin = [], c.stem_width
        for i, (depth, width) in enumerate(zip(c.layers, c.widths, strict=True)):
            cout = width * c.expansion
            blocks = []
            for j in range(depth):
                blocks.append(ResNeXtBottleneck(cin, width, cout, stride=2 if i and not j else 1,
                                                groups=c.groups, se_hidden=c.se_hidden))
                cin = cout
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(cin, classes)
        for m in self.modules():  # DeepLearningExamples' default initialization ("-c fanin")
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def param_count(model: nn.Module) -> int:
    """Distinct parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())


__all__ = [
    "MLP", "SmallCNN", "Bert", "GPT2", "Llama", "LSTMLanguageModel", "TransformerConfig",
    "BERT_BASE", "BERT_LARGE", "GPT2_SMALL", "LLAMA_7B", "LLAMA2_70B", "param_count",
    "ResNeXt", "ResNeXtBottleneck", "ResNeXtConfig", "SqueezeExcitation", "RESNEXT101_32X4D",
    "SE_RESNEXT101_32X4D",
]
