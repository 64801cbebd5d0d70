"""job: what a whole training run, inference fleet or serving deployment takes — time,
device-hours, energy, carbon and money — on catalog hardware, rented, bought or built.

* **Training** (``train_tokens`` or ``train_samples`` x ``epochs``): one iteration on
  ``devices`` devices (``jobs.parallel``: the layout given, or data parallel, or the fastest
  that fits), ``steps = ceil(work / work per iteration)``, ``wall = steps x iteration /
  goodput``.
* **Serving** (``requests_per_s`` for ``duration_s``): the serving estimate of one replica
  (``jobs.serving``: the batch and devices given, or the best that meets the latency targets);
  for ``task="infer"`` a replica is one device running batches of ``batch_size``;
  ``replicas = ceil(Q / a replica's requests per second)``; devices = replicas x devices per
  replica, busy for the whole duration.

Then, the same for every option of one hardware entry: device-hours = wall x devices; energy =
the devices' power from the cost layer's model (idle + (TDP - idle) x utilisation) x wall, plus
``node_overhead_w`` per node (CPUs, memory, NICs, fans), x ``pue``; carbon = energy x the grid
intensity (``--grid-g-per-kwh``, else ``--region``'s yearly figure, else, for a cloud
offering, its region's; ``cost.carbon``). Money, per option (``cost.tco``):

* **cloud**: every dated offering of the catalog (on-demand, reserved, spot, ...), each
  flagged when older than ``max_price_age_months``; offerings the catalog marks ``stale``
  (known to be superseded by a price change) are left out, and the notes say so;
* **buy**: the catalog's purchase price, amortised over ``years`` at ``utilisation``, with
  hosting and electricity, and the months after which buying beats each cloud offering;
* **build**: a custom design (``accelscope dse --save-design``) at ``unit_usd + nre_usd /
  volume`` a device, likewise, and the volume at which it matches the cheapest other option.

Every assumption is stated in the result, with its source (the module constants below).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from accelscope.cost import carbon, tco
from accelscope.errors import ConfigError
from accelscope.workload import WorkloadSpec

GOODPUT = 0.9
GOODPUT_SOURCE = ("Llama Team, 'The Llama 3 Herd of Models' (2024) 3.3.4: 'higher than 90% effective training "
                  "time' over a 54-day snapshot with 466 job interruptions")
PUE = 1.1
PUE_SOURCE = "Google, Data Centers: Efficiency (fleet-wide trailing-twelve-month PUE 1.10, 2023)"
YEARS = 5.0
YEARS_SOURCE = ("Amazon 10-K for 2024: the useful life of a subset of its servers cut from 6 to 5 years from "
                "2025-01-01 (peers: Nebius 4 years for GPUs, Meta 5.5, CoreWeave, Microsoft and Alphabet 6)")
UTILISATION = 0.7
UTILISATION_SOURCE = ("an assumption, not a published figure: no fleet-wide allocation rate of owned GPU clusters "
                      "was found; advise's sensitivity table shows 0.3 and 1.0")
USD_PER_KWH = 0.0892
USD_PER_KWH_SOURCE = ("US EIA, Electric Power Annual (data for 2023): average industrial price in Virginia, "
                      "8.92 cents/kWh (the largest US data-centre market)")
HOSTING_USD_PER_KW_MONTH = 184.06
HOSTING_SOURCE = ("CBRE, North America Data Center Trends H2 2024: average asking rate for 250-500 kW in primary "
                  "markets, 184.06 USD per kW per month")
MAX_PRICE_AGE_MONTHS = 12.0


def _source(value: float, default: float, source: str) -> str:
    """A default's source, or "given" when the value is the user's."""
    return source if value == default else "given"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobAssumptions:
    """Everything a job's figures assume beyond the prediction, each settable (CLI flags in
    the error messages) and reported with its source."""

    goodput: float = GOODPUT
    pue: float = PUE
    node_overhead_w: float = 0.0
    #: the grid's intensity, g CO2e/kWh; overrides ``region``
    grid_g_per_kwh: float | None = None
    #: where the job runs (``cost.carbon.grid_intensity``): its yearly grid intensity
    region: str | None = None
    years: float = YEARS
    utilisation: float = UTILISATION
    usd_per_kwh: float = USD_PER_KWH
    hosting_usd_per_kw_month: float = HOSTING_USD_PER_KW_MONTH
    host_usd_per_device: float = 0.0
    max_price_age_months: float = MAX_PRICE_AGE_MONTHS
    #: a custom design's costs (``cost.tco.Build``): prices the build option of custom designs
    build: tco.Build | None = None
    #: what-ifs for ``advise``'s sensitivity table: every cloud price, every purchase price x this
    cloud_price_factor: float = 1.0
    purchase_price_factor: float = 1.0
    #: a price on carbon, $ per tCO2e, added to each option's cost when ranking (``advise``)
    carbon_usd_per_t: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.goodput <= 1:
            raise ConfigError(f"--goodput must be within (0, 1], got {self.goodput!r}")
        if not self.pue >= 1:
            raise ConfigError(f"--pue must be at least 1, got {self.pue!r}")
        if self.node_overhead_w < 0:
            raise ConfigError(f"--node-overhead-w must be >= 0, got {self.node_overhead_w!r}")
        if self.grid_g_per_kwh is not None and self.grid_g_per_kwh < 0:
            raise ConfigError(f"--grid-g-per-kwh must be >= 0, got {self.grid_g_per_kwh!r}")
        if not self.max_price_age_months > 0:
            raise ConfigError(f"--max-price-age-months must be positive, got {self.max_price_age_months!r}")
        if not self.cloud_price_factor > 0 or not self.purchase_price_factor > 0 or self.carbon_usd_per_t < 0:
            raise ConfigError("price factors must be positive and a carbon price >= 0")
        self.ownership  # checks the buy figures  # noqa: B018
        if self.region is not None:
            carbon.grid_intensity(self.region)  # an unknown region fails here, before any prediction

    @property
    def ownership(self) -> tco.Ownership:
        return tco.Ownership(years=self.years, utilisation=self.utilisation, usd_per_kwh=self.usd_per_kwh,
                             hosting_usd_per_kw_month=self.hosting_usd_per_kw_month,
                             host_usd_per_device=self.host_usd_per_device)

    def grid(self) -> carbon.GridIntensity | None:
        """The intensity that overrides every option's own (given, or the region's)."""
        if self.grid_g_per_kwh is not None:
            return carbon.given(self.grid_g_per_kwh)
        return carbon.grid_intensity(self.region) if self.region is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"goodput": self.goodput, "goodput_source": _source(self.goodput, GOODPUT, GOODPUT_SOURCE),
                "pue": self.pue, "pue_source": _source(self.pue, PUE, PUE_SOURCE),
                "node_overhead_w": self.node_overhead_w, "grid_g_per_kwh": self.grid_g_per_kwh,
                "region": self.region}

    def ownership_dict(self) -> dict[str, Any]:
        return self.ownership.to_dict() | {
            "years_source": _source(self.years, YEARS, YEARS_SOURCE),
            "utilisation_source": _source(self.utilisation, UTILISATION, UTILISATION_SOURCE),
            "usd_per_kwh_source": _source(self.usd_per_kwh, USD_PER_KWH, USD_PER_KWH_SOURCE),
            "hosting_source": _source(self.hosting_usd_per_kw_month, HOSTING_USD_PER_KW_MONTH, HOSTING_SOURCE)}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobOption:
    """One way to run the job: rent an offering, buy or build the devices; what it all takes."""

    option: str
    kind: str  # cloud, buy, build, unpriced
    hardware: str
    devices: int
    wall_time_s: float
    device_hours: float
    energy_kwh: float | None
    tco2e: float | None
    usd: float | None
    per_step: dict[str, Any]
    assumptions: dict[str, Any]
    #: where the dollars come from: the price, its date and source, its flag; buy/build parts
    price: dict[str, Any] = field(default_factory=dict)
    #: buy: months to break even against each cloud offering; build: the volume against the cheapest other
    break_even: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def carbon_usd(self) -> float:
        """The carbon price's share of the cost (0 when none is set or the carbon is unknown)."""
        price = self.assumptions.get("carbon_usd_per_t", 0.0)
        return (self.tco2e or 0.0) * price

    @property
    def ident(self) -> tuple:
        """Which way this is (the same under other prices): hardware, count, kind, offering."""
        p = self.price
        return (self.hardware, self.devices, self.kind, p.get("provider"), p.get("instance"), p.get("pricing"),
                p.get("region"), p.get("date"))

    @property
    def ranked_usd(self) -> float | None:
        """Dollars plus the carbon price: what ``advise`` ranks by."""
        return None if self.usd is None else self.usd + self.carbon_usd

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if k == "notes" else v) for k, v in ((s, getattr(self, s)) for s in self.__slots__)}


