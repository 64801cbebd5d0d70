"""bench --task serve: a decoder's real generate loop on a local device, timed.

The zoo's decoder (``nets.GPT2`` / ``nets.Llama``, randomly initialised: no weights are
downloaded) runs generation as servers do: a prefill of the batch's prompts into a KV cache
(``nets.new_caches``), the first token sampled (greedy) from the last position's logits, then
one decode step per further token, each appending to the cache. The device is synchronised
before each clock reading, so the time to first token (prefill and its sampling) and every
decode step are timed separately. One whole generation runs first to warm up; then
generations repeat until ``max_time_s`` (at least 3, at most 50). Reported: the medians over
generations of the TTFT, of the mean decode step (TPOT) and of the end-to-end time, with
their spread, the output tokens per second, and how much of each generation the timed parts
cover (``consistency``).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from accelscope.errors import ConfigError
from accelscope.workload.spec import WorkloadSpec

MIN_RUNS, MAX_RUNS = 3, 50
DTYPES = {"fp32": "float32", "tf32": "float32", "bf16": "bfloat16", "fp16": "float16", "amp-bf16": "bfloat16",
          "amp-fp16": "float16"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServingMeasurement:
    spec: WorkloadSpec
    device: str
    threads: int | None
    runs: int
    ttft_s: float
    tpot_s: float
    e2e_s: float
    ttft_iqr_s: float
    tpot_iqr_s: float
    output_tokens_per_s: float
    #: the median over generations of (TTFT + the decode steps) / end to end: 1 when the timed
    #: parts cover the whole generation (no untimed gaps between them)
    consistency: float = 1.0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["spec"] = self.spec.to_dict()
        d["notes"] = list(self.notes)
        d.update(model=self.spec.model, task="serve", batch_size=self.spec.batch_size,
                 precision=self.spec.precision, input_tokens=self.spec.input_tokens,
                 output_tokens=self.spec.output_tokens)
        return d


def _iqr(xs: list[float]) -> float:
    if len(xs) < 4:
        return max(xs) - min(xs)
    q = statistics.quantiles(xs, n=4)
    return q[2] - q[0]


def bench_serve(spec: WorkloadSpec, *, device: str = "cpu", max_time_s: float = 10.0,
                threads: int | None = None) -> ServingMeasurement:
    """Measure ``spec`` (``task="serve"``, a static batch) on ``device``."""
    import torch

    from accelscope.measure.devices import resolve_devices
    from accelscope.measure.environment import physical_cores
    from accelscope.workload import nets
    from accelscope.workload.zoo import decoder_config

    spec = spec.concrete().resolved()
    if spec.concurrency is not None:
        raise ConfigError("bench --task serve measures a static --batch; continuous batching (--concurrency) is "
                          "predicted only")
    devs = resolve_devices(device)
    if len(devs) != 1:
        raise ConfigError(f"bench --task serve measures one device at a time; got {device!r}")
    dev = devs[0]
    found = decoder_config(spec.model)
    dtype = getattr(torch, DTYPES[spec.precision])
    batch, inp, out = spec.batch_size or 1, spec.input_tokens, spec.output_tokens
    n_threads = None
    if dev.kind == "cpu":
        n_threads = threads or physical_cores()
    old_threads = torch.get_num_threads()
    try:
        if n_threads:
            torch.set_num_threads(n_threads)
        with dev.activate(), torch.inference_mode():
            tdev = dev.torch_device
            torch.manual_seed(0)
            if found is not None:
                family, cfg = found
                model = (nets.GPT2 if family == "gpt" else nets.Llama)(nets.TransformerConfig(**cfg))
            else:  # your own decoder, following workload.serving.USER_DECODER_PROTOCOL
                from accelscope.workload.serving import _user_shape
                from accelscope.workload.zoo import _checked_factory, _import_callable

                model = _checked_factory(spec.model, _import_callable(spec.model, "model factory"))()
                _user_shape(model)
            model = model.to(device=tdev, dtype=dtype).eval()
            prompt = torch.randint(0, model.vocab_size, (batch, inp), device=tdev)

            def generate() -> tuple[float, list[float], float]:
                caches = model.new_caches(batch, inp + out, dtype=dtype, device=tdev)
                dev.synchronize()
                t0 = dev.clock()
                token = model(prompt, caches, last_only=True).argmax(-1)
                dev.synchronize()
                t1 = dev.clock()
                steps = []
                for _ in range(out - 1):
                    a = dev.clock()
                    token = model(token, caches, last_only=True).argmax(-1)
                    dev.synchronize()
                    steps.append(dev.clock() - a)
                return t1 - t0, steps, dev.clock() - t0

            generate()  # warm-up
            ttfts, tpots, e2es, parts = [], [], [], []
            start = time.perf_counter()
            while len(ttfts) < MAX_RUNS and (len(ttfts) < MIN_RUNS or time.perf_counter() - start < max_time_s):
                ttft, steps, e2e = generate()
                ttfts.append(ttft)
                tpots.append(sum(steps) / len(steps) if steps else 0.0)
                e2es.append(e2e)
                parts.append((ttft + sum(steps)) / e2e)
    finally:
        torch.set_num_threads(old_threads)
    e2e = statistics.median(e2es)
    notes = [] if out > 1 else ["one output token: no decode step, TPOT is 0"]
    return ServingMeasurement(spec=spec, device=dev.name, threads=n_threads, runs=len(ttfts),
                              ttft_s=statistics.median(ttfts), tpot_s=statistics.median(tpots), e2e_s=e2e,
                              ttft_iqr_s=_iqr(ttfts), tpot_iqr_s=_iqr(tpots),
                              output_tokens_per_s=batch * out / e2e, consistency=statistics.median(parts),
                              notes=tuple(notes))
