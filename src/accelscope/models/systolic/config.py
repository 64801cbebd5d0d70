"""The accelerator being simulated: array shape, dataflow, scratchpads, DRAM interface, clock.

Sizes are in bytes, bandwidths in words per cycle (a word is ``word_bytes`` bytes), the clock in
hertz. SCALE-Sim counts its scratchpads in words of one byte (``word_size = 1`` in
``single_layer_sim.py``) and its configuration gives them in kB of 1024 bytes; with the default
``word_bytes = 1`` a scratchpad of ``ifmap_sram_bytes`` holds as many words as SCALE-Sim's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from accelscope.errors import ConfigError

DATAFLOWS = ("os", "ws", "is")

#: SCALE-Sim splits each read scratchpad into 100 sets and needs at least one word per set
#: (``read_buffer_estimate_bw.py``: ``num_items_per_set = floor(total / 100)``).
MIN_SRAM_WORDS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrayConfig:
    """A systolic-array accelerator in SCALE-Sim's terms.

    ``dram_bw_words_per_cycle`` is ``None`` for SCALE-Sim's ``CALC`` mode (the interface is
    assumed fast enough; the simulator reports the bandwidth the array would need) and a
    ``(ifmap, filter, ofmap)`` triple of words per cycle for its ``USER`` mode.

    ``compat`` keeps SCALE-Sim 3.0.0's counting quirks so that results are identical to it
    (see ``engine.py``); ``compat=False`` counts what the hardware would do.

    ``dram_bandwidth_bytes_per_s`` (not a SCALE-Sim parameter) bounds the time of a layer by
    the DRAM traffic of ``offchip_operands`` (see ``NetworkResult.time_s``); ``None`` means
    time is cycles over the clock.

    ``clock_hz`` is not a SCALE-Sim parameter (it counts cycles); it only turns cycles into
    seconds. The default 1 GHz is a round assumption, not a figure of any product.
    """

    rows: int
    cols: int
    dataflow: str = "ws"
    ifmap_sram_bytes: int = 64 * 1024
    filter_sram_bytes: int = 64 * 1024
    ofmap_sram_bytes: int = 64 * 1024
    word_bytes: int = 1
    clock_hz: float = 1e9
    dram_bw_words_per_cycle: tuple[int, int, int] | None = None
    dram_bandwidth_bytes_per_s: float | None = None
    offchip_operands: tuple[str, ...] = ("ifmap", "filter", "ofmap")
    compat: bool = True
    name: str = "accelscope"

    def __post_init__(self) -> None:
        if self.dataflow not in DATAFLOWS:
            raise ConfigError(
                f"dataflow {self.dataflow!r} is not one of {', '.join(DATAFLOWS)} "
                "(output-, weight- or input-stationary; `simulate --dataflow rs` runs Eyeriss's row "
                "stationary)."
            )
        for field in ("rows", "cols", "word_bytes"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{field} must be a positive integer, got {value!r}.")
        for field in ("ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes"):
            words = getattr(self, field) // self.word_bytes
            if words < MIN_SRAM_WORDS:
                raise ConfigError(
                    f"{field}={getattr(self, field)} holds {words} words of {self.word_bytes} B; "
                    f"at least {MIN_SRAM_WORDS} words are needed (the buffer is managed in 100 "
                    "sets). Give a larger scratchpad."
                )
        if not self.clock_hz > 0:
            raise ConfigError(f"clock_hz must be positive, got {self.clock_hz!r}.")
        if self.dram_bandwidth_bytes_per_s is not None and not self.dram_bandwidth_bytes_per_s > 0:
            raise ConfigError("dram_bandwidth_bytes_per_s must be positive or None.")
        bad = [o for o in self.offchip_operands if o not in ("ifmap", "filter", "ofmap")]
        if bad:
            raise ConfigError(f"offchip_operands {bad} are not among ifmap, filter, ofmap.")
        bw = self.dram_bw_words_per_cycle
        if bw is not None:
            if len(bw) != 3 or any(not isinstance(x, int) or x < 1 for x in bw):
                raise ConfigError(
                    "dram_bw_words_per_cycle must be None (CALC mode) or three positive integers "
                    f"(ifmap, filter, ofmap words per cycle), got {bw!r}."
                )

    @property
    def ifmap_sram_words(self) -> int:
        return self.ifmap_sram_bytes // self.word_bytes

    @property
    def filter_sram_words(self) -> int:
        return self.filter_sram_bytes // self.word_bytes

    @property
    def ofmap_sram_words(self) -> int:
        return self.ofmap_sram_bytes // self.word_bytes

    @property
    def num_pes(self) -> int:
        return self.rows * self.cols

    @property
    def bandwidth_mode(self) -> str:
        return "CALC" if self.dram_bw_words_per_cycle is None else "USER"

    @property
    def peak_macs_per_s(self) -> float:
        return self.num_pes * self.clock_hz

    def with_(self, **changes) -> ArrayConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "rows": self.rows, "cols": self.cols, "dataflow": self.dataflow,
            "ifmap_sram_bytes": self.ifmap_sram_bytes,
            "filter_sram_bytes": self.filter_sram_bytes,
            "ofmap_sram_bytes": self.ofmap_sram_bytes, "word_bytes": self.word_bytes,
            "clock_hz": self.clock_hz, "bandwidth_mode": self.bandwidth_mode,
            "dram_bw_words_per_cycle": (list(self.dram_bw_words_per_cycle)
                                        if self.dram_bw_words_per_cycle else None),
            "dram_bandwidth_bytes_per_s": self.dram_bandwidth_bytes_per_s,
            "offchip_operands": list(self.offchip_operands),
            "compat": self.compat,
        }
