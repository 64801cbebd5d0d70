"""Time -> energy, money and carbon: ``price(estimate, hardware, assumptions) -> Priced``.

An :class:`~accelscope.models.estimate.Estimate` says how long a step takes and how busy the
device is; pricing it needs a power model, a price and (for carbon) a grid intensity, each an
assumption stated in the result.

* **Power**, the first that applies:

  - the board power given in ``Assumptions.power_w`` (for the whole step);
  - ``idle + (TDP - idle) * utilisation``, utilisation being the fraction of the step the
    device is busy (``device_busy_s / step_time_s``), capped at TDP. When the idle power is
    unknown it is ``Assumptions.idle_fraction_of_tdp`` of the TDP (default 25%: datacenter
    GPUs idle at roughly 15-30% of their TDP); the notes say so. An FPGA design keeps its
    fabric busy every cycle, so it is charged its board power (``tdp_w``);
  - per action, for a custom systolic design with no TDP (the engine's MAC, register, SRAM
    and DRAM counts, ``Estimate.activity``, priced with the per-action energies of
    :mod:`accelscope.models.systolic.energy` at the design's process node);
  - none: ``energy_j_per_step`` is ``None`` and ``energy_method`` says why. Never 0.

* **Money**: the cheapest dated, non-stale cloud offering that is not spot capacity (which
  can be taken back at any time), per device-hour (``CloudOffering.usd_per_device_hour``),
  with its date; ``accelscope job`` prices every offering, spot included.
* **Several devices** (``Estimate.devices``): power, energy and the hourly price are those of
  one device times the device count.
* **Carbon**: energy x ``Assumptions.g_co2_per_kwh`` when one is given (location-based;
  the grid data with dates is the job of a later release), else ``None``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from accelscope.errors import ConfigError
from accelscope.hardware.schema import HardwareSpec
from accelscope.models.estimate import Estimate

IDLE_FRACTION_OF_TDP = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class Assumptions:
    """What pricing assumes beyond the catalog (each reported with the result)."""

    #: board power for the whole step, W (overrides the TDP model; ``accelscope fpga --power-w``)
    power_w: float | None = None
    idle_fraction_of_tdp: float = IDLE_FRACTION_OF_TDP
    #: grid carbon intensity, g CO2 per kWh (location-based); None: no carbon figure
    g_co2_per_kwh: float | None = None

    def __post_init__(self) -> None:
        if self.power_w is not None and not self.power_w > 0:
            raise ConfigError(f"power must be positive watts, got {self.power_w!r}")
        if not 0 <= self.idle_fraction_of_tdp <= 1:
            raise ConfigError(f"idle fraction of TDP must be within 0..1, got {self.idle_fraction_of_tdp!r}")
        if self.g_co2_per_kwh is not None and self.g_co2_per_kwh < 0:
            raise ConfigError(f"grid intensity must be >= 0 g CO2/kWh, got {self.g_co2_per_kwh!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Priced:
    """An Estimate with its energy, money and carbon (see the module docstring)."""

    estimate: Estimate
    assumptions: Assumptions
    power_w: float | None = None
    energy_j_per_step: float | None = None
    energy_method: str = "unavailable"
    usd_per_hour: float | None = None
    offering: str | None = None
    price_date: str | None = None
    notes: tuple[str, ...] = field(default=())

    # -- the estimate's own figures, for convenience --------------------------------------
    @property
    def hardware(self) -> str:
        return self.estimate.hardware

    @property
    def kind(self) -> str:
        return self.estimate.kind

    @property
    def step_time_s(self) -> float:
        return self.estimate.step_time_s

    @property
    def throughput_samples_per_s(self) -> float:
        return self.estimate.throughput_samples_per_s

    @property
    def mfu(self) -> float | None:
        return self.estimate.mfu

    # -- derived costs -----------------------------------------------------------------
    @property
    def energy_j_per_sample(self) -> float | None:
        e = self.energy_j_per_step
        return None if e is None else e / self.estimate.samples_per_step

    @property
    def usd_per_million_samples(self) -> float | None:
        if self.usd_per_hour is None:
            return None
        return self.usd_per_hour / 3600 * self.estimate.step_time_s / self.estimate.samples_per_step * 1e6

    @property
    def g_co2_per_sample(self) -> float | None:
        e, g = self.energy_j_per_sample, self.assumptions.g_co2_per_kwh
        return None if e is None or g is None else e / 3.6e6 * g

    @property
    def energy_j_per_token(self) -> float | None:
        """Joules per token (output tokens, when serving)."""
        e, n = self.energy_j_per_step, self.estimate.tokens_per_step
        return None if e is None or not n else e / n

    @property
    def usd_per_million_tokens(self) -> float | None:
        """Dollars per million tokens (output tokens, when serving) at the cheapest offering."""
        n = self.estimate.tokens_per_step
        if self.usd_per_hour is None or not n:
            return None
        return self.usd_per_hour / 3600 * self.estimate.step_time_s / n * 1e6

    def usd_for_samples(self, samples: float) -> float | None:
        """Cost of processing ``samples`` samples (e.g. a training run) at the cheapest offering."""
        if samples < 0:
            raise ConfigError(f"a number of samples must be >= 0, got {samples!r}")
        usd = self.usd_per_million_samples
        return None if usd is None else usd * samples / 1e6

    def to_dict(self, include_ops: bool = False) -> dict[str, Any]:
        """The estimate's keys and the costs' (``predict --json`` prints this per device)."""
        d = self.estimate.to_dict(include_ops=include_ops)
        d["notes"] = list(self.estimate.notes) + list(self.notes)
        d.update(power_w=self.power_w, energy_j_per_step=self.energy_j_per_step,
                 energy_j_per_sample=self.energy_j_per_sample, energy_method=self.energy_method,
                 usd_per_hour=self.usd_per_hour, usd_per_million_samples=self.usd_per_million_samples,
                 offering=self.offering, price_date=self.price_date, g_co2_per_sample=self.g_co2_per_sample,
                 assumptions=self.assumptions.to_dict())
        if self.estimate.tokens_per_step:
            d.update(energy_j_per_token=self.energy_j_per_token, usd_per_million_tokens=self.usd_per_million_tokens)
        if self.estimate.ttft_s is not None:
            d.update(j_per_output_token=self.energy_j_per_token,
                     usd_per_million_output_tokens=self.usd_per_million_tokens)
        return d



def _action_energy_j(activity: dict[str, Any], node_nm: float) -> float:
    """Joules of the systolic engine's actions at ``node_nm`` (equal to ``NetworkResult.energy``)."""
    from accelscope.models.systolic.energy import EnergyModel

    em = EnergyModel(node_nm=node_nm, precision=activity["word_dtype"])
    macs = activity["macs"]
    sram = sum(words * em.sram_energy_per_word_j(activity["sram_bytes"][op])
               for op, words in activity["sram_words"].items())
    return macs * (em.mac_energy_j + em.register_energy_per_mac_j) + sram + activity["dram_words"] * em.dram_energy_per_word_j


