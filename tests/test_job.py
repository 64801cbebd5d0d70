"""accelscope job: a whole training run or serving deployment, its arithmetic checked by hand."""

from __future__ import annotations

import json
import math

import pytest

from accelscope.errors import ConfigError
from accelscope.jobs.job import JobAssumptions, serving_job, training_job
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
    assert o.usd == pytest.approx(priced.usd_per_hour / 16 * o.device_hours)
    assert o.assumptions["goodput"] == 0.8 and o.assumptions["pue"] == 1.25


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
    assert d["job"]["kind"] == "train" and len(d["options"]) == 2
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
