"""LLM serving predicted: time to first token, time per output token, throughput, memory.

From a workload's prefill and decode pieces (``workload.serving``), each timed by the device's
own performance model (the roofline with its calibration), on ``tp`` tensor-parallel devices:

* **prefill** = L x the prompt's block + its embedding + the head on the last tokens, plus,
  with tensor parallelism, two all-reduces per layer of the prompt's activations (Megatron's
  split, as in training; ``models.distributed.collectives`` on the system's fabric);
* **decode step** = the same for one token per sequence against the KV cache at the mean
  context (``workload.serving.mean_decode_context``), two all-reduces per layer of one
  token's activations per sequence;
* a **static batch** of B requests: the first token comes out of the prefill, ``TTFT =
  prefill``, ``TPOT = decode step``, ``e2e = TTFT + (O - 1) TPOT``; output tokens per second
  ``B O / e2e`` over all devices (the TensorRT-LLM benchmark's definition);
* **continuous batching** of C requests in steady state (Orca, Yu et al. OSDI 2022; vLLM):
  while C sequences decode, a finished one is replaced by a new prompt every O / C steps, so
  O decode steps at batch C share the time of C prefills of one prompt: the cycle takes
  ``O x decode(C) + C x prefill(1)``, which the C x O tokens it yields divide; a request waits
  ``TTFT = prefill(1)`` (no queueing) and sees ``TPOT = cycle / O`` (its steps stalled by the
  prefills of others).

Memory per device: the weights of the rank's pieces (a GPT's head is its embedding), the KV
cache (``B (I + O)`` tokens x ``kv_bytes_per_token``) and the prefill's working set;
``max_batch_that_fits`` is how many sequences' caches and prefill working sets (which grow with
the batch) fit beside the weights in 90% of the device's memory. The decode step's time is split into its weight-bound part (matrix
products), its cache-bound part (attention over the cache) and the rest, by phase.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accelscope.hardware.schema import HardwareSpec
from accelscope.hardware.systems import Fabric
from accelscope.models.distributed import collectives as coll
from accelscope.models.estimate import Estimate
from accelscope.models.roofline_model import USABLE_MEMORY_FRACTION
from accelscope.workload.profile import Profile
from accelscope.workload.shard import value_bytes

MODEL_NAME = "serving/1"


def _pass(pieces, which: str, estimate: Callable[[Profile], Estimate]) -> tuple[float, dict[str, float], float]:
    """(time of one pass over all layers, the block's time by kind, host time) for ``prefill`` or ``decode``."""
    L = pieces.shape.layers
    blk = estimate(getattr(pieces, f"{which}_block"))
    emb = estimate(getattr(pieces, f"{which}_embed"))
    head = estimate(getattr(pieces, f"{which}_head"))
    kinds = {"weights": 0.0, "kv_cache": 0.0, "other": 0.0}
    for o in blk.ops:
        key = "weights" if o.category == "matmul" else "kv_cache" if o.category == "attention" else "other"
        kinds[key] += o.time_s * o.count
    scale = blk.step_time_s / (sum(kinds.values()) or 1.0)  # the block's step, host overlap included
    kinds = {k: L * v * scale for k, v in kinds.items()}
    return L * blk.step_time_s + emb.step_time_s + head.step_time_s, kinds, L * blk.host_s + emb.host_s + head.host_s


def predict_serving(spec, hw: HardwareSpec, *, pieces: Callable[[int], Any], estimate: Callable[[Profile], Estimate],
                    tp: int = 1, fabric: Fabric | None = None) -> Estimate:
    """Estimate serving ``spec`` (resolved, ``task="serve"``) on ``tp`` devices of ``hw``.
    ``pieces(batch)`` returns the ``workload.serving.ServingPieces`` for that many sequences."""
    from accelscope.errors import PredictionError
    from accelscope.workload.serving import kv_bytes_per_token, kv_value_bytes

    if spec.weights == "fp8" and not hw.peak_flops_per_s("fp8"):
        raise PredictionError(f"{hw.name} has no FP8 matrix peak ({hw.peak('fp8').reason or 'no FP8 tensor cores'}): "
                              "serve it in 16 bits, or with --weights int8 / int4 (weight-only)")
    inp, out = spec.input_tokens, spec.output_tokens
    continuous = spec.concurrency is not None
    batch = spec.concurrency if continuous else (spec.batch_size or 1)
    act = value_bytes(spec.precision)
    pc = pieces(batch)
    shape = pc.shape
    group = coll.span(tp, 1, fabric.devices_per_node) if (tp > 1 and fabric) else None

    def tp_comm(sequences: int, tokens: int) -> float:
        if group is None:
            return 0.0
        return 2 * shape.layers * coll.all_reduce_s(sequences * tokens * shape.hidden * act, group, fabric)

    decode_s, decode_kinds, decode_host = _pass(pc, "decode", estimate)
    decode_comm = tp_comm(batch, 1)
    decode_s += decode_comm
    if continuous:
        one = pieces(1)
        prefill_s, _, _ = _pass(one, "prefill", estimate)
        prefill_s += tp_comm(1, inp)
        cycle = out * decode_s + batch * prefill_s
        ttft, tpot, step = prefill_s, cycle / out, cycle
        prefill_total = batch * prefill_s
    else:
        prefill_s, _, _ = _pass(pc, "prefill", estimate)
        prefill_s += tp_comm(batch, inp)
        ttft, tpot = prefill_s, decode_s
        step = ttft + (out - 1) * tpot
        prefill_total = prefill_s
    decode_steps = out if continuous else out - 1

    weights = (shape.layers * pc.decode_block.param_bytes + pc.decode_embed.param_bytes
               + (0 if shape.family in ("gpt", "user") else pc.decode_head.param_bytes))
    per_token = pc.kv_bytes_per_token or kv_bytes_per_token(shape, tp, kv_value_bytes(spec))
    kv = batch * (inp + out) * per_token
    working = max(pc.prefill_block.activation_bytes, pc.prefill_head.activation_bytes)
    memory = weights + kv + working
    cap = hw.mem_bytes.number
    fits = None if cap is None else memory <= USABLE_MEMORY_FRACTION * cap
    max_batch = None
    if cap is not None:  # each sequence brings its cache and its share of the prefill's working set
        room = USABLE_MEMORY_FRACTION * cap - weights
        max_batch = max(0, int(room // ((inp + out) * per_token + working / batch)))

    L = shape.layers
    prefill_pc = pieces(1) if continuous else pc
    prefill_flops = (L * prefill_pc.prefill_block.flops + prefill_pc.prefill_head.flops) * (batch if continuous else 1)
    total_flops = int(tp * (prefill_flops + decode_steps * (L * pc.decode_block.flops + pc.decode_head.flops)))
    peak = hw.peak_flops_per_s(spec.precision) or None
    by_phase = {"prefill": prefill_total, "decode_weights": decode_steps * decode_kinds["weights"],
                "decode_kv_cache": decode_steps * decode_kinds["kv_cache"],
                "decode_other": decode_steps * (decode_kinds["other"]) + decode_steps * decode_comm}
    bound_by = {"prefill": prefill_total, "weights": by_phase["decode_weights"],
                "kv_cache": by_phase["decode_kv_cache"], "other": by_phase["decode_other"]}
    serving = {
        "static_batch": None if continuous else batch, "concurrency": batch if continuous else None,
        "input_tokens": inp, "output_tokens": out, "tensor_parallel": tp, "decode_context": pc.decode_context,
        "prefill_s": prefill_s, "decode_step_s": decode_s, "decode_tensor_parallel_s": decode_comm,
        "kv_cache_bytes": kv, "kv_bytes_per_token": per_token, "weight_bytes": weights,
        "max_batch_that_fits": max_batch, "fabric": fabric.to_dict() if fabric and tp > 1 else None,
    }
    blk_model = estimate(pc.decode_block).model
    return Estimate(
        hardware=hw.name, kind=hw.kind, spec=spec, precision=spec.precision, step_time_s=step,
        samples_per_step=batch, flops=total_flops, executed_flops=total_flops, peak_flops_per_s=peak,
        device_busy_s=step, host_s=decode_steps * decode_host, bound=max(bound_by, key=lambda k: bound_by[k]),
        time_by_bound_s=bound_by, time_by_category_s={}, time_by_phase_s=by_phase, memory_bytes=int(memory),
        memory_capacity_bytes=int(cap) if cap else None, fits_in_memory=fits,
        model=f"{MODEL_NAME} over {blk_model}", parameters={"serving": serving}, devices=tp,
        tokens_per_step=batch * out, ttft_s=ttft, tpot_s=tpot,
        notes=tuple(n for n in (fabric.notes if fabric and tp > 1 else ())),
    )