def _energy(e: Estimate, spec: HardwareSpec, a: Assumptions, notes: list[str]) -> tuple[float | None, float | None, str]:
    """(power W, joules per step, method) for the first power model that applies."""
    if a.power_w is not None:
        return a.power_w, a.power_w * e.step_time_s, "model: given board power x step time"
    tdp, idle = spec.tdp_w.number, spec.idle_power_w.number
    if tdp:
        util = min(1.0, e.device_busy_s / e.step_time_s) if e.step_time_s else 0.0
        if idle is None:
            idle = a.idle_fraction_of_tdp * tdp
            if util < 1.0:
                notes.append(f"idle power unknown: assumed {a.idle_fraction_of_tdp:.0%} of TDP")
        power = min(tdp, idle + (tdp - idle) * util)
        return power, power * e.step_time_s, "model: idle + (TDP - idle) * utilisation"
    if e.activity.get("macs"):
        from accelscope.models.systolic.model import process_node_nm

        node = process_node_nm(spec)
        if node is None:
            return None, None, "unavailable: TDP and process node unknown"
        try:
            joules = _action_energy_j(e.activity, node)
        except ConfigError as exc:
            return None, None, f"unavailable: {exc}"
        notes.append("per-action energy: MACs, registers, SRAM and DRAM only (no leakage, clock tree or control)")
        return joules / e.step_time_s, joules, f"model: per-action energy at {node:g} nm (Horowitz 45 nm, scaled)"
    return None, None, "unavailable: TDP unknown"


def price(estimate: Estimate, spec: HardwareSpec, assumptions: Assumptions | None = None) -> Priced:
    """Energy, money and carbon of ``estimate`` on ``spec`` (see the module docstring)."""
    a = assumptions or Assumptions()
    notes: list[str] = []
    power, energy, method = _energy(estimate, spec, a, notes)
    n = estimate.devices
    if n > 1 and power is not None:  # every device draws it; an estimate's times are per device
        power, energy = power * n, (energy or 0.0) * n
        method += f" x {n} devices"
    offer = spec.cheapest_offering()
    money: dict[str, Any] = {}
    if offer is not None:
        money = dict(usd_per_hour=offer.usd_per_device_hour * n, price_date=offer.date,
                     offering=f"{offer.provider} {offer.instance} ({offer.pricing})" + (f" x {n} devices" if n > 1 else ""))
    return Priced(estimate=estimate, assumptions=a, power_w=power, energy_j_per_step=energy,
                  energy_method=method, notes=tuple(notes), **money)
