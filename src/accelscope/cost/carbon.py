"""Grid carbon intensity: yearly figures per country, sub-national grid and cloud region.

Shipped as data with the package (``cost/data/``; each row names its source, year and the
source's licence in ``cost/data/SOURCES.toml``):

* ``grid_intensity.csv``: ``code,name,kind,year,g_co2_per_kwh,source``, one row per grid —
  countries by ISO 3166-1 alpha-3 code, US eGRID subregions as ``US-XXXX``;
* ``cloud_regions.csv``: ``provider,region,location,grid,g_co2_per_kwh,year,source``, each
  cloud region mapped to the grid it draws from, with the provider's own yearly figure where
  the provider publishes one (that figure is then used: it is the region's, not the
  country's).

The intensities are location-based (the grid's average emissions per kWh), not market-based
(no renewable certificates or offsets), so a job's carbon is its energy x the grid's figure.
"""

from __future__ import annotations

import csv
import functools
import tomllib
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from accelscope.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class GridIntensity:
    """One grid's (or region's) carbon intensity, with where it comes from."""

    code: str
    name: str
    kind: str  # country, subnational, world, cloud-region, given
    year: int | None
    g_co2_per_kwh: float
    source: str  # the source's title and where to find it
    licence: str | None = None
    grid: str | None = None  # a cloud region's grid code

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _data(name: str):
    return resources.files("accelscope.cost").joinpath("data", name)


@functools.cache
def _sources() -> dict[str, dict[str, str]]:
    return tomllib.loads(_data("SOURCES.toml").read_text())


def _cite(key: str) -> tuple[str, str | None]:
    s = _sources().get(key)
    if s is None:
        raise ConfigError(f"grid data names source {key!r}, which cost/data/SOURCES.toml does not define")
    return s["title"], s.get("licence")


@functools.cache
def grids() -> dict[str, GridIntensity]:
    """Every grid, by upper-case code."""
    out: dict[str, GridIntensity] = {}
    with _data("grid_intensity.csv").open() as f:
        for row in csv.DictReader(f):
            title, licence = _cite(row["source"])
            out[row["code"].upper()] = GridIntensity(code=row["code"], name=row["name"], kind=row["kind"],
                                                     year=int(row["year"]), g_co2_per_kwh=float(row["g_co2_per_kwh"]),
                                                     source=title, licence=licence)
    return out


@functools.cache
def cloud_regions() -> dict[tuple[str, str], GridIntensity]:
    """Every mapped cloud region, by (provider, region), both lower case."""
    out: dict[tuple[str, str], GridIntensity] = {}
    g = grids()
    with _data("cloud_regions.csv").open() as f:
        for row in csv.DictReader(f):
            grid = g.get(row["grid"].upper())
            if row["g_co2_per_kwh"]:
                title, licence = _cite(row["source"])
                value, year = float(row["g_co2_per_kwh"]), int(row["year"])
            elif grid is not None:
                title = f"{grid.source} ({grid.name}; region mapped by {_cite(row['source'])[0]})"
                value, year, licence = grid.g_co2_per_kwh, grid.year, grid.licence
            else:
                raise ConfigError(f"cost/data/cloud_regions.csv: {row['provider']}:{row['region']} maps to grid "
                                  f"{row['grid']!r}, which grid_intensity.csv does not have, and gives no figure")
            key = (row["provider"].lower(), row["region"].lower())
            out[key] = GridIntensity(code=f"{row['provider']}:{row['region']}", name=row["location"],
                                     kind="cloud-region", year=year, g_co2_per_kwh=value, source=title,
                                     licence=licence, grid=row["grid"])
    return out


def _close(name: str, names: list[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, names, n=4, cutoff=0.6)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def grid_intensity(region: str) -> GridIntensity:
    """The intensity of ``region``: a grid code (``FRA``, ``US-CAMX``), a country's name
    (``France``), or a cloud region as ``provider:region`` (``aws:us-east-1``) or alone when
    only one provider has that name (``us-central1``)."""
    text = (region or "").strip()
    if not text:
        raise ConfigError("--region is empty: give a country code (FRA), a US eGRID subregion (US-CAMX) or a cloud "
                          "region (aws:us-east-1); `accelscope hardware grids` lists them")
    g, clouds = grids(), cloud_regions()
    if text.upper() in g:
        return g[text.upper()]
    by_name = {v.name.lower(): v for v in g.values()}
    if text.lower() in by_name:
        return by_name[text.lower()]
    if ":" in text:
        provider, _, name = text.partition(":")
        hit = clouds.get((provider.strip().lower(), name.strip().lower()))
        if hit is not None:
            return hit
    else:
        hits = [v for (p, r), v in clouds.items() if r == text.lower()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise ConfigError(f"--region {text!r} is a region of several clouds: say which, e.g. "
                              + ", ".join(h.code for h in hits))
    names = list(g) + [v.code for v in clouds.values()] + list(by_name)
    raise ConfigError(f"--region {text!r} is not a known grid or cloud region{_close(text, names)}: give a country "
                      "code (FRA), a US eGRID subregion (US-CAMX), a cloud region (aws:us-east-1), or the intensity "
                      "itself with --grid-g-per-kwh; `accelscope hardware grids` lists them")


def cloud_region_intensity(provider: str, region: str | None) -> GridIntensity | None:
    """The intensity of a cloud offering's region, when the region is mapped."""
    if not region:
        return None
    return cloud_regions().get((provider.lower(), region.lower()))


def given(g_co2_per_kwh: float) -> GridIntensity:
    if not g_co2_per_kwh >= 0:
        raise ConfigError(f"--grid-g-per-kwh must be >= 0, got {g_co2_per_kwh!r}")
    return GridIntensity(code="given", name="given", kind="given", year=None, g_co2_per_kwh=g_co2_per_kwh,
                         source="given (--grid-g-per-kwh)")
