"""accelscope job: a whole training run or serving deployment, its arithmetic checked by hand."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from accelscope.errors import ConfigError
from accelscope.jobs.job import JobAssumptions, serving_job, training_job
from accelscope.store import Store
from tests.helpers import run_cli

SMALL = "gpt:layers=4,hidden=256,heads=8,vocab=1000,seq=128"


def test_a_training_job_is_steps_times_the_iteration_over_goodput():
    a = JobAssumptions(goodput=0.8, pue=1.25, node_overhead_w=500.0, grid_g_per_kwh=400.0)
    res = training_job(SMALL, hardware="h100-sxm", devices=16, train_tokens=1e9, seq_len=128, global_batch=64,
                       precision="bf16", assumptions=a)
    o = res.options[0]
    step = o.per_step["step_time_s"]
    per_iter = 64 * 128
    assert o.per_step["steps"] == math.ceil(1e9 / per_iter)
    assert o.wall_time_s == pytest.approx(o.per_step["steps"] * step / 0.8)
    assert o.device_hours == pytest.approx(o.wall_time_s * 16 / 3600)
    # energy: the devices' power plus 500 W per node (16 H100s: two DGX H100 nodes), times the PUE
    from accelscope.jobs.predict import predict
    from accelscope.jobs.parallel import Parallel

    priced = predict(SMALL, hardware="h100-sxm", task="train", seq_len=128, precision="bf16",
                     parallel=Parallel(devices=16, global_batch=64), calibrations={}).results[0]
    watts = priced.power_w + 2 * 500.0
    assert o.energy_kwh == pytest.approx(watts * o.wall_time_s / 3.6e6 * 1.25, rel=1e-6)
    assert o.tco2e == pytest.approx(o.energy_kwh * 400.0 / 1e6)
    assert o.assumptions["goodput"] == 0.8 and o.assumptions["pue"] == 1.25
    # every dated offering of the catalog is an option, each at its own price per device-hour
    from accelscope.hardware.catalog import load_hardware

    spec = load_hardware("h100-sxm")
    clouds = [x for x in res.options if x.kind == "cloud"]
    current = [c for c in spec.cloud if not c.is_stale]  # those known to be superseded are left out, and said so
    assert len(clouds) == len(current) and len(current) < len(spec.cloud)
    from accelscope.cost.tco import price_age_months

    for x, offer in zip(sorted(clouds, key=lambda x: x.usd), sorted(current, key=lambda c: c.usd_per_device_hour)):
        assert x.usd == pytest.approx(offer.usd_per_device_hour * o.device_hours)
        assert x.price["date"] == offer.date and x.price["pricing"] == offer.pricing
        assert (x.price["flag"] is not None) == (price_age_months(offer.date) > 12)
        assert any(n.startswith("left out: ") for n in x.notes)
    # buying: the purchase price's midpoint amortised (5 y at 70% use by default), hosting and electricity
    buy = next(x for x in res.options if x.kind == "buy")
    price = (spec.purchase_price.usd + spec.purchase_price.usd_max) / 2
    own = a.ownership
    kw = (spec.tdp_w.number + 500.0 * 2 / 16) / 1e3
    hours = buy.wall_time_s / 3600
    expected = (16 * price * hours / (8760 * own.utilisation * own.years)
                + 16 * kw * own.hosting_usd_per_kw_month * 12 * hours / (8760 * own.utilisation)
                + buy.energy_kwh * own.usd_per_kwh)
    assert buy.usd == pytest.approx(expected, rel=1e-9)
    assert set(buy.break_even["months_vs_cloud"]) == {f"{c.provider} {c.instance} {c.pricing}" + (f" {c.region}" if c.region else "")
                                                    for c in current}
    usd = [x.usd for x in res.options if x.usd is not None]
    assert usd == sorted(usd)  # cheapest first


def test_a_serving_job_runs_enough_replicas_for_the_load():
    res = serving_job(SMALL, hardware="h100-sxm", requests_per_s=5000.0, duration_s=86400.0, batch_size=8,
                      input_tokens=64, output_tokens=32, precision="bf16")
    o = res.options[0]
    per_replica = o.per_step["requests_per_s_per_replica"]
    assert o.per_step["replicas"] == math.ceil(5000.0 / per_replica)
    assert o.devices == o.per_step["replicas"] * o.per_step["devices_per_replica"]
    assert o.wall_time_s == 86400.0 and o.device_hours == pytest.approx(o.devices * 24)
    assert o.tco2e is None  # no grid intensity given: no carbon figure


def test_bad_jobs_are_refused():
    with pytest.raises(ConfigError, match="must be positive"):
        training_job(SMALL, hardware="h100-sxm", devices=2, train_tokens=-5, seq_len=128)
    with pytest.raises(ConfigError, match="give the job's size"):
        training_job(SMALL, hardware="h100-sxm", devices=2, seq_len=128)
    with pytest.raises(ConfigError, match="goodput"):
        JobAssumptions(goodput=1.5)
    with pytest.raises(ConfigError, match="pue"):
        JobAssumptions(pue=0.9)


def test_job_cli_prints_the_options_and_its_json(capsys):
    code, out, err = run_cli(["job", SMALL, "--train-tokens", "1e9", "--seq-len", "128", "--hardware",
                              "h100-sxm,a100-sxm4-80gb", "--devices", "8", "--precision", "bf16", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["job"]["kind"] == "train"
    with Store() as s:  # kept for `accelscope report` (tests/conftest.py gives each test its own store)
        (run,) = s.list_runs(kind="job")
        assert run.id == d["run_id"] and run.label == f"{d['job']['model']} train job on a100-sxm4-80gb, h100-sxm"
        assert [o["usd"] for o in s.points(run.id)[0]["options"]] == [o["usd"] for o in d["options"]]
    assert {o["hardware"] for o in d["options"]} == {"h100-sxm", "a100-sxm4-80gb"}
    assert {o["kind"] for o in d["options"]} == {"cloud", "buy"}
    for o in d["options"]:
        for key in ("option", "hardware", "devices", "wall_time_s", "device_hours", "energy_kwh", "tco2e", "usd",
                    "assumptions"):
            assert key in o
    usd = [o["usd"] for o in d["options"]]
    assert usd == sorted(usd)  # cheapest first
    code, _, err = run_cli(["job", SMALL, "--task", "serve", "--hardware", "h100-sxm", "--duration", "2 weeks"], capsys)
    assert code == 2 and "--requests-per-s" in err
    code, _, err = run_cli(["job", SMALL, "--task", "serve", "--requests-per-s", "10", "--duration", "2x",
                            "--hardware", "h100-sxm"], capsys)
    assert code == 2 and "not a positive duration" in err


def _design(tmp_path):
    from accelscope.jobs.simulate import save_design
    from accelscope.models.systolic.config import ArrayConfig

    cfg = ArrayConfig(rows=128, cols=128, dataflow="os", ifmap_sram_bytes=64 * 1024, filter_sram_bytes=64 * 1024,
                      ofmap_sram_bytes=64 * 1024, word_bytes=1, clock_hz=1e9, name="tiny-asic")
    return str(save_design(tmp_path / "tiny-asic.toml", cfg, node_nm=7.0, dtype="int8", origin="a test"))


def test_an_inference_fleet_prices_a_custom_design_built_and_its_break_even_volume(tmp_path):
    from accelscope.cost.tco import Build

    design = _design(tmp_path)
    a = JobAssumptions(build=Build(nre_usd=20e6, unit_usd=400.0, volume=50_000), grid_g_per_kwh=300.0)
    res = serving_job("resnet18", hardware=f"l4,{design}", requests_per_s=5000.0, duration_s=365 * 86400.0,
                      task="infer", batch_size=16, assumptions=a)
    build = next(o for o in res.options if o.kind == "build")
    assert build.devices == build.per_step["replicas"] == math.ceil(5000.0 / build.per_step["requests_per_s_per_replica"])
    parts = build.price["parts_usd"]
    own = a.ownership
    unit = 400.0 + 20e6 / 50_000
    assert parts["capital"] == pytest.approx(build.devices * unit * 8760 / (8760 * own.utilisation * own.years))
    assert build.usd == pytest.approx(parts["capital"] + parts["hosting"] + parts["electricity"])
    assert build.tco2e == pytest.approx(build.energy_kwh * 300.0 / 1e6)
    d = build.price["design"]
    assert d["array"] == "128x128 os" and d["node_nm"] == 7.0
    area = d["area_mm2"]
    assert area["total"] == pytest.approx(area["array"] + area["sram"]) and 0 < area["sram"] < area["total"]
    # the volume at which building costs what the cheapest other option does
    best = min((o for o in res.options if o.kind != "build"), key=lambda o: o.usd)
    v = build.break_even["volume"]
    assert build.break_even["volume_vs_usd"] == pytest.approx(best.usd)
    if v is not None:
        at = dataclasses.replace(a, build=Build(nre_usd=20e6, unit_usd=400.0, volume=max(1, round(v))))
        from accelscope.jobs.job import reprice

        again = next(o for o in reprice(res, at).options if o.kind == "build")
        assert again.usd == pytest.approx(best.usd, rel=0.01)
    # without the build's costs the design is listed, unpriced, saying what to give
    plain = serving_job("resnet18", hardware=design, requests_per_s=5000.0, duration_s=86400.0, task="infer",
                        batch_size=16)
    assert plain.options[0].usd is None and "--nre-usd" in plain.options[0].option
    with pytest.raises(ConfigError, match="none of --hardware is one"):
        serving_job("resnet18", hardware="l4", requests_per_s=10.0, duration_s=86400.0, task="infer", assumptions=a)


def test_carbon_comes_from_the_region_or_each_cloud_offerings_own_region():
    from accelscope.cost.carbon import cloud_region_intensity, grid_intensity

    fr, pl = grid_intensity("FRA"), grid_intensity("Poland")
    assert fr.year >= 2020 and fr.g_co2_per_kwh < pl.g_co2_per_kwh  # nuclear France, coal Poland
    assert fr.licence and fr.source
    res = training_job(SMALL, hardware="a100-sxm4-80gb", devices=8, train_tokens=1e8, seq_len=128, precision="bf16",
                       assumptions=JobAssumptions(region="FRA"))
    for o in res.options:
        assert o.tco2e == pytest.approx(o.energy_kwh * fr.g_co2_per_kwh / 1e6)
        assert o.grid["code"] == "FRA"
    # no region given: a cloud offering is charged its own region's grid, a purchase has none
    res = training_job(SMALL, hardware="a100-sxm4-80gb", devices=8, train_tokens=1e8, seq_len=128, precision="bf16")
    for o in res.options:
        if o.kind == "cloud" and o.price["region"] and cloud_region_intensity(o.price["provider"], o.price["region"]):
            g = cloud_region_intensity(o.price["provider"], o.price["region"])
            assert o.tco2e == pytest.approx(o.energy_kwh * g.g_co2_per_kwh / 1e6)
        if o.kind == "buy":
            assert o.tco2e is None and any("--region" in n for n in o.notes)
    with pytest.raises(ConfigError, match="not a known grid"):
        JobAssumptions(region="Atlantis")


def test_advise_ranks_within_the_constraints_and_names_the_binding_one():
    from accelscope.jobs.advise import Constraints, advise

    a = JobAssumptions(region="FRA")
    results = [training_job(SMALL, hardware="h100-sxm,a100-sxm4-80gb", devices=n, train_tokens=2e9, seq_len=128,
                            precision="bf16", assumptions=a) for n in (8, 32)]
    everything = advise(results, constraints=Constraints(), assumptions=a)
    cheapest = everything.best
    assert everything.binding.startswith("none") and len(everything.ranked) == sum(len(r.options) for r in results)
    # a deadline shorter than the cheapest option's wall time binds
    deadline = cheapest.wall_time_s * 0.9
    adv = advise(results, constraints=Constraints(deadline_s=deadline), assumptions=a)
    assert adv.best is not None and adv.best.wall_time_s <= deadline and adv.best.usd >= cheapest.usd
    assert adv.binding.startswith("deadline")
    assert all(o.wall_time_s > deadline for o, _ in adv.excluded)
    # a deadline no option meets: no option qualifies, and the result says the fastest is too slow
    fastest = min(o.wall_time_s for o in everything.ranked)
    none = advise(results, constraints=Constraints(deadline_s=fastest / 2), assumptions=a)
    assert none.best is None and none.verdict == "no option qualifies"
    assert "the deadline cannot be met" in none.binding
    # the sensitivity table re-prices the same runs: halving purchase prices cannot make buying dearer
    rows = {(r["parameter"], r["value"]): r for r in everything.sensitivity}
    if cheapest.kind == "buy":
        assert rows[("purchase prices", "x0.5")]["usd"] < cheapest.usd
    assert ("carbon price", "100 USD/t") in rows


def test_advise_cli_json_and_its_bad_input(capsys):
    code, out, err = run_cli(["advise", SMALL, "--train-tokens", "1e9", "--seq-len", "128", "--hardware", "h100-sxm",
                              "--devices", "8,16", "--precision", "bf16", "--budget", "1e9", "--deadline", "30",
                              "--region", "DEU", "--max-tco2e", "1000", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["job"]["devices"] == [8, 16] and d["best"] is not None
    with Store() as s:
        (run,) = s.list_runs(kind="job")
        assert run.id == d["run_id"] and run.config["job"]["devices"] == [8, 16]
    code, out, err = run_cli(["advise", SMALL, "--train-tokens", "1e9", "--hardware", "h100-sxm", "--no-store",
                              "--json"], capsys)
    assert code == 0 and json.loads(out)["run_id"] is None
    assert {o["devices"] for o in d["ranked"]} == {8, 16}
    assert d["sensitivity"] and all("changes_ranking" in r for r in d["sensitivity"])
    code, _, err = run_cli(["advise", SMALL, "--train-tokens", "1e9", "--hardware", "h100-sxm", "--region", "Mars"],
                           capsys)
    assert code == 2 and "not a known grid" in err
    code, _, err = run_cli(["advise", SMALL, "--train-tokens", "1e9", "--hardware", "h100-sxm", "--deadline", "-3"],
                           capsys)
    assert code == 2 and "--deadline" in err
    code, _, err = run_cli(["job", SMALL, "--train-tokens", "1e9", "--hardware", "h100-sxm", "--nre-usd", "1e6"],
                           capsys)
    assert code == 2 and "all three" in err
    with Store() as s:  # nothing stored by the refused or --no-store ones
        assert len(s.list_runs(kind="job")) == 1
