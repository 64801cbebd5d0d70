"""``accelscope job MODEL`` and ``accelscope advise MODEL``: what a whole training run, inference
fleet or serving deployment takes, and which way to run it."""

from __future__ import annotations

import contextlib
import inspect
import re
from dataclasses import dataclass, fields
from typing import Annotated, Any, Optional

import typer

from accelscope.cli import options as o
from accelscope.cli.main import app
from accelscope.errors import ConfigError

NoStore = Annotated[bool, typer.Option("--no-store", help="Do not keep the options in the results store.")]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(text: str, *, what: str = "--duration", bare: str = "s") -> float:
    """``1y``, ``30d``, ``12h``, ``90m``, ``3600`` (in ``bare`` units) -> seconds."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smhdwy]?)\s*", text or "")
    if not m or not float(m.group(1)) > 0:
        raise ConfigError(f"{what} {text!r} is not a positive duration like 1y, 30d, 12h or 3600 "
                          f"({ {'s': 'seconds', 'd': 'days'}[bare] })")
    return float(m.group(1)) * _UNITS[m.group(2) or bare]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobArgs:
    """The job's flags as given (shared by ``job`` and ``advise``)."""

    hardware: str
    devices: str = "1"
    train_tokens: float | None = None
    train_samples: float | None = None
    epochs: float = 1.0
    parallel: str | None = None
    system: str | None = None
    zero: int | None = None
    global_batch: int | None = None
    recompute: str = "none"
    requests_per_s: float | None = None
    duration: str = "1y"
    ttft_slo: float | None = None
    tpot_slo: float | None = None
    goodput: float | None = None
    pue: float | None = None
    node_overhead_w: float | None = None
    grid_g_per_kwh: float | None = None
    region: str | None = None
    amortise_years: float | None = None
    utilisation: float | None = None
    usd_per_kwh: float | None = None
    hosting_usd_per_kw_month: float | None = None
    host_usd_per_device: float | None = None
    max_price_age_months: float | None = None
    nre_usd: float | None = None
    unit_usd: float | None = None
    volume: int | None = None
    hardware_path: list | None = None

    def device_counts(self) -> list[int]:
        out = []
        for part in self.devices.split(","):
            try:
                n = int(part)
            except ValueError:
                raise ConfigError(f"--devices {self.devices!r}: expected a device count (8) or a list (8,64,512)") \
                    from None
            if n < 1:
                raise ConfigError(f"--devices must be positive, got {n}")
            out.append(n)
        return out

    def assumptions(self, **extra: Any):
        from accelscope.cost.tco import Build
        from accelscope.jobs import job as j

        build = None
        if (self.nre_usd, self.unit_usd, self.volume) != (None, None, None):
            if None in (self.nre_usd, self.unit_usd, self.volume):
                raise ConfigError("a build is priced from all three of --nre-usd, --unit-usd and --volume")
            build = Build(nre_usd=self.nre_usd, unit_usd=self.unit_usd, volume=self.volume)
        given = dict(goodput=self.goodput, pue=self.pue, node_overhead_w=self.node_overhead_w,
                     years=self.amortise_years, utilisation=self.utilisation, usd_per_kwh=self.usd_per_kwh,
                     hosting_usd_per_kw_month=self.hosting_usd_per_kw_month,
                     host_usd_per_device=self.host_usd_per_device, max_price_age_months=self.max_price_age_months)
        return j.JobAssumptions(grid_g_per_kwh=self.grid_g_per_kwh, region=self.region, build=build,
                                **{k: v for k, v in given.items() if v is not None}, **extra)

    def run(self, spec, a, *, devices: int, store=None):
        """One job (a JobResult) at ``devices`` devices (per replica when serving)."""
        from accelscope.jobs.job import whole_job

        # the duration sizes a load only: without one it is not read (nor its spelling checked)
        duration_s = parse_duration(self.duration) if self.requests_per_s is not None else 0.0
        return whole_job(spec, hardware=self.hardware, devices=devices, train_tokens=self.train_tokens,
                         train_samples=self.train_samples, epochs=self.epochs, requests_per_s=self.requests_per_s,
                         duration_s=duration_s,
                         ttft_slo_s=None if self.ttft_slo is None else self.ttft_slo / 1e3,
                         tpot_slo_s=None if self.tpot_slo is None else self.tpot_slo / 1e3, assumptions=a,
                         store=store, hardware_paths=o.hardware_paths(self.hardware_path),
                         layout=dict(parallel=self.parallel, system=self.system, zero=self.zero,
                                     global_batch=self.global_batch, recompute=self.recompute))