@dataclass(frozen=True, slots=True, kw_only=True)
class JobResult:
    job: dict[str, Any]
    options: tuple[JobOption, ...]
    unavailable: tuple[Any, ...] = ()
    #: the runs the options price (``reprice`` prices them again under other assumptions)
    runs: tuple["Run", ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "options": [o.to_dict() for o in self.options],
                "unavailable": [u.to_dict() for u in self.unavailable]}


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One hardware entry doing the job: the prediction, before any money or carbon."""

    spec: Any  # HardwareSpec
    priced: Any  # cost.Priced of one step / one replica
    devices: int
    #: training: steps x step time (goodput applied when priced); serving: the duration
    busy_s: float
    training: bool
    devices_per_node: int | None
    per_step: dict[str, Any]
    notes: tuple[str, ...] = ()

    def wall_s(self, a: JobAssumptions) -> float:
        return self.busy_s / a.goodput if self.training else self.busy_s

    @property
    def device_w(self) -> float | None:
        p = self.priced
        return None if p.power_w is None else p.power_w / p.estimate.devices

    def overhead_w_per_device(self, a: JobAssumptions) -> float:
        """Node overhead spread over the node's devices (per device when the node size is unknown)."""
        if not a.node_overhead_w:
            return 0.0
        nodes = math.ceil(self.devices / self.devices_per_node) if self.devices_per_node else self.devices
        return a.node_overhead_w * nodes / self.devices

    def energy_kwh(self, a: JobAssumptions) -> float | None:
        if self.device_w is None:
            return None
        return (self.device_w + self.overhead_w_per_device(a)) * self.devices * self.wall_s(a) / 3.6e6 * a.pue

    def provisioned_kw_per_device(self, a: JobAssumptions) -> float:
        """What hosting is charged on: the device's TDP (its modelled power when the TDP is unknown) and its node share."""
        tdp = self.spec.tdp_w.number
        return ((tdp if tdp else self.device_w or 0.0) + self.overhead_w_per_device(a)) / 1e3


