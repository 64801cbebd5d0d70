"""One training iteration on many devices: compute from the per-op predictor on each rank's
sharded work, communication from alpha-beta collectives on the system's fabric, the
pipeline's bubble, and memory per device.

Every term of an iteration is named and summed (Calculon's and Megatron's own performance
notes do the same):

* **Compute.** A decoder's rank runs ``L/pp`` blocks of its tensor-parallel shard on
  micro-batches of ``seq/cp`` tokens (``workload.shard``: one block, the embedding and the
  head, each traced once), timed by the device's own performance model (the roofline, with
  its calibration): forward, backward and optimizer time per piece. Recompute adds to the
  backward pass the forward of every block (``full``), of its attention core
  (``selective``), or of its element-wise ops and every second matmul (``ops``). Any other model runs data parallel only: its whole profile per rank.
* **Tensor parallel**: per layer and micro-batch two all-reduces in the forward pass and two
  in the backward (Shoeybi et al. 2019, section 3), over ``micro_batch x seq/cp x hidden``
  activations; with sequence parallelism each is an all-gather and a reduce-scatter, the same
  volume (Korthikanti et al. 2022, section 4.2.2); full recompute repeats the forward ones.
  Not overlapped with compute (Megatron's default).
* **Context parallel**: each layer gathers the sequence's keys and values over the ``cp``
  group (and reduce-scatters their gradients), overlapped with the attention it feeds; only
  the excess is exposed.
* **Pipeline** (Narayanan et al. 2021): with ``m`` micro-batches and stage times ``t_i``
  (forward + backward of one micro-batch), 1F1B takes ``m * max(t) + (sum(t) - max(t)) / V``
  with ``V`` model chunks per device (1 without interleaving): the second term is the
  bubble. Each micro-batch's activations (``/tp``, Megatron's scatter-gather) cross every
  stage boundary forward and backward, ``V`` times with interleaving.
* **Data parallel**: the gradients of the rank's parameters are all-reduced over the
  ``dp x cp`` replicas (ZeRO 1/2: reduce-scattered, then the updated weights all-gathered:
  the same volume), overlapped with the last micro-batch's backward pass except for the last
  bucket (PyTorch DDP's ``bucket_cap_mb`` = 25 MiB); ZeRO-3 / FSDP all-gathers the weights
  before every forward and backward and reduce-scatters gradients after it, per micro-batch,
  overlapped with compute (prefetching) except for the first gather and the last scatter of a
  layer. With ZeRO >= 1 each rank updates ``1/(dp x cp)`` of the weights. PyTorch DDP also
  copies every gradient tensor into its bucket, scales it and copies it back: three small
  kernels per tensor on the compute stream (``DDP_KERNELS_PER_TENSOR``).
* **Memory per device**: weights, gradients and optimizer state of the rank's pieces as the
  trace counts them (amp keeps fp32 master weights), sharded per ZeRO stage; activations per
  layer as traced (the saved tensors of one block), divided by ``tp`` under sequence
  parallelism in the proportion of Korthikanti et al.'s equations 2 and 4 (``34/t`` against
  ``10 + 24/t``; fused attention stores no ``s x s`` scores, so selective recompute frees
  nothing more), half of it under ``ops`` (an approximation: the matmul outputs it saves are
  about half the block's saved bytes), the layer's input only under full recompute; the first stage holds
  ``min(m, pp)`` micro-batches in flight, ``x (1 + (pp-1)/(pp V))`` interleaved
  (Korthikanti et al. section 4.2.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accelscope.errors import ConfigError, PredictionError
from accelscope.hardware.schema import HardwareSpec
from accelscope.hardware.systems import Fabric
from accelscope.models.distributed import collectives as coll
from accelscope.models.distributed.layout import Layout
from accelscope.models.estimate import Estimate
from accelscope.models.roofline_model import USABLE_MEMORY_FRACTION
from accelscope.workload.profile import Profile
from accelscope.workload.shard import value_bytes

MODEL_NAME = "parallel/1"
#: PyTorch DDP's default gradient bucket (torch.nn.parallel.DistributedDataParallel,
#: ``bucket_cap_mb=25``); the last one to be reduced cannot overlap the backward pass.
DDP_BUCKET_BYTES = 25 * 2**20


@dataclass(frozen=True, slots=True, kw_only=True)
class PieceTime:
    """Per-micro-batch times of one piece on one rank, from its single-device estimate."""

    forward_s: float
    backward_s: float
    optimizer_s: float
    attention_forward_s: float
    matmul_forward_s: float
    host_s: float
    by_category: dict[str, float]

    @classmethod
    def of(cls, e: Estimate) -> "PieceTime":
        ph = e.time_by_phase_s
        fwd = [o for o in e.ops if o.phase == "forward"]
        attn = sum(o.time_s * o.count for o in fwd if o.category == "attention")
        mm = sum(o.time_s * o.count for o in fwd if o.category == "matmul")
        return cls(forward_s=ph.get("forward", 0.0), backward_s=ph.get("backward", 0.0),
                   optimizer_s=ph.get("optimizer", 0.0), attention_forward_s=attn, matmul_forward_s=mm,
                   host_s=e.host_s,
                   by_category=dict(e.time_by_category_s))


def _param_bytes_16(profile: Profile, precision: str) -> float:
    """Bytes of the weights FSDP gathers (amp gathers its 16-bit copies, as FSDP2's
    ``MixedPrecisionPolicy(param_dtype=bf16)`` does)."""
    return profile.params * value_bytes(precision)


def stage_layers(layers: int, pp: int) -> list[int]:
    """Layers per pipeline stage: ``layers // pp`` each, the remainder one apiece on the middle
    stages first (the first holds the embedding, the last the head), then the last, then the
    first — a uniform partition like Megatron-DeepSpeed's, balanced for the ends' extra work."""
    counts = [layers // pp] * pp
    order = list(range(1, pp - 1)) + ([pp - 1, 0] if pp > 1 else [0])
    for i in order[:layers % pp]:
        counts[i] += 1
    return counts


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    forward_s: float
    backward_s: float
    optimizer_s: float
    tp_comm_s: float
    cp_exposed_s: float

    @property
    def time_s(self) -> float:
        return self.forward_s + self.backward_s + self.tp_comm_s + self.cp_exposed_s


def predict_parallel(spec_micro, hw: HardwareSpec, layout: Layout, fabric: Fabric, *,
                     estimate: Callable[[Profile], Estimate],
                     pieces: Callable[[int, int], Any] | None = None, whole: Profile | None = None) -> Estimate:
    """Estimate one iteration of ``layout`` on ``hw`` devices joined by ``fabric``.

    ``estimate(profile)`` is the device's single-device model (with its calibration);
    ``pieces(tp, cp)`` returns the ``workload.shard.DecoderPieces`` of a decoder at the
    layout's micro-batch; ``whole`` is the per-rank profile of any other model (data
    parallel only).
    """
    if pieces is None and whole is None:
        raise PredictionError("predict_parallel needs a decoder's pieces or the model's profile")
    if whole is not None and (layout.tp, layout.pp, layout.cp) != (1, 1, 1):
        raise ConfigError(f"{spec_micro.model}: tensor, pipeline and context parallelism split a decoder's "
                              "layers and heads; for this model only data parallelism (dp, ZeRO, FSDP) is modelled. "
                              "Use gpt:..., llama:... or a named decoder preset to split layers")
    strides = layout.strides()
    groups = {k: coll.span(getattr(layout, k), strides[k], fabric.devices_per_node) for k in ("tp", "cp", "pp")}
    dp_group = coll.span(layout.dp * layout.cp, layout.tp, fabric.devices_per_node)
    precision = spec_micro.precision
    act = value_bytes(precision)
    m, V, pp = layout.microbatches, layout.virtual_stages, layout.pp
    notes: list[str] = list(fabric.notes)

    if pieces is not None:
        pc = pieces(layout.tp, layout.cp)
        L = pc.shape.layers
        if V > 1 and L % (pp * V):
            raise ConfigError(f"pipeline parallel pp={pp}: {pp} stages x {V} chunks do not divide the {L} layers of "
                              f"{spec_micro.model}; choose pp and V dividing {L}, or the 1f1b schedule")
        if pp > L:
            raise ConfigError(f"pipeline parallel pp={pp}: more stages than the {L} layers of {spec_micro.model}")
        counts = stage_layers(L, pp)
        if len(set(counts)) > 1:
            notes.append(f"uneven pipeline: {L} layers over {pp} stages of {min(counts)} or {max(counts)} (the "
                         "extra layers on the stages without the embedding or head); the slowest stage paces it")
        if V > 1 and m % pp:
            raise ConfigError(f"the interleaved schedule needs the micro-batches per replica ({m}) to be a multiple "
                              f"of the pipeline stages ({pp}), as Megatron-LM requires; raise --global-batch")
        blk, emb, head = (estimate(p) for p in (pc.block, pc.embed, pc.head))
        tb, te, th = PieceTime.of(blk), PieceTime.of(emb), PieceTime.of(head)
        nb = max(counts)  # the largest stage's layers: its memory, gradients and host time
        tokens = pc.tokens
        hidden = pc.shape.hidden
        # tensor parallel: per layer, per micro-batch
        s_tp = tokens * hidden * act  # tokens: the micro-batch's, on this rank
        n_tp = 4 + (2 if layout.recompute == "full" else 0)
        tp_layer = n_tp * coll.all_reduce_s(s_tp, groups["tp"], fabric)
        # context parallel: gather K and V (forward), again and reduce-scatter their gradients (backward)
        cp_layer = 0.0
        if layout.cp > 1:
            kv_heads_rank = max(1, pc.shape.kv_heads // layout.tp)
            s_kv = 2 * layout.micro_batch * pc.seq_len * kv_heads_rank * pc.shape.head_width * act
            c_f = coll.all_gather_s(s_kv, groups["cp"], fabric)
            c_b = 2 * c_f
            cp_layer = max(0.0, c_f - tb.attention_forward_s) + max(0.0, c_b - 2 * tb.attention_forward_s)
        # ops: every second matmul and all element-wise work again (attention outputs are saved)
        ops_recompute = tb.forward_s - tb.attention_forward_s - tb.matmul_forward_s / 2
        recompute = {"none": 0.0, "selective": tb.attention_forward_s, "ops": ops_recompute,
                     "full": tb.forward_s}[layout.recompute]

        def stage(n: int, first: bool, last: bool) -> Stage:
            f = n * tb.forward_s + (te.forward_s if first else 0.0) + (th.forward_s if last else 0.0)
            b = n * (tb.backward_s + recompute) + (te.backward_s if first else 0.0) + (th.backward_s if last else 0.0)
            o = n * tb.optimizer_s + (te.optimizer_s if first else 0.0) + (th.optimizer_s if last else 0.0)
            return Stage(forward_s=f, backward_s=b, optimizer_s=o, tp_comm_s=n * tp_layer, cp_exposed_s=n * cp_layer)

        stages = [stage(n, i == 0, i == pp - 1) for i, n in enumerate(counts)]
        # a GPT's head is its embedding matrix (tied): one copy of the weights on a single
        # stage; with pipelines the last stage keeps its own copy, as Megatron-LM does
        tied = pc.shape.family == "gpt" and pp == 1
        rank_profiles = {"block": (pc.block, nb), "embed": (pc.embed, 1), "head": (pc.head, 0 if tied else 1)}
        # pipeline point-to-point: activations of one micro-batch, /tp (scatter-gather or SP)
        s_p2p = tokens * hidden * act / layout.tp
        p2p = 2 * coll.p2p_s(s_p2p, strides["pp"], fabric) if pp > 1 else 0.0
        # model FLOPs of one micro-batch over the whole model, per tp x cp shard group
        flops_micro = (L * pc.block.flops + pc.embed.flops + pc.head.flops) * layout.tp * layout.cp
        by_cat = _categories([(tb, nb), (te, 1), (th, 1)])
        host_s = nb * tb.host_s + te.host_s + th.host_s
    else:
        e = estimate(whole)  # type: ignore[arg-type]
        t = PieceTime.of(e)
        stages = [Stage(forward_s=t.forward_s, backward_s=t.backward_s, optimizer_s=t.optimizer_s,
                        tp_comm_s=0.0, cp_exposed_s=0.0)]
        rank_profiles = {"model": (whole, 1)}
        p2p, tokens, nb = 0.0, None, 1
        flops_micro = whole.flops  # type: ignore[union-attr]
        by_cat = dict(t.by_category)
        host_s = t.host_s

    times = [s.time_s for s in stages]
    t_max = max(times)
    bubble = (sum(times) - t_max) / V
    p2p_total = (m * V + pp - 1) * p2p if pp > 1 else 0.0
    pipeline_s = m * t_max + bubble + p2p_total
    slowest = stages[times.index(t_max)]

    # data parallel (and ZeRO / FSDP) over the dp x cp replicas of each weight
    grad_bytes = sum(p.grad_bytes * n for p, n in rank_profiles.values())
    gather_bytes = sum(_param_bytes_16(p, precision) * n for p, n in rank_profiles.values())
    replicas = layout.dp * layout.cp
    dp_comm = dp_exposed = 0.0
    if replicas > 1:
        if layout.zero == 3:
            per_micro = (2 * coll.all_gather_s(gather_bytes, dp_group, fabric)
                         + coll.reduce_scatter_s(grad_bytes, dp_group, fabric))
            dp_comm = m * per_micro
            units = nb if pieces is not None else 1
            compute = m * (slowest.forward_s + slowest.backward_s)
            dp_exposed = max(0.0, dp_comm - compute) + (dp_comm / m / units if units > 1 else 0.0)
            if pieces is None:
                notes.append("FSDP of a model whose layers are not known: its gathers and scatters are taken as "
                              "overlapped with compute as far as compute lasts")
        else:
            reduce = coll.all_reduce_s(grad_bytes, dp_group, fabric)
            dp_comm = reduce
            tail = coll.all_reduce_s(min(grad_bytes, DDP_BUCKET_BYTES), dp_group, fabric)
            window = slowest.backward_s if layout.overlap_dp else 0.0
            dp_exposed = max(tail, reduce - window) if layout.overlap_dp else reduce
    optimizer_s = slowest.optimizer_s / (replicas if layout.zero >= 1 else 1)
    ddp_s = _ddp_copies_s(rank_profiles, hw) if layout.uses_ddp else 0.0
    step = pipeline_s + dp_exposed + optimizer_s + ddp_s

    tp_total = m * slowest.tp_comm_s
    cp_total = m * slowest.cp_exposed_s
    compute_s = m * (slowest.forward_s + slowest.backward_s) + optimizer_s
    comm_s = tp_total + cp_total + p2p_total + dp_comm
    exposed = tp_total + cp_total + p2p_total + dp_exposed
    memory = _memory(layout, rank_profiles, precision, act,
                     None if pieces is None else tokens * pc.shape.hidden)
    cap = hw.mem_bytes.number
    fits = None if cap is None else memory["total"] <= USABLE_MEMORY_FRACTION * cap

    flops = int(flops_micro * m * layout.dp)  # tp x cp already counted in flops_micro
    peak = hw.peak_flops_per_s(precision) or None
    samples = layout.global_batch
    by_phase = {"forward": m * slowest.forward_s, "backward": m * slowest.backward_s,
                "optimizer": optimizer_s, "communication": exposed, "bubble": bubble}
    by_bound = {"compute": compute_s, "communication": exposed, "bubble": bubble}
    bound = max(by_bound, key=lambda k: by_bound[k])
    parallel = {
        "layout": layout.to_dict(), "fabric": fabric.to_dict(),
        "tensor_parallel_s": tp_total, "context_parallel_exposed_s": cp_total, "pipeline_p2p_s": p2p_total,
        "data_parallel_s": dp_comm, "data_parallel_exposed_s": dp_exposed, "ddp_bucket_copies_s": ddp_s,
        "stage_times_s": times, "memory_bytes_by_kind": memory,
        "groups": {k: {"size": g.size, "per_node": g.per_node, "nodes": g.nodes}
                   for k, g in {**groups, "dp": dp_group}.items()},
    }
    if pieces is not None:
        from accelscope.workload.shard import describe

        parallel["pieces"] = describe(pc)
    est = Estimate(
        hardware=hw.name, kind=hw.kind, spec=spec_micro, precision=precision, step_time_s=step,
        samples_per_step=samples, flops=flops, executed_flops=flops, peak_flops_per_s=peak,
        device_busy_s=compute_s, host_s=m * host_s, bound=bound, time_by_bound_s=by_bound,
        # per micro-batch categories m times; the optimizer once per step, sharded as optimizer_s is
        time_by_category_s={k: v * m if k != "optimizer" else v / (replicas if layout.zero >= 1 else 1)
                            for k, v in by_cat.items()}, time_by_phase_s=by_phase,
        memory_bytes=int(memory["total"]), memory_capacity_bytes=int(cap) if cap else None, fits_in_memory=fits,
        model=f"{MODEL_NAME} over {blk.model if pieces is not None else e.model}", parameters={"parallel": parallel},
        devices=layout.devices, compute_s=compute_s, communication_s=comm_s, exposed_communication_s=exposed,
        bubble_s=bubble, tokens_per_step=None if pieces is None else samples * pc.seq_len,
        notes=tuple(notes),
    )
    return est


#: Kernels PyTorch DDP runs per gradient tensor on the compute stream: the scale and the copy
#: into its bucket (pytorch/pytorch PR #176638: "N per-parameter kernel launches
#: (mul_out/copy_/div_)"), and the copy of the reduced bucket back into ``.grad`` (the DDP
#: docs: ``gradient_as_bucket_view=True`` avoids "the overhead of copying between gradients
#: and allreduce communication buckets"; False is the default).
DDP_KERNELS_PER_TENSOR = 3


def _ddp_copies_s(rank_profiles: dict[str, tuple[Profile, int]], hw: HardwareSpec) -> float:
    """Device time of DDP's per-tensor bucket copies: each kernel at least the device's
    back-to-back kernel time, or its read and write of the gradient at the memory bandwidth."""
    from accelscope.models.roofline_model import _gpu_ceilings

    if hw.kind == "gpu":
        c = _gpu_ceilings(hw)
        floor = c["kernel_launch_s"].number or 0.0
        bw = c["mem_bandwidth_bytes_per_s"].number or hw.mem_bandwidth_bytes_per_s.number
    else:
        floor, bw = 0.0, hw.mem_bandwidth_bytes_per_s.number
    total = 0.0
    for p, n in rank_profiles.values():
        tensors = p.param_tensors or 0
        if not tensors:
            continue
        per_tensor_bytes = 2 * p.grad_bytes / tensors  # read and write
        per_kernel = max(floor, per_tensor_bytes / bw) if bw else floor
        total += n * tensors * DDP_KERNELS_PER_TENSOR * per_kernel
    return total


def _categories(parts: list[tuple[PieceTime, int]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for t, n in parts:
        for k, v in t.by_category.items():
            out[k] = out.get(k, 0.0) + v * n
    return out


def _memory(layout: Layout, rank_profiles: dict[str, tuple[Profile, int]], precision: str, act: int,
            layer_input: int | None) -> dict[str, float]:
    """Bytes per device of the most loaded rank (the first stage, which also holds the
    embedding; the head's logits are counted on it too when pp = 1)."""
    replicas = layout.dp * layout.cp
    weights = sum(p.param_bytes * n for p, n in rank_profiles.values())
    grads = sum(p.grad_bytes * n for p, n in rank_profiles.values())
    state = sum(p.optimizer_state_bytes * n for p, n in rank_profiles.values())
    if layout.zero >= 1:
        state /= replicas
    if layout.zero >= 2:
        grads /= replicas
    gathered = 0.0
    if layout.zero >= 3:
        weights /= replicas
        unit, _ = rank_profiles.get("block", next(iter(rank_profiles.values())))
        gathered = 2 * _param_bytes_16(unit, precision)  # the layer being run and the one prefetched
    if layer_input is not None:
        block, nb = rank_profiles["block"]
        per_layer = float(block.activation_bytes)
        if layout.sp:
            per_layer *= (34 / layout.tp) / (10 + 24 / layout.tp)
        if layout.recompute == "ops":  # about half the matmul outputs and the attention output kept
            per_layer /= 2
        if layout.recompute == "full":
            per_layer = layer_input * act / (layout.tp if layout.sp else 1)
            working = float(block.activation_bytes)  # one layer recomputed at a time
        else:
            working = 0.0
        in_flight = min(layout.microbatches, layout.pp)
        if layout.schedule == "interleaved":
            in_flight *= 1 + (layout.pp - 1) / (layout.pp * layout.virtual_stages)
        ends = rank_profiles["embed"][0].activation_bytes + (rank_profiles["head"][0].activation_bytes
                                                             if layout.pp == 1 else 0)
        activations = per_layer * nb * in_flight + working + ends * in_flight
    else:
        activations = float(rank_profiles["model"][0].activation_bytes + rank_profiles["model"][0].input_bytes)
    total = weights + grads + state + gathered + activations
    return {"weights": weights, "gradients": grads, "optimizer_state": state, "gathered_weights": gathered,
            "activations": activations, "total": total}


__all__ = ["MODEL_NAME", "PieceTime", "Stage", "predict_parallel"]
