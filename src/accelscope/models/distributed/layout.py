"""A parallel layout as a small value object, parsed and checked.

``dp x tp x pp x cp`` devices: data parallel replicas, tensor-parallel shards of every
layer (Megatron-LM), pipeline stages of consecutive layers and context-parallel chunks of
the sequence. ``zero`` is the ZeRO stage of the data-parallel replicas (Rajbhandari et al.
2020: 1 shards the optimizer state, 2 also the gradients, 3 also the weights, which is
FSDP); ``recompute`` is the activation recomputation of Korthikanti et al. 2022 (``none``,
``selective``: the attention core, ``full``: every layer from its input) or TorchTitan's
op-level selective checkpointing (``ops``: matmul and attention outputs saved except every
second matmul's, everything else recomputed; torchtitan ``parallelize_llama._save_list``);
``schedule`` is 1F1B, or ``interleaved`` with ``virtual_stages`` model chunks per device
(Narayanan et al. 2021). Ranks are numbered tensor-parallel fastest, then context, data and
pipeline parallel (Megatron-Core's default order ``tp-cp-dp-pp``), so tensor-parallel groups
sit inside a node.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from accelscope.errors import ConfigError

RECOMPUTE = ("none", "selective", "ops", "full")
SCHEDULES = ("1f1b", "interleaved")
DIMS = ("dp", "tp", "pp", "cp")


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    dp: int = 1
    tp: int = 1
    pp: int = 1
    cp: int = 1
    zero: int = 0
    micro_batch: int = 1
    global_batch: int | None = None
    recompute: str = "none"
    schedule: str = "1f1b"
    virtual_stages: int = 1
    #: Megatron's sequence parallelism (Korthikanti et al. 2022 section 4.2.2) in the
    #: tensor-parallel regions; None: on whenever tp > 1, as Megatron-Core recipes and
    #: TorchTitan's tensor parallelism run it
    sequence_parallel: bool | None = None
    #: DDP / ZeRO gradient reduction overlapped with the backward pass (DDP, FSDP and
    #: Megatron's ``overlap_grad_reduce`` do; ``False`` models a reduction after the backward)
    overlap_dp: bool = True
    #: replicas wrapped in PyTorch DDP, which copies each gradient into its bucket, scales it
    #: and copies the reduced bucket back (``gradient_as_bucket_view=False``, the default);
    #: None: whenever there are replicas and no ZeRO (Megatron's and FSDP's flat gradient
    #: buffers make no such copies); True models DDP around one process too
    ddp: bool | None = None

    def __post_init__(self) -> None:
        for name in (*DIMS, "micro_batch", "virtual_stages"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{name} must be a positive integer, got {v!r}")
        if self.zero not in (0, 1, 2, 3):
            raise ConfigError(f"ZeRO stage must be 0, 1, 2 or 3 (3 = FSDP), got {self.zero!r}")
        if self.recompute not in RECOMPUTE:
            raise ConfigError(f"recompute {self.recompute!r} is not one of {', '.join(RECOMPUTE)}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule {self.schedule!r} is not 1f1b or interleaved:V")
        if self.schedule == "1f1b" and self.virtual_stages != 1:
            raise ConfigError("virtual stages need the interleaved schedule (--schedule interleaved:V)")
        per_step = self.dp * self.micro_batch
        gb = self.global_batch if self.global_batch is not None else per_step
        if not isinstance(gb, int) or gb < 1 or gb % per_step:
            raise ConfigError(f"the global batch ({gb}) must be a multiple of data-parallel replicas x micro-batch "
                              f"({self.dp} x {self.micro_batch} = {per_step})")
        object.__setattr__(self, "global_batch", gb)
        if self.schedule == "interleaved" and self.pp == 1:
            raise ConfigError("the interleaved schedule needs pipeline parallelism (pp > 1)")

    @property
    def uses_ddp(self) -> bool:
        return self.ddp if self.ddp is not None else (self.zero == 0 and self.dp * self.cp > 1)

    @property
    def devices(self) -> int:
        return self.dp * self.tp * self.pp * self.cp

    @property
    def microbatches(self) -> int:
        """Micro-batches per replica per iteration (gradient accumulation steps)."""
        return self.global_batch // (self.dp * self.micro_batch)  # type: ignore[operator]

    @property
    def sp(self) -> bool:
        return self.tp > 1 and (self.sequence_parallel is not False)

    def strides(self) -> dict[str, int]:
        """Rank distance between neighbours of each group (``tp-cp-dp-pp`` order)."""
        return {"tp": 1, "cp": self.tp, "dp": self.tp * self.cp, "pp": self.tp * self.cp * self.dp}

    @property
    def label(self) -> str:
        bits = [f"dp={self.dp}", f"tp={self.tp}", f"pp={self.pp}"]
        if self.cp > 1:
            bits.append(f"cp={self.cp}")
        if self.zero:
            bits.append("fsdp" if self.zero == 3 else f"zero={self.zero}")
        bits.append(f"mb={self.micro_batch}")
        if self.recompute != "none":
            bits.append(f"recompute={self.recompute}")
        if self.schedule == "interleaved":
            bits.append(f"interleaved:{self.virtual_stages}")
        return " ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(devices=self.devices, microbatches=self.microbatches, sequence_parallel=self.sp)
        return d


def parse_parallel(text: str | None) -> dict[str, int]:
    """``"dp=8,tp=8,pp=2"`` -> ``{"dp": 8, "tp": 8, "pp": 2}`` (ConfigError on bad input)."""
    out: dict[str, int] = {}
    for item in (x.strip() for x in (text or "").split(",") if x.strip()):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or key not in DIMS:
            raise ConfigError(f"--parallel {text!r}: {item!r} is not key=value with a key of dp, tp, pp, cp "
                              "(e.g. dp=8,tp=8,pp=2)")
        try:
            n = int(value)
        except ValueError:
            raise ConfigError(f"--parallel {text!r}: {key}={value!r} is not an integer") from None
        if n < 1:
            raise ConfigError(f"--parallel {text!r}: {key} must be a positive integer")
        if key in out:
            raise ConfigError(f"--parallel {text!r}: {key} given twice")
        out[key] = n
    return out


def parse_schedule(text: str | None) -> tuple[str, int]:
    """``1f1b`` -> (1f1b, 1); ``interleaved:3`` -> (interleaved, 3)."""
    text = (text or "1f1b").strip().lower()
    if text == "1f1b":
        return "1f1b", 1
    name, _, v = text.partition(":")
    if name == "interleaved":
        try:
            n = int(v or "2")
        except ValueError:
            n = 0
        if n >= 1:
            return "interleaved", n
    raise ConfigError(f"--schedule {text!r}: expected 1f1b or interleaved:V (V model chunks per device, e.g. "
                      "interleaved:2)")


def complete(devices: int, dims: dict[str, int]) -> dict[str, int]:
    """The four degrees for ``devices``, the data-parallel one filled in when not given
    (ConfigError when their product is not the device count)."""
    given = {k: dims.get(k) for k in DIMS}
    inner = (given["tp"] or 1) * (given["pp"] or 1) * (given["cp"] or 1)
    if given["dp"] is None:
        if devices % inner:
            raise ConfigError(f"tp x pp x cp = {inner} does not divide the {devices} devices")
        given["dp"] = devices // inner
    out = {k: int(v or 1) for k, v in given.items()}
    product = out["dp"] * out["tp"] * out["pp"] * out["cp"]
    if product != devices:
        raise ConfigError(f"the layout dp={out['dp']} x tp={out['tp']} x pp={out['pp']} x cp={out['cp']} = {product} "
                          f"is not the {devices} devices; make the product equal --devices")
    return out
