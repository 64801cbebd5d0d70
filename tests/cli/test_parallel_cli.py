"""``predict --devices``: the layouts users give, the defaults, the search, and bad input (exit 2)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

SMALL = "gpt:layers=4,hidden=256,heads=8,vocab=1000,seq=128"
BASE = ["predict", SMALL, "--task", "train", "--seq-len", "128", "--hardware", "h100-sxm", "--precision", "bf16"]


def test_a_given_layout_reports_every_term_in_json(capsys):
    code, out, err = run_cli([*BASE, "--devices", "16", "--parallel", "tp=2,pp=2", "--global-batch", "32",
                              "--zero", "1", "--json"], capsys)
    assert code == 0, err
    e = json.loads(out)["estimates"][0]
    assert e["devices"] == 16
    lay = e["parallel"]["layout"]
    assert (lay["dp"], lay["tp"], lay["pp"], lay["zero"], lay["microbatches"]) == (4, 2, 2, 1, 8)
    for key in ("step_time_s", "throughput_samples_per_s", "tokens_per_s", "mfu", "scaling_efficiency", "compute_s",
                "communication_s", "exposed_communication_s", "bubble_s", "memory_bytes", "fits_in_memory"):
        assert e[key] is not None, key
    assert e["throughput_samples_per_s"] == pytest.approx(32 / e["step_time_s"])
    assert e["tokens_per_s"] == pytest.approx(32 * 128 / e["step_time_s"])
    assert 0 < e["mfu"] < 1 and e["bubble_s"] > 0
    # the whole fleet is priced: 16 devices' power and hourly price
    assert e["usd_per_hour"] > 16 * 1.0 and "x 16 devices" in e["offering"]


def test_devices_alone_is_data_parallel_when_the_model_fits(capsys):
    code, out, err = run_cli([*BASE, "--devices", "8", "--json"], capsys)
    assert code == 0, err
    lay = json.loads(out)["estimates"][0]["parallel"]["layout"]
    assert (lay["dp"], lay["tp"], lay["pp"], lay["cp"]) == (8, 1, 1, 1)


def test_search_ranks_layouts_fastest_first(capsys):
    code, out, err = run_cli([*BASE, "--devices", "8", "--search", "--global-batch", "16", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    ranked = d["search"]["h100-sxm"]["ranked"]
    assert d["search"]["h100-sxm"]["candidates"] > len(ranked) >= 5
    times = [r["step_time_s"] for r in ranked if r["fits_in_memory"]]
    assert times == sorted(times)
    assert d["estimates"][0]["step_time_s"] == pytest.approx(ranked[0]["step_time_s"])


def test_the_search_table_prints(capsys):
    code, out, err = run_cli([*BASE, "--devices", "8", "--search", "--top", "3"], capsys)
    assert code == 0, err
    assert "the 3 fastest of" in out and "fit in memory" in out


@pytest.mark.parametrize("extra, message", [
    (["--devices", "16", "--parallel", "dp=2,tp=2,pp=2"], "is not the 16 devices"),
    (["--devices", "6", "--parallel", "tp=3"], "does not divide the attention heads"),
    (["--devices", "10", "--parallel", "pp=5,tp=2"], "more stages than the 4 layers"),
    (["--devices", "8", "--system", "dgx-9000"], "unknown system 'dgx-9000'"),
    (["--devices", "8", "--parallel", "tp=2,xp=4"], "is not key=value"),
    (["--parallel", "tp=2"], "need --devices"),
    (["--devices", "8", "--zero", "5"], "ZeRO stage"),
    (["--devices", "8", "--recompute", "some"], "recompute 'some'"),
    (["--devices", "16", "--parallel", "pp=2", "--schedule", "interleaved:2", "--global-batch", "8"],
     "multiple of the pipeline stages"),
])
def test_bad_layouts_exit_2_with_what_to_do(capsys, extra, message):
    code, out, err = run_cli([*BASE, *extra], capsys)
    assert code == 2
    assert message in err


def test_layout_options_without_devices_are_refused(capsys):
    code, _, err = run_cli([*BASE, "--zero", "1"], capsys)
    assert code == 2 and "need --devices" in err


def test_non_decoders_refuse_tensor_parallelism(capsys):
    code, _, err = run_cli(["predict", "mlp", "--task", "train", "--hardware", "h100-sxm", "--devices", "4",
                            "--parallel", "tp=2"], capsys)
    assert code == 2 and "only data parallelism" in err


def test_a_cnn_on_several_gpus_is_data_parallel(capsys):
    code, out, err = run_cli(["predict", "mlp", "--task", "train", "--hardware", "a100-sxm4-80gb", "--devices", "16",
                              "--batch", "64", "--json"], capsys)
    assert code == 0, err
    e = json.loads(out)["estimates"][0]
    assert e["throughput_samples_per_s"] == pytest.approx(16 * 64 / e["step_time_s"])
    assert e["parallel"]["groups"]["dp"] == {"size": 16, "per_node": 8, "nodes": 2}
    assert e["parallel"]["fabric"]["system"] == "dgx-a100"  # the A100's own system by default
