"""Rent, buy, build: the arithmetic of cost.tco checked against cases computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from accelscope.cost import tco
from accelscope.errors import ConfigError

OWN = tco.Ownership(years=4, utilisation=0.5, usd_per_kwh=0.10, hosting_usd_per_kw_month=200.0,
                    host_usd_per_device=5000.0)


def test_owning_charges_a_busy_hour_its_share_of_the_price_hosting_and_its_electricity():
    parts = tco.own_usd(devices=8, wall_h=100, energy_kwh=500, device_usd=20_000, kw_per_device=1.0, own=OWN)
    # by hand: a year holds 8760 x 0.5 = 4380 busy hours
    assert parts["capital"] == pytest.approx(8 * 25_000 * 100 / (4380 * 4))  # 1141.55
    assert parts["capital"] == pytest.approx(1141.5525, rel=1e-6)
    assert parts["hosting"] == pytest.approx(8 * 1.0 * 200 * 12 * 100 / 4380)  # 438.36
    assert parts["electricity"] == pytest.approx(50.0)
    assert parts["total"] == pytest.approx(1141.5525 + 438.3562 + 50.0, rel=1e-6)
    unknown = tco.own_usd(devices=8, wall_h=100, energy_kwh=None, device_usd=20_000, kw_per_device=1.0, own=OWN)
    assert unknown["electricity"] is None and unknown["total"] is None and unknown["capital"] > 0


def test_buying_breaks_even_with_renting_when_the_upfront_is_paid_back_by_the_monthly_saving():
    # 8 devices at 20k + 5k host: 200k up front. Renting: 8 x 3 USD x 730 h x 0.5 = 8760 a month.
    # Owning: 8 x (1 kW x 200 USD hosting + 0.7 kW x 1.1 PUE x 365 h x 0.10 USD) = 8 x 228.105 = 1824.84 a month.
    months = tco.break_even_months(devices=8, device_usd=20_000, kw_per_device=1.0, power_kw_per_device=0.7,
                                   pue=1.1, usd_per_device_hour=3.0, own=OWN)
    assert months == pytest.approx(200_000 / (8760 - 1824.84), rel=1e-6)
    assert months == pytest.approx(28.8380, rel=1e-4)
    # renting for less than owning costs a month: never
    assert tco.break_even_months(devices=8, device_usd=20_000, kw_per_device=1.0, power_kw_per_device=0.7, pue=1.1,
                                 usd_per_device_hour=0.5, own=OWN) is None


def test_a_build_breaks_even_at_the_volume_where_its_share_of_the_nre_closes_the_gap():
    own = tco.Ownership(years=5, utilisation=1.0, usd_per_kwh=0.1, hosting_usd_per_kw_month=0.0)
    b = tco.Build(nre_usd=1e6, unit_usd=1000, volume=100)
    # 10 devices for a year of a 5-year life: the job uses 2 units' lifetimes; with 5k running costs it
    # matches a 20k option when a unit costs (20k - 5k) / 2 = 7.5k: 1e6 / (7.5k - 1k) = 153.85 units
    v = tco.break_even_volume(build=b, devices=10, wall_h=8760, running_usd=5000, other_usd=20_000, own=own)
    assert v == pytest.approx(1e6 / 6500)
    at = tco.Build(nre_usd=1e6, unit_usd=1000, volume=round(v))
    cost = tco.own_usd(devices=10, wall_h=8760, energy_kwh=0.0, device_usd=at.usd_per_unit, kw_per_device=0.0,
                       own=own)["total"] + 5000
    assert cost == pytest.approx(20_000, rel=2e-3)
    # a unit dearer than the other option's whole cost: no volume pays for it
    assert tco.break_even_volume(build=tco.Build(nre_usd=1e6, unit_usd=9000, volume=1), devices=10, wall_h=8760,
                                 running_usd=5000, other_usd=20_000, own=own) is None
    assert b.usd_per_unit == 11_000


def test_prices_are_dated_and_old_ones_flagged():
    assert tco.price_date_end("2024") == dt.date(2024, 12, 31)
    assert tco.price_date_end("2026-Q1") == dt.date(2026, 3, 31)
    assert tco.price_date_end("2024-02") == dt.date(2024, 2, 29)
    assert tco.price_date_end("2025-06-14") == dt.date(2025, 6, 14)
    today = dt.date(2026, 12, 1)
    assert tco.price_age_months("2026-Q1", today) == pytest.approx(245 / (365.25 / 12), rel=1e-9)  # ~8 months
    assert tco.price_flag("2026-Q1", max_age_months=12, today=today) is None
    flag = tco.price_flag("2024", max_age_months=12, today=today)
    assert flag is not None and "23 months old" in flag
    assert tco.price_flag("2026-11", max_age_months=12, stale="cut in June", today=today).startswith("stale: cut")
    with pytest.raises(ConfigError, match="YYYY"):
        tco.price_date_end("last spring")


def test_bad_ownership_and_build_figures_are_refused():
    with pytest.raises(ConfigError, match="--utilisation"):
        tco.Ownership(years=4, utilisation=0, usd_per_kwh=0.1, hosting_usd_per_kw_month=100)
    with pytest.raises(ConfigError, match="--amortise-years"):
        tco.Ownership(years=-1, utilisation=0.5, usd_per_kwh=0.1, hosting_usd_per_kw_month=100)
    with pytest.raises(ConfigError, match="--usd-per-kwh"):
        tco.Ownership(years=4, utilisation=0.5, usd_per_kwh=-0.1, hosting_usd_per_kw_month=100)
    with pytest.raises(ConfigError, match="--volume"):
        tco.Build(nre_usd=1e6, unit_usd=100, volume=0)
    with pytest.raises(ConfigError, match="--unit-usd"):
        tco.Build(nre_usd=1e6, unit_usd=0, volume=10)