def _grid_for(a: JobAssumptions, offer=None) -> carbon.GridIntensity | None:
    """The override (given or ``--region``), else a cloud offering's own region's grid."""
    g = a.grid()
    if g is None and offer is not None:
        g = carbon.cloud_region_intensity(offer.provider, offer.region)
    return g


def _offer_name(offer) -> str:
    return f"{offer.provider} {offer.instance} {offer.pricing}" + (f" {offer.region}" if offer.region else "")


def _common(run: Run, a: JobAssumptions, grid: carbon.GridIntensity | None) -> dict[str, Any]:
    wall = run.wall_s(a)
    energy = run.energy_kwh(a)
    co2 = None if energy is None or grid is None else energy * grid.g_co2_per_kwh / 1e6
    return dict(hardware=run.spec.name, devices=run.devices, wall_time_s=wall, device_hours=wall * run.devices / 3600,
                energy_kwh=energy, tco2e=co2, per_step=run.per_step, grid=None if grid is None else grid.to_dict(),
                assumptions=a.to_dict() | {"energy_method": run.priced.energy_method,
                                           "carbon_usd_per_t": a.carbon_usd_per_t})


def _cloud_options(run: Run, a: JobAssumptions) -> list[JobOption]:
    out = []
    stale = [o for o in run.spec.cloud if o.is_stale]
    left_out = [f"left out: {len(stale)} catalog price(s) known to be superseded ("
                + "; ".join(f"{o.provider} {o.instance} {o.pricing}: {o.stale}" for o in stale) + ")"] if stale else []
    for offer in sorted((o for o in run.spec.cloud if not o.is_stale), key=lambda o: o.usd_per_device_hour):
        c = _common(run, a, _grid_for(a, offer))
        rate = offer.usd_per_device_hour * a.cloud_price_factor
        flag = tco.price_flag(offer.date, max_age_months=a.max_price_age_months)
        notes = list(run.notes) + ([flag] if flag else []) + left_out
        if c["grid"] is None:  # no override, and the offering's region is not mapped
            notes.append("no carbon figure: the offering's region is not mapped to a grid; give --region")
        price = {"usd_per_device_hour": rate, "pricing": offer.pricing, "date": offer.date, "source": offer.source,
                 "provider": offer.provider, "instance": offer.instance, "region": offer.region, "flag": flag}
        out.append(JobOption(option=f"rent {_offer_name(offer)}", kind="cloud",
                             usd=tco.rent_usd(c["device_hours"], rate), price=price, notes=tuple(notes), **c))
    return out


