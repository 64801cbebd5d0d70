"""Rent, buy or build: the money side of a whole job, as plain arithmetic on stated inputs.

A job (``jobs.job``) knows how many devices it uses, for how long (``wall_h``), and how much
energy it draws (``energy_kwh``, PUE included). This module turns that into dollars three ways:

* **Rent** (a cloud offering at ``usd_per_device_hour``): ``device_hours x price``.
* **Buy** (a device at ``purchase_usd``, plus ``host_usd_per_device`` for its share of the
  server, amortised straight-line over ``years`` and used a fraction ``utilisation`` of that
  time; a busy hour carries ``1 / (8760 x years x utilisation)`` of the price):

  - capital     = devices x (purchase + host) x wall_h / (8760 x years x utilisation)
  - hosting     = devices x provisioned kW x hosting $/kW-month x 12 x wall_h / (8760 x utilisation)
    (colocation rent is charged on provisioned power, month after month, busy or not)
  - electricity = the job's energy x $/kWh (only what the job draws: idle hours are not
    charged to it)

* **Build** (a custom design: ``nre_usd`` once, ``unit_usd`` per device, ``volume`` devices
  made): buying at ``unit_usd + nre_usd / volume`` per device, then as above.

Break-even points, also plain arithmetic:

* **Months to break even, buy vs rent**: buying ``n`` devices costs ``n x (purchase + host)``
  up front; each month after, owning costs hosting plus electricity and renting costs
  ``n x price x 730 x utilisation`` (730 hours a month). ``months = upfront / (rent - own)``;
  never (``None``) when owning costs as much a month as renting.
* **Volume to break even, build vs an option**: the volume at which the build's job cost
  equals the option's: ``V = nre / (capital per unit at which they match - unit_usd)``; never
  (``None``) when even an infinite volume (unit cost alone) does not match.

Prices carry dates; :func:`price_age_months` says how old one is and :func:`price_flag` flags
it when older than ``max_age_months``.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass
from typing import Any

from accelscope.errors import ConfigError

HOURS_PER_YEAR = 8760.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Ownership:
    """What owning a device costs beyond its price (each figure stated in every buy result)."""

    years: float
    utilisation: float
    usd_per_kwh: float
    hosting_usd_per_kw_month: float
    host_usd_per_device: float = 0.0

    def __post_init__(self) -> None:
        if not self.years > 0:
            raise ConfigError(f"--amortise-years must be positive, got {self.years!r}")
        if not 0 < self.utilisation <= 1:
            raise ConfigError(f"--utilisation must be within (0, 1], got {self.utilisation!r}")
        for name, v in (("--usd-per-kwh", self.usd_per_kwh), ("--hosting-usd-per-kw-month", self.hosting_usd_per_kw_month),
                        ("--host-usd-per-device", self.host_usd_per_device)):
            if not v >= 0:
                raise ConfigError(f"{name} must be >= 0, got {v!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """A custom design's costs: engineering and masks once, each unit, and how many are made."""

    nre_usd: float
    unit_usd: float
    volume: int

    def __post_init__(self) -> None:
        if not self.nre_usd >= 0 or not self.unit_usd > 0:
            raise ConfigError(f"--nre-usd must be >= 0 and --unit-usd positive, got {self.nre_usd!r} and "
                              f"{self.unit_usd!r}")
        if not (isinstance(self.volume, int) and self.volume >= 1):
            raise ConfigError(f"--volume must be a whole number of units made, at least 1; got {self.volume!r}")

    @property
    def usd_per_unit(self) -> float:
        return self.unit_usd + self.nre_usd / self.volume

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"usd_per_unit": self.usd_per_unit}


def rent_usd(device_hours: float, usd_per_device_hour: float) -> float:
    return device_hours * usd_per_device_hour


def own_usd(*, devices: int, wall_h: float, energy_kwh: float | None, device_usd: float, kw_per_device: float,
            own: Ownership) -> dict[str, float | None]:
    """The buy arithmetic of the module docstring: capital, hosting, electricity and their total
    (electricity and total ``None`` when the energy is unknown)."""
    busy = HOURS_PER_YEAR * own.utilisation
    capital = devices * (device_usd + own.host_usd_per_device) * wall_h / (busy * own.years)
    hosting = devices * kw_per_device * own.hosting_usd_per_kw_month * 12 * wall_h / busy
    electricity = None if energy_kwh is None else energy_kwh * own.usd_per_kwh
    total = None if electricity is None else capital + hosting + electricity
    return {"capital": capital, "hosting": hosting, "electricity": electricity, "total": total}


def break_even_months(*, devices: int, device_usd: float, kw_per_device: float, power_kw_per_device: float,
                      pue: float, usd_per_device_hour: float, own: Ownership) -> float | None:
    """Months of use at ``own.utilisation`` after which buying costs less than renting at
    ``usd_per_device_hour`` (``None``: never)."""
    upfront = devices * (device_usd + own.host_usd_per_device)
    rent = devices * usd_per_device_hour * HOURS_PER_MONTH * own.utilisation
    running = devices * (kw_per_device * own.hosting_usd_per_kw_month
                         + power_kw_per_device * pue * HOURS_PER_MONTH * own.utilisation * own.usd_per_kwh)
    return upfront / (rent - running) if rent > running else None


def break_even_volume(*, build: Build, devices: int, wall_h: float, running_usd: float, other_usd: float,
                      own: Ownership) -> float | None:
    """Units to make for the build's job cost (``running_usd``: hosting and electricity, plus
    capital at ``unit_usd + nre_usd / V``) to equal ``other_usd`` (``None``: never)."""
    share = devices * wall_h / (HOURS_PER_YEAR * own.utilisation * own.years)  # units' lifetimes this job uses
    per_unit = (other_usd - running_usd) / share - own.host_usd_per_device  # device price at which they match
    if per_unit <= build.unit_usd:
        return None
    return build.nre_usd / (per_unit - build.unit_usd)


_DATE = re.compile(r"(\d{4})(?:-(?:Q([1-4])|(\d{1,2}))(?:-(\d{1,2}))?)?")


def price_date_end(text: str) -> _dt.date:
    """The last day a dated price could be from: ``2024`` -> 2024-12-31, ``2026-Q1`` ->
    2026-03-31, ``2026-05`` -> 2026-05-31, ``2026-05-14`` -> itself."""
    m = _DATE.fullmatch(str(text).strip())
    if not m:
        raise ConfigError(f"price date {text!r} is not YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD")
    year, quarter, month, day = m.group(1), m.group(2), m.group(3), m.group(4)
    y = int(year)
    if day:
        return _dt.date(y, int(month), int(day))
    last_month = int(quarter) * 3 if quarter else int(month) if month else 12
    nxt = _dt.date(y + (last_month == 12), last_month % 12 + 1, 1)
    return nxt - _dt.timedelta(days=1)


def price_age_months(text: str, today: _dt.date | None = None) -> float:
    """How many months old a price dated ``text`` is at least (counted from the end of its period)."""
    today = today or _dt.date.today()
    return max(0.0, (today - price_date_end(text)).days / (365.25 / 12))


def price_flag(text: str | None, *, max_age_months: float, stale: str | None = None,
               today: _dt.date | None = None) -> str | None:
    """Why a price should be re-checked (known to predate a change, or older than
    ``max_age_months``), or ``None``."""
    if stale:
        return f"stale: {stale}"
    if text is None:
        return "undated price"
    age = price_age_months(text, today)
    if age > max_age_months:
        return f"price of {text} is {age:.0f} months old (older than {max_age_months:g}): re-check it"
    return None
