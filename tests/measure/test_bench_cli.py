import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import run_cli


_cli = run_cli


def test_bench_json_on_the_null_device_and_runs_commands(tmp_path, capsys):
    store = str(tmp_path / "r.sqlite")
    code, out, _ = _cli(["bench", "mlp", "--device", "null", "--task", "train,infer", "--batch", "1,2",
                         "--precision", "fp32,amp-bf16", "--max-time", "0.2", "--threads", "1", "--store", store,
                         "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    res = doc["results"]
    assert len(res) == 8 and doc["run_id"] == 1 and doc["store"] == store
    for r in res:
        for key in ("device", "task", "batch_size", "precision", "status", "step_time_s",
                    "throughput_samples_per_s", "speedup_vs_cpu", "energy_j_per_sample", "energy_method",
                    "peak_mem_bytes", "run_id", "converged", "noisy", "cold_start_s", "threads"):
            assert key in r
        assert set(r["step_time_s"]) >= {"median", "p10", "p90", "iqr"}
        assert r["status"] == "ok" and r["run_id"] == 1 and r["threads"] == 1
        assert r["step_time_s"]["median"] == pytest.approx(1e-3)  # the null device's fake clock
        assert r["throughput_samples_per_s"] == pytest.approx(r["batch_size"] / 1e-3)
        assert r["energy_method"] == "fake"
    assert [(r["task"], r["batch_size"], r["precision"]) for r in res][:3] == [
        ("train", 1, "fp32"), ("train", 1, "amp-bf16"), ("train", 2, "fp32")]

    code, out, _ = _cli(["runs", "list", "--store", store, "--json"], capsys)
    (run,) = json.loads(out)
    assert (run["id"], run["n_points"], run["status"], run["label"]) == (1, 8, "complete", "mlp")
    code, out, _ = _cli(["runs", "show", "1", "--store", store, "--json"], capsys)
    shown = json.loads(out)
    assert len(shown["points"]) == 8 and len(shown["points"][0]["step_time_s"]["samples"]) >= 10
    assert shown["environment"]["torch_version"]
    code, out, _ = _cli(["runs", "export", "--format", "csv", "--store", store], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 8 and rows[0]["device"] == "null"
    code, out, _ = _cli(["runs", "show", "latest", "--store", store], capsys)
    assert code == 0 and "run 1" in out
    code, out, _ = _cli(["runs", "list", "--store", store], capsys)
    assert code == 0 and "complete" in out


def test_bench_table(tmp_path, capsys):
    args = ["bench", "mlp", "--device", "null", "--batch", "2", "--max-time", "0.2", "--no-store"]
    code, out, _ = _cli(args + ["--wide"], capsys)
    assert code == 0
    for word in ("step ± IQR", "samples/s", "vs CPU", "J/sample", "peak mem", "verdict", "energy: fake"):
        assert word in out
    code, out, _ = _cli(args, capsys)  # 80 columns: what is left out is named
    assert code == 0 and "step ± IQR" in out and "verdict" in out
    assert all(len(line.rstrip()) <= 80 for line in out.splitlines())
    assert "peak mem" in " ".join(out.split())  # either a column or named in the note under the table


def test_bench_bad_input_exits_2(capsys):
    code, _, err = _cli(["bench", "mlp", "--device", "gpu", "--no-store"], capsys)
    assert code == 2 and "Valid device names" in err
    code, _, err = _cli(["bench", "mlp", "--device", "null", "--batch", "1,x", "--no-store"], capsys)
    assert code == 2 and "--batch" in err
    code, _, err = _cli(["bench", "mlp", "--device", "null", "--precision", "fp8", "--no-store"], capsys)
    assert code == 2 and "fp8" in err


def test_bench_console_script_uses_the_env_store(tmp_path):
    env = {**os.environ, "ACCELSCOPE_STORE": str(tmp_path / "env.sqlite")}
    r = subprocess.run([sys.executable, "-m", "accelscope", "bench", "mlp", "--device", "null", "--batch", "2",
                        "--max-time", "0.2", "--threads", "1", "--json"], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["store"] == str(tmp_path / "env.sqlite")
    assert (tmp_path / "env.sqlite").exists()
