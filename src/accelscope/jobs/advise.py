"""advise: rank the ways to run a job — rent, buy or build, which hardware, how many — by cost
within a budget, a deadline and a carbon cap; name the constraint that binds; show what would
change the ranking.

The options are ``jobs.job``'s (every cloud offering, the purchase, a custom design's build)
for each device count asked for. Ranking is by dollars, plus ``carbon_usd_per_t`` x tCO2e
when a carbon price is set. An option qualifies when it is priced and meets every constraint
given; one whose cost or carbon is unknown cannot be shown to meet a budget or carbon cap and
does not qualify under one.

* **Binding constraint**: the constraints failed by the options cheaper than the best
  qualifying one (none cheaper: no constraint binds). When no option qualifies, each
  constraint is checked alone against the best any option does (the fastest wall time, the
  lowest cost, the lowest carbon), so the result says which cannot be met at all.
* **Sensitivity**: the same runs priced again with one assumption changed (cloud prices,
  purchase prices, utilisation, electricity price, amortisation years, a carbon price, the
  build volume), and the best qualifying option under each — no prediction is made again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from accelscope.errors import ConfigError
from accelscope.jobs.job import JobAssumptions, JobOption, JobResult, price_runs


@dataclass(frozen=True, slots=True, kw_only=True)
class Constraints:
    budget_usd: float | None = None
    deadline_s: float | None = None
    max_tco2e: float | None = None

    def __post_init__(self) -> None:
        for name, v in (("--budget", self.budget_usd), ("--deadline", self.deadline_s),
                        ("--max-tco2e", self.max_tco2e)):
            if v is not None and not v > 0:
                raise ConfigError(f"{name} must be positive, got {v!r}")

    def failures(self, o: JobOption) -> list[str]:
        """Why ``o`` does not qualify (empty: it does)."""
        out = []
        if o.usd is None:
            out.append("no price")
        elif self.budget_usd is not None and o.ranked_usd > self.budget_usd:
            out.append(f"budget: {o.ranked_usd:,.0f} USD > {self.budget_usd:,.0f}")
        if self.deadline_s is not None and o.wall_time_s > self.deadline_s:
            out.append(f"deadline: {o.wall_time_s / 86400:,.1f} days > {self.deadline_s / 86400:g}")
        if self.max_tco2e is not None:
            if o.tco2e is None:
                out.append("carbon cap: carbon unknown (give --region or --grid-g-per-kwh)")
            elif o.tco2e > self.max_tco2e:
                out.append(f"carbon cap: {_t(o.tco2e)} tCO2e > {self.max_tco2e:g}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Advice:
    job: dict[str, Any]
    constraints: Constraints
    #: qualifying options, cheapest first
    ranked: tuple[JobOption, ...]
    #: the options that do not qualify, each with why
    excluded: tuple[tuple[JobOption, tuple[str, ...]], ...]
    binding: str
    verdict: str
    sensitivity: tuple[dict[str, Any], ...] = ()
    unavailable: tuple[Any, ...] = ()

    @property
    def best(self) -> JobOption | None:
        return self.ranked[0] if self.ranked else None

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "constraints": self.constraints.to_dict(), "verdict": self.verdict,
                "binding": self.binding, "best": self.best.to_dict() if self.best else None,
                "ranked": [o.to_dict() for o in self.ranked],
                "excluded": [o.to_dict() | {"fails": list(why)} for o, why in self.excluded],
                "sensitivity": list(self.sensitivity), "unavailable": [u.to_dict() for u in self.unavailable]}


def _t(x: float) -> str:
    """Tonnes, to three figures."""
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def _key(o: JobOption) -> float:
    return o.ranked_usd if o.ranked_usd is not None else float("inf")


def _split(options: Sequence[JobOption], c: Constraints):
    ranked, excluded = [], []
    for o in options:
        why = c.failures(o)
        if why:
            excluded.append((o, tuple(why)))
        else:
            ranked.append(o)
    ranked.sort(key=_key)
    return ranked, excluded


def _name(o: JobOption) -> str:
    return f"{o.hardware} x{o.devices}, {o.option}"


def _binding(ranked, excluded, options, c: Constraints) -> tuple[str, str]:
    if ranked:
        best = ranked[0]
        cheaper = [(o, why) for o, why in excluded if o.usd is not None and _key(o) < _key(best)]
        verdict = f"best: {_name(best)}: {best.ranked_usd:,.0f} USD, {best.wall_time_s / 86400:,.1f} days"
        if not cheaper:
            return verdict, "none: the cheapest option meets every constraint"
        counts = Counter(w.split(":")[0] for _, why in cheaper for w in why)  # each constraint: how many fail it
        o, why = min(cheaper, key=lambda x: _key(x[0]))
        names = ", ".join(name for name, _ in counts.most_common())
        return verdict, (f"{names}: {len(cheaper)} cheaper option(s) fail it; the cheapest, {_name(o)} "
                         f"({o.ranked_usd:,.0f} USD), fails {'; '.join(why)}")
    if not options:
        return "no option: no hardware could be predicted", "none"
    alone = []
    priced = [o for o in options if o.usd is not None]
    if c.deadline_s is not None:
        fastest = min(options, key=lambda o: o.wall_time_s)
        if fastest.wall_time_s > c.deadline_s:
            alone.append(f"the deadline cannot be met: the fastest option, {_name(fastest)}, takes "
                         f"{fastest.wall_time_s / 86400:,.1f} days > {c.deadline_s / 86400:g}")
    if c.budget_usd is not None:
        if not priced:
            alone.append("no option has a price to hold to the budget")
        else:
            cheapest = min(priced, key=_key)
            if _key(cheapest) > c.budget_usd:
                alone.append(f"the budget cannot be met: the cheapest option, {_name(cheapest)}, costs "
                             f"{cheapest.ranked_usd:,.0f} USD > {c.budget_usd:,.0f}")
    if c.max_tco2e is not None:
        known = [o for o in options if o.tco2e is not None]
        if not known:
            alone.append("the carbon cap cannot be checked: no option's carbon is known (give --region)")
        else:
            cleanest = min(known, key=lambda o: o.tco2e)
            if cleanest.tco2e > c.max_tco2e:
                alone.append(f"the carbon cap cannot be met: the lowest, {_name(cleanest)}, emits "
                             f"{_t(cleanest.tco2e)} tCO2e > {c.max_tco2e:g}")
    if not priced:
        alone.append("no option has a price in the catalog")
    if not alone:
        alone.append("each constraint can be met alone, but no option meets them together")
    return "no option qualifies", "; ".join(alone)


#: (parameter, how to show the value, the assumptions changed) for each what-if
_WHAT_IFS: list[tuple[str, str, Callable[[JobAssumptions], dict[str, Any]], str]] = [
    ("cloud prices", "x0.5", lambda a: {"cloud_price_factor": a.cloud_price_factor * 0.5}, "cloud"),
    ("cloud prices", "x1.5", lambda a: {"cloud_price_factor": a.cloud_price_factor * 1.5}, "cloud"),
    ("purchase prices", "x0.5", lambda a: {"purchase_price_factor": a.purchase_price_factor * 0.5}, "buy"),
    ("purchase prices", "x1.5", lambda a: {"purchase_price_factor": a.purchase_price_factor * 1.5}, "buy"),
    ("utilisation", "0.3", lambda a: {"utilisation": 0.3}, "own"),
    ("utilisation", "1.0", lambda a: {"utilisation": 1.0}, "own"),
    ("electricity", "x0.5", lambda a: {"usd_per_kwh": a.usd_per_kwh * 0.5}, "own"),
    ("electricity", "x2", lambda a: {"usd_per_kwh": a.usd_per_kwh * 2}, "own"),
    ("amortisation", "3 y", lambda a: {"years": 3.0}, "own"),
    ("amortisation", "7 y", lambda a: {"years": 7.0}, "own"),
    ("carbon price", "100 USD/t", lambda a: {"carbon_usd_per_t": 100.0}, "carbon"),
    ("build volume", "x0.1", lambda a: {"build": dataclasses.replace(a.build, volume=max(1, a.build.volume // 10))},
     "build"),
    ("build volume", "x10", lambda a: {"build": dataclasses.replace(a.build, volume=a.build.volume * 10)}, "build"),
]


def sensitivity(results: Sequence[JobResult], a: JobAssumptions, c: Constraints,
                best: JobOption | None) -> list[dict[str, Any]]:
    """The best qualifying option under each what-if that applies to these options."""
    options = [o for r in results for o in r.options]
    kinds = {o.kind for o in options}
    applies = {"cloud": "cloud" in kinds, "buy": "buy" in kinds, "own": bool(kinds & {"buy", "build"}),
               "carbon": any(o.tco2e is not None for o in options), "build": a.build is not None and "build" in kinds}
    runs = [run for r in results for run in r.runs]
    rows = []
    for param, shown, change, needs in _WHAT_IFS:
        if not applies[needs]:
            continue
        ranked, _ = _split(price_runs(runs, dataclasses.replace(a, **change(a))), c)
        top = ranked[0] if ranked else None
        changed = (top is None) != (best is None) or (top is not None and top.ident != best.ident)
        rows.append({"parameter": param, "value": shown, "best": _name(top) if top else None,
                     "usd": top.ranked_usd if top else None, "changes_ranking": bool(changed)})
    return rows


def advise(results: Sequence[JobResult], *, constraints: Constraints, assumptions: JobAssumptions,
           what_ifs: bool = True) -> Advice:
    """Rank the options of ``results`` (one job at one or several device counts) under
    ``constraints`` (see the module docstring)."""
    if not results:
        raise ConfigError("nothing to advise on: no job was predicted")
    options = [o for r in results for o in r.options]
    ranked, excluded = _split(options, constraints)
    verdict, binding = _binding(ranked, excluded, options, constraints)
    rows = sensitivity(results, assumptions, constraints, ranked[0] if ranked else None) if what_ifs else []
    job = dict(results[0].job)
    job["devices"] = sorted({r.job.get("devices") for r in results if r.job.get("devices") is not None})
    unavailable = tuple(u for r in results for u in r.unavailable)
    return Advice(job=job, constraints=constraints, ranked=tuple(ranked), excluded=tuple(excluded), binding=binding,
                  verdict=verdict, sensitivity=tuple(rows), unavailable=unavailable)