def _own_option(run: Run, a: JobAssumptions, *, kind: str, device_usd: float, price: dict[str, Any],
                label: str, notes: list[str]) -> JobOption:
    c = _common(run, a, _grid_for(a))
    own = a.ownership
    kw = run.provisioned_kw_per_device(a)
    parts = tco.own_usd(devices=run.devices, wall_h=c["wall_time_s"] / 3600, energy_kwh=c["energy_kwh"],
                        device_usd=device_usd, kw_per_device=kw, own=own)
    if c["grid"] is None:
        notes = notes + ["no carbon figure: say where the machines are with --region or --grid-g-per-kwh"]
    if parts["total"] is None:
        notes = notes + ["no dollar figure: the device's power (hence its electricity) is unknown"]
    months = {}
    if kind == "buy" and run.device_w is not None:
        power_kw = (run.device_w + run.overhead_w_per_device(a)) / 1e3
        for offer in (o for o in run.spec.cloud if not o.is_stale):
            months[_offer_name(offer)] = tco.break_even_months(
                devices=run.devices, device_usd=device_usd, kw_per_device=kw, power_kw_per_device=power_kw, pue=a.pue,
                usd_per_device_hour=offer.usd_per_device_hour * a.cloud_price_factor, own=own)
    price = price | {"usd_per_device": device_usd, "upfront_usd": (device_usd + own.host_usd_per_device) * run.devices,
                     "parts_usd": parts, "ownership": a.ownership_dict()}
    return JobOption(option=label, kind=kind, usd=parts["total"], price=price,
                     break_even={"months_vs_cloud": months} if kind == "buy" else {}, notes=tuple(notes), **c)


