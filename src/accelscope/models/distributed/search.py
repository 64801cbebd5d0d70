"""The valid layouts for N devices, ranked by throughput (``predict --search``).

Enumerated: every ``dp x tp x pp x cp = N`` with tensor parallelism inside a node and
dividing the heads and the MLP width, pipeline stages dividing the layers, context
parallelism dividing the sequence (chunks of at least ``MIN_CP_TOKENS`` tokens); for each,
micro-batches that divide the per-replica batch, ZeRO stages 0-3, the three recompute modes
and, with pipelines, the interleaved schedule with 2 or 4 chunks per device where the
layers and micro-batches allow (Megatron requires the micro-batch count to be a multiple of
the stages). A model that is not a shardable decoder has data parallelism only. The global
batch is the same for every layout, so throughputs compare.

Each candidate costs arithmetic only: the per-piece estimates are computed once per
``(tp, cp, micro-batch)`` shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from accelscope.errors import AccelscopeError
from accelscope.models.distributed.layout import Layout
from accelscope.models.estimate import Estimate

MIN_CP_TOKENS = 1024
MICRO_BATCHES = (1, 2, 4, 8, 16)
CHUNKS = (2, 4)


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    layout: Layout
    estimate: Estimate | None
    reason: str | None = None  # why it has no estimate

    @property
    def fits(self) -> bool:
        return bool(self.estimate is not None and self.estimate.fits_in_memory is not False)

    @property
    def binding(self) -> str:
        """What limits it: memory (does not fit), or the largest term of its iteration."""
        if self.estimate is None:
            return self.reason or "invalid"
        if self.estimate.fits_in_memory is False:
            return "memory"
        return self.estimate.bound

    def to_dict(self) -> dict[str, Any]:
        e = self.estimate
        return {"layout": self.layout.to_dict(), "label": self.layout.label, "fits_in_memory": self.fits,
                "binding": self.binding, "step_time_s": e.step_time_s if e else None,
                "throughput_samples_per_s": e.throughput_samples_per_s if e else None,
                "tokens_per_s": e.tokens_per_s if e else None, "mfu": e.mfu if e else None,
                "memory_bytes": e.memory_bytes if e else None, "reason": self.reason}


def layouts(devices: int, *, devices_per_node: int, global_batch: int, shape=None, seq_len: int | None = None,
            zero: tuple[int, ...] = (0, 1, 2, 3), recompute: tuple[str, ...] = ("none", "selective", "full"),
            micro_batches: tuple[int, ...] = MICRO_BATCHES) -> Iterator[Layout]:
    """Every valid layout of ``devices`` (``shape``: a ``workload.shard.DecoderShape``, or
    None for a model that is data parallel only)."""
    for tp in divisors(devices) if shape is not None else [1]:
        if tp > devices_per_node or (shape is not None and (shape.heads % tp or shape.ffn % tp
                                                           or (shape.kv_heads >= tp and shape.kv_heads % tp))):
            continue
        for cp in divisors(devices // tp) if shape is not None else [1]:
            if cp > 1 and (not seq_len or seq_len % cp or seq_len // cp < MIN_CP_TOKENS):
                continue
            for pp in divisors(devices // (tp * cp)) if shape is not None else [1]:
                if shape is not None and shape.layers % pp:
                    continue
                dp = devices // (tp * cp * pp)
                if global_batch % dp:
                    continue
                for mb in micro_batches:
                    if (global_batch // dp) % mb:
                        continue
                    m = global_batch // (dp * mb)
                    schedules = [("1f1b", 1)]
                    if pp > 1 and m % pp == 0:
                        schedules += [("interleaved", v) for v in CHUNKS if shape.layers % (pp * v) == 0]
                    for z in zero if dp * cp > 1 else (0,):
                        for rc in recompute if shape is not None else ("none",):
                            for sched, v in schedules:
                                yield Layout(dp=dp, tp=tp, pp=pp, cp=cp, zero=z, micro_batch=mb,
                                             global_batch=global_batch, recompute=rc, schedule=sched,
                                             virtual_stages=v)


def search(candidates: Iterator[Layout], evaluate: Callable[[Layout], Estimate], *,
           progress: Callable[[int, int, str], None] | None = None) -> list[Candidate]:
    """Each layout evaluated; those that fit first, fastest first, then those that do not
    (``progress(done, total, layout)`` after each)."""
    out: list[Candidate] = []
    todo = list(candidates)
    for i, layout in enumerate(todo, 1):
        try:
            out.append(Candidate(layout=layout, estimate=evaluate(layout)))
        except AccelscopeError as exc:
            out.append(Candidate(layout=layout, estimate=None, reason=str(exc)))
        if progress:
            progress(i, len(todo), layout.label)
    out.sort(key=lambda c: (not c.fits, c.estimate is None,
                            -(c.estimate.throughput_samples_per_s if c.estimate else 0.0)))
    return out