_FLAGS: dict[str, tuple[Any, str, str]] = {
    "hardware": (str, "--hardware", "Catalog names or design .toml files, comma-separated: each gives its options."),
    "devices": (str, "--devices", "Training: devices of each (a layout over them); serving: devices per replica "
                "(tensor parallel). advise takes a list to compare: 8,64,512."),
    "train_tokens": (Optional[float], "--train-tokens", "Training: tokens to train on (e.g. 2e12)."),
    "train_samples": (Optional[float], "--train-samples", "Training: samples per epoch (non-token models)."),
    "epochs": (float, "--epochs", "Training: passes over --train-samples."),
    "parallel": (Optional[str], "--parallel", "Training layout, e.g. tp=8,pp=4 (default: data parallel, else the "
                 "fastest that fits)."),
    "system": (Optional[str], "--system", "How the devices are joined (`accelscope hardware systems`)."),
    "zero": (Optional[int], "--zero", "Training: ZeRO stage 0-3."),
    "global_batch": (Optional[int], "--global-batch", "Training: samples per iteration."),
    "recompute": (str, "--recompute", "Training: none, selective, ops or full."),
    "requests_per_s": (Optional[float], "--requests-per-s", "Serving (--task serve) or an inference fleet "
                       "(--task infer): the load to carry."),
    "duration": (str, "--duration", "Serving: how long (1y, 30d, 12h, or seconds)."),
    "ttft_slo": (Optional[float], "--ttft-slo", "Serving: time-to-first-token target, ms."),
    "tpot_slo": (Optional[float], "--tpot-slo", "Serving: time-per-output-token target, ms."),
    "goodput": (Optional[float], "--goodput", "Fraction of a training run's wall time that trains (restarts, failures, "
                "evaluation) [default 0.9: Llama 3's 'higher than 90%']."),
    "pue": (Optional[float], "--pue", "Data-centre power usage effectiveness [default 1.1: Google's 2023 fleet]."),
    "node_overhead_w": (Optional[float], "--node-overhead-w", "Power of a node beyond its devices (CPUs, memory, NICs), W "
                        "[default 0: not counted]."),
    "grid_g_per_kwh": (Optional[float], "--grid-g-per-kwh", "Grid carbon intensity, g CO2e per kWh (overrides "
                       "--region and the cloud regions')."),
    "region": (Optional[str], "--region", "Where it runs: a country (FRA, France), a US eGRID subregion (US-CAMX) "
               "or a cloud region (aws:us-east-1): its yearly grid intensity (`accelscope hardware grids`)."),
    "amortise_years": (Optional[float], "--amortise-years", "Buy/build: years the devices are written off over."),
    "utilisation": (Optional[float], "--utilisation", "Buy/build: fraction of the devices' life they do paid work."),
    "usd_per_kwh": (Optional[float], "--usd-per-kwh", "Buy/build: electricity price, USD per kWh."),
    "hosting_usd_per_kw_month": (Optional[float], "--hosting-usd-per-kw-month", "Buy/build: colocation rent per kW "
                                 "provisioned per month (space, cooling, power delivery)."),
    "host_usd_per_device": (Optional[float], "--host-usd-per-device", "Buy/build: each device's share of its server "
                            "(CPUs, memory, NICs, chassis) [default 0]."),
    "max_price_age_months": (Optional[float], "--max-price-age-months", "Flag prices older than this [default 12]."),
    "nre_usd": (Optional[float], "--nre-usd", "Build: a custom design's engineering and mask cost, USD, once."),
    "unit_usd": (Optional[float], "--unit-usd", "Build: cost of each unit made (die, package, board), USD."),
    "volume": (Optional[int], "--volume", "Build: units made (the NRE is shared over them)."),
    "hardware_path": (o.HardwarePath, "", ""),
}