def si_usd(usd: float) -> str:
    """1234567 -> '1.23M USD'."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(usd) >= div:
            return f"{usd / div:.3g}{unit} USD"
    return f"{usd:.0f} USD"


def _buy_option(run: Run, a: JobAssumptions) -> JobOption | None:
    pp = run.spec.purchase_price
    if pp.usd is None:
        return None
    usd = pp.usd_mid * a.purchase_price_factor
    flag = tco.price_flag(pp.date, max_age_months=a.max_price_age_months)
    notes = list(run.notes) + ([flag] if flag else [])
    if pp.usd_max is not None:
        notes.append(f"purchase price is a range ({pp.usd:,.0f}-{pp.usd_max:,.0f} USD): its midpoint is used")
    price = {"purchase_usd": pp.usd, "purchase_usd_max": pp.usd_max, "basis": pp.basis, "date": pp.date,
             "source": pp.source, "flag": flag}
    label = f"buy at {usd:,.0f} USD a device ({pp.basis or 'price'}, {pp.date}), " \
            f"{si_usd(usd * run.devices)} upfront"
    return _own_option(run, a, kind="buy", device_usd=usd, price=price, label=label, notes=notes)


def is_custom_design(spec) -> bool:
    """A design saved by ``accelscope dse``/``simulate --save-design`` (no product to rent or buy)."""
    return spec.vendor == "custom design"


def _design_figures(spec) -> dict[str, Any]:
    """A systolic design's array, process node and silicon area (the energy and area model of
    ``models.systolic.energy``: PEs and scratchpads only, no I/O, control or DRAM PHYs)."""
    from accelscope.models.systolic.energy import EnergyModel, accelerator_area_m2, precision_for_word_bytes
    from accelscope.models.systolic.model import array_config, process_node_nm

    try:
        cfg, node = array_config(spec), process_node_nm(spec)
    except ConfigError as exc:
        return {"unavailable": str(exc)}
    out: dict[str, Any] = {"array": f"{cfg.rows}x{cfg.cols} {cfg.dataflow}", "node_nm": node}
    if node is not None:
        area = accelerator_area_m2(cfg, EnergyModel(node_nm=node, precision=precision_for_word_bytes(cfg.word_bytes)))
        out["area_mm2"] = {k.removesuffix("_m2"): v * 1e6 for k, v in area.items()}
    return out


def _build_option(run: Run, a: JobAssumptions) -> JobOption:
    b = a.build
    if b is None:
        c = _common(run, a, _grid_for(a))
        return JobOption(option="build: give --nre-usd, --unit-usd and --volume to price it", kind="build", usd=None,
                         notes=tuple(run.notes) + ("a custom design is priced from its engineering (NRE) and unit "
                                                   "costs and the volume made: none given",), **c)
    price = {"build": b.to_dict(), "design": _design_figures(run.spec)}
    label = f"build: {si_usd(b.nre_usd)} NRE + {b.unit_usd:,.0f} USD a unit x {b.volume:,}, " \
            f"{si_usd(b.usd_per_unit * run.devices)} upfront"
    return _own_option(run, a, kind="build", device_usd=b.usd_per_unit, price=price, label=label, notes=list(run.notes))


def _with_build_break_even(options: list[JobOption], a: JobAssumptions) -> list[JobOption]:
    others = [o for o in options if o.kind != "build" and o.usd is not None]
    if not others or a.build is None:
        return options
    best = min(others, key=lambda o: o.usd)
    out = []
    for o in options:
        if o.kind == "build" and o.usd is not None:
            parts = o.price["parts_usd"]
            v = tco.break_even_volume(build=a.build, devices=o.devices, wall_h=o.wall_time_s / 3600,
                                      running_usd=parts["hosting"] + parts["electricity"], other_usd=best.usd,
                                      own=a.ownership)
            o = dataclasses.replace(o, break_even={"volume_vs": f"{best.hardware}: {best.option}",
                                                   "volume_vs_usd": best.usd, "volume": v})
        out.append(o)
    return out


def price_runs(runs: "tuple[Run, ...] | list[Run]", a: JobAssumptions) -> list[JobOption]:
    """Every option of every run under ``a``, cheapest first (unpriced last)."""
    if a.build is not None and not any(is_custom_design(r.spec) for r in runs):
        raise ConfigError("--nre-usd/--unit-usd/--volume price a custom design, but none of --hardware is one: save "
                          "one with `accelscope dse MODEL --save-design my-asic.toml` and add my-asic.toml to "
                          "--hardware")
    options: list[JobOption] = []
    for run in runs:
        mine = _cloud_options(run, a)
        buy = _buy_option(run, a)
        if buy is not None:
            mine.append(buy)
        if is_custom_design(run.spec):
            mine.append(_build_option(run, a))
        if not mine:
            c = _common(run, a, _grid_for(a))
            mine.append(JobOption(option="no price in the catalog", kind="unpriced", usd=None,
                                  notes=tuple(run.notes) + ("the catalog has no cloud offering or purchase price for "
                                                            "this device",), **c))
        options += mine
    options = _with_build_break_even(options, a)
    options.sort(key=lambda o: (o.ranked_usd is None, o.ranked_usd or 0.0))
    return options


def reprice(result: JobResult, a: JobAssumptions) -> JobResult:
    """The same runs priced under other assumptions (no prediction is made again)."""
    return dataclasses.replace(result, options=tuple(price_runs(result.runs, a)))


def _specs(hardware, hardware_paths=None):
    from accelscope.jobs.predict import select_hardware

    return {s.name: s for s in select_hardware(hardware, hardware_paths=hardware_paths)}


def training_job(model: "str | WorkloadSpec", *, hardware, devices: int, train_tokens: float | None = None,
                 train_samples: float | None = None, epochs: float = 1.0, assumptions: JobAssumptions | None = None,
                 store=None, hardware_paths=None, **layout: Any) -> JobResult:
    """A training run of ``train_tokens`` (token models) or ``train_samples x epochs`` samples
    on ``devices`` devices of each ``hardware`` entry (``layout``: ``jobs.parallel.Parallel``'s
    fields; default data parallel, else the fastest layout that fits)."""
    from accelscope.jobs.parallel import Parallel
    from accelscope.jobs.predict import predict

    a = assumptions or JobAssumptions()
    if (train_tokens is None) == (train_samples is None):
        raise ConfigError("give the job's size: --train-tokens T (token models) or --train-samples N [--epochs E]")
    work = train_tokens if train_tokens is not None else train_samples * epochs  # type: ignore[operator]
    if not work > 0 or not epochs > 0:
        raise ConfigError(f"the job's tokens, samples and epochs must be positive, got {work!r}")
    specs = _specs(hardware, hardware_paths)
    spec_fields = {k: layout.pop(k) for k in list(layout) if k in {f.name for f in dataclasses.fields(WorkloadSpec)}}
    pred = predict(model, hardware=list(specs.values()), store=store, parallel=Parallel(devices=devices, **layout),
                   task="train", **spec_fields)
    runs = []
    for r in pred.results:
        e = r.estimate
        per_iter = e.tokens_per_step if train_tokens is not None else e.samples_per_step
        if train_tokens is not None and not per_iter:
            raise ConfigError(f"{e.spec.model} is not a token model: size its job with --train-samples")
        steps = math.ceil(work / per_iter)
        par = e.parameters.get("parallel") or {}
        notes = list(e.notes) + ([] if e.fits_in_memory is not False else ["the layout does not fit in memory"])
        per_step = {"step_time_s": e.step_time_s, "steps": steps, "work_per_step": per_iter, "mfu": e.mfu,
                    "layout": par.get("layout")}
        runs.append(Run(spec=specs[e.hardware], priced=r, devices=e.devices, busy_s=steps * e.step_time_s,
                        training=True, devices_per_node=(par.get("fabric") or {}).get("devices_per_node"),
                        per_step=per_step, notes=tuple(notes)))
    job = {"kind": "train", "model": pred.spec.model, "train_tokens": train_tokens, "train_samples": train_samples,
           "epochs": epochs, "devices": devices, "spec": pred.spec.to_dict()}
    return JobResult(job=job, options=tuple(price_runs(runs, a)), unavailable=pred.unavailable, runs=tuple(runs))


def serving_job(model: "str | WorkloadSpec", *, hardware, requests_per_s: float, duration_s: float,
                devices: int = 1, ttft_slo_s: float | None = None, tpot_slo_s: float | None = None,
                assumptions: JobAssumptions | None = None, store=None, hardware_paths=None,
                **workload: Any) -> JobResult:
    """Serving ``requests_per_s`` for ``duration_s`` on each ``hardware`` entry: replicas of the
    serving estimate (the configuration given, or the best meeting the targets), enough to carry
    the load; ``task="infer"``: replicas of one device running batches of ``batch_size``."""
    from accelscope.jobs.predict import predict
    from accelscope.jobs.serving import Serving

    a = assumptions or JobAssumptions()
    if not requests_per_s > 0 or not duration_s > 0:
        raise ConfigError(f"--requests-per-s and --duration must be positive, got {requests_per_s!r} and "
                          f"{duration_s!r}")
    task = workload.pop("task", None) or (model.task if isinstance(model, WorkloadSpec) else "serve")
    specs = _specs(hardware, hardware_paths)
    if task == "infer":
        if devices != 1 or ttft_slo_s is not None or tpot_slo_s is not None:
            raise ConfigError("an inference fleet's replicas are one device each, without token latency targets: "
                              "drop --devices and --ttft-slo/--tpot-slo, or serve a decoder with --task serve")
        pred = predict(model, hardware=list(specs.values()), store=store, task="infer", **workload)
    elif task == "serve":
        pred = predict(model, hardware=list(specs.values()), store=store, task="serve",
                       serving=Serving(devices=devices, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s), **workload)
    else:
        raise ConfigError(f"a fleet serves --task serve (a decoder's requests) or --task infer (batches), not {task!r}")
    runs = []
    for r in pred.results:
        e = r.estimate
        replicas = math.ceil(requests_per_s / e.throughput_samples_per_s)
        if task == "serve":
            per_step = {"replicas": replicas, "devices_per_replica": e.devices,
                        "requests_per_s_per_replica": e.throughput_samples_per_s, "ttft_s": e.ttft_s,
                        "tpot_s": e.tpot_s,
                        "batch": e.parameters["serving"]["static_batch"] or e.parameters["serving"]["concurrency"]}
            dpn = (e.parameters["serving"].get("fabric") or {}).get("devices_per_node")
        else:
            per_step = {"replicas": replicas, "devices_per_replica": 1,
                        "requests_per_s_per_replica": e.throughput_samples_per_s, "batch": e.samples_per_step,
                        "batch_latency_s": e.step_time_s}
            dpn = None
        runs.append(Run(spec=specs[e.hardware], priced=r, devices=replicas * e.devices, busy_s=duration_s,
                        training=False, devices_per_node=dpn, per_step=per_step, notes=tuple(e.notes)))
    job = {"kind": task, "model": pred.spec.model, "requests_per_s": requests_per_s, "duration_s": duration_s,
           "spec": pred.spec.to_dict()}
    return JobResult(job=job, options=tuple(price_runs(runs, a)), unavailable=pred.unavailable, runs=tuple(runs))


def whole_job(model: "str | WorkloadSpec", *, hardware, devices: int = 1, train_tokens: float | None = None,
              train_samples: float | None = None, epochs: float = 1.0, requests_per_s: float | None = None,
              duration_s: float = 365 * 86400, ttft_slo_s: float | None = None, tpot_slo_s: float | None = None,
              assumptions: JobAssumptions | None = None, layout: dict[str, Any] | None = None,
              **options: Any) -> JobResult:
    """The job the task asks for: a serving deployment (``task="serve"``) or an inference
    fleet (``task="infer"`` with ``requests_per_s``), else a training run (``layout``: its
    ``jobs.parallel.Parallel`` fields; ``options``: workload fields, or for training layout
    fields too)."""
    task = options.pop("task", None) or (model.task if isinstance(model, WorkloadSpec) else None)
    if task == "serve" or (task == "infer" and requests_per_s is not None):
        if requests_per_s is None:
            raise ConfigError("a serving job takes --requests-per-s Q (requests_per_s=; and --duration, default 1y)")
        return serving_job(model, hardware=hardware, requests_per_s=requests_per_s, duration_s=duration_s,
                           devices=devices, ttft_slo_s=ttft_slo_s, tpot_slo_s=tpot_slo_s, assumptions=assumptions,
                           task=task, **options)
    if requests_per_s is not None:
        raise ConfigError("--requests-per-s sizes a serving job: add --task serve (a decoder) or --task infer")
    return training_job(model, hardware=hardware, devices=devices, train_tokens=train_tokens,
                        train_samples=train_samples, epochs=epochs, assumptions=assumptions, **(layout or {}),
                        **options)



def store_job(record: dict[str, Any], store, *, command: str) -> int:
    """Keep a job's (``job``) or an advice's (``advise``) options in ``store`` as a run of kind
    ``job`` (one point: the result's ``to_dict()``); its id. ``accelscope report`` draws them
    as a cost comparison."""
    job = record.get("job") or {}
    hardware = sorted({o["hardware"] for o in job_options(record)})
    label = f"{job.get('model')} {job.get('kind')} job on {', '.join(hardware) or 'no hardware'}"
    return store.add_run(kind="job", record=record, config={"job": {k: v for k, v in job.items() if k != "spec"},
                                                            "hardware": hardware},
                         command=command, label=label, model=job.get("model"),
                         device=",".join(hardware) or None)


def job_options(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The options of a stored job or advice record (an advice's excluded ones carry ``fails``)."""
    if "options" in record:
        return list(record["options"])
    return list(record.get("ranked") or []) + list(record.get("excluded") or [])