def job_options(fn):
    """Add the job flags to a command; it receives ``args``, a :class:`JobArgs`."""
    defaults = {f.name: f.default for f in fields(JobArgs)}
    params = []
    for name, (typ, flag, help_) in _FLAGS.items():
        annotation = typ if name == "hardware_path" else Annotated[typ, typer.Option(flag, help=help_)]
        default = ... if name == "hardware" else defaults[name]  # --hardware is required
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    return o.option_group(fn, arg="args", params=params, build=lambda given: JobArgs(**given))


@app.command("job")
@job_options
@o.workload_options(precision="auto")
def job_cmd(model: o.Model, workload: o.WorkloadOptions, args: JobArgs, store: o.StoreOpt = None,
            no_store: NoStore = False, json_out: o.Json = False, wide: o.Wide = False) -> None:
    """Wall time, device-hours, energy, carbon and money of a whole training run, inference fleet or serving
    deployment: rented (every dated cloud offering), bought (amortised) or built (a custom design)."""
    from accelscope.jobs.job import store_job
    from accelscope.report import json_text, text

    counts = args.device_counts()
    if len(counts) > 1:
        raise ConfigError("job takes one --devices count; `accelscope advise` compares several (8,64,512)")
    spec, a = workload.spec(model), args.assumptions()  # bad input is refused before a store is opened
    with _opened(store, no_store) as db:
        res = args.run(spec, a, devices=counts[0], store=db)
        record = res.to_dict()
        run_id = None if no_store else store_job(record, db, command="job")
    if json_out:
        typer.echo(json_text(record | {"run_id": run_id}))
    else:
        text.job(res, text.console(), wide=wide)
        _stored(run_id)


@app.command("advise")
@job_options
@o.workload_options(precision="auto")
def advise_cmd(model: o.Model, workload: o.WorkloadOptions, args: JobArgs,
               budget: Optional[float] = typer.Option(None, "--budget", help="Most the job may cost, USD."),
               deadline: Optional[str] = typer.Option(None, "--deadline", help="Latest the job may finish: days "
                                                      "(30) or a duration (2w, 36h)."),
               max_tco2e: Optional[float] = typer.Option(None, "--max-tco2e", help="Most CO2e it may emit, tonnes."),
               carbon_usd_per_t: float = typer.Option(0.0, "--carbon-usd-per-t", help="A carbon price added to each "
                                                      "option's cost when ranking, USD per tCO2e [default 0]."),
               store: o.StoreOpt = None, no_store: NoStore = False, json_out: o.Json = False,
               wide: o.Wide = False) -> None:
    """Rank rent / buy / build, which hardware and how many, by cost within a budget, deadline and carbon cap;
    name the binding constraint and what would change the ranking."""
    from accelscope.jobs.advise import Constraints, advise
    from accelscope.jobs.job import store_job
    from accelscope.report import json_text, text

    c = Constraints(budget_usd=budget, deadline_s=None if deadline is None else
                    parse_duration(deadline, what="--deadline", bare="d"), max_tco2e=max_tco2e)
    a = args.assumptions(carbon_usd_per_t=carbon_usd_per_t)
    spec = workload.spec(model)
    with _opened(store, no_store) as db:
        results = [args.run(spec, a, devices=n, store=db) for n in args.device_counts()]
        adv = advise(results, constraints=c, assumptions=a)
        record = adv.to_dict()
        run_id = None if no_store else store_job(record, db, command="advise")
    if json_out:
        typer.echo(json_text(record | {"run_id": run_id}))
    else:
        text.advice(adv, text.console(), wide=wide)
        _stored(run_id)


def _opened(store: str | None, no_store: bool):
    """The store calibrations are read from and the result kept in: none opened for
    ``--no-store`` without ``--store`` (calibrations then come from the default store if it exists)."""
    if no_store and store is None:
        return contextlib.nullcontext()
    from accelscope.store import Store

    return Store(store)


def _stored(run_id: int | None) -> None:
    if run_id is not None:
        from accelscope.report import text

        text.console().print(f"stored as run {run_id} (accelscope report {run_id} compares its options' costs)")
