"""bench-comm: collectives over 2 real gloo processes launched by torch.distributed.run."""

import json

import pytest

from accelscope.errors import ConfigError
from accelscope.measure.comm import OPS, CollectivePoint, bench_comm, bus_factor, fit_alpha_beta, sizes
from accelscope.store import Store
from tests.helpers import run_cli


def test_bus_factors_are_nccl_tests():
    assert bus_factor("all_reduce", 8) == pytest.approx(2 * 7 / 8)
    for op in ("all_gather", "reduce_scatter", "all_to_all"):
        assert bus_factor(op, 4) == pytest.approx(3 / 4)
    assert bus_factor("broadcast", 16) == 1.0
    with pytest.raises(ConfigError, match="unknown collective"):
        bus_factor("allreduce", 2)
    assert sizes(64) == [8, 16, 32, 64]


def test_alpha_beta_fit_recovers_latency_and_bandwidth():
    alpha, beta, n = 30e-6, 20e9, 8
    pts = [CollectivePoint(op="all_reduce", bytes=s, time_s=alpha + s * bus_factor("all_reduce", n) / beta,
                           algbw_bytes_per_s=None, busbw_bytes_per_s=None) for s in sizes(2**26)]
    fit = fit_alpha_beta("all_reduce", pts, n)
    assert fit.alpha_s == pytest.approx(alpha, rel=1e-6) and fit.beta_bytes_per_s == pytest.approx(beta, rel=1e-6)
    assert fit.median_abs_error < 1e-9 and fit.points == len(pts)


def test_bad_options_fail_before_anything_is_launched():
    with pytest.raises(ConfigError, match="two ranks"):
        bench_comm(nproc_per_node=1)
    with pytest.raises(ConfigError, match="rdzv-endpoint"):
        bench_comm(nproc_per_node=2, nnodes=2)
    with pytest.raises(ConfigError, match="node-rank"):
        bench_comm(nproc_per_node=2, nnodes=2, node_rank=2, rdzv_endpoint="h:1")
    with pytest.raises(ConfigError, match="cpu \\(gloo\\) or cuda"):
        bench_comm(device="tpu")


@pytest.mark.slow
def test_two_gloo_processes_measure_every_collective_and_the_run_is_stored(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    code, out, err = run_cli(["bench-comm", "--nproc-per-node", "2", "--max-bytes", "16K", "--store", str(db),
                              "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    assert res["backend"] == "gloo" and res["world_size"] == 2 and res["nproc_per_node"] == 2
    pts = res["points"]
    assert {p["op"] for p in pts} == set(OPS) and not res["notes"]
    assert len(pts) == len(OPS) * len(sizes(16 * 1024))
    for p in pts:
        assert len(p["per_rank_s"]) == 2 and p["time_s"] == max(p["per_rank_s"]) > 0
        assert p["algbw_bytes_per_s"] == pytest.approx(p["bytes"] / p["time_s"])
        assert p["busbw_bytes_per_s"] == pytest.approx(p["algbw_bytes_per_s"] * bus_factor(p["op"], 2))
    assert {f["op"] for f in res["fits"]} <= set(OPS) and all(f["alpha_s"] >= 0 for f in res["fits"])
    with Store(db) as s:
        run = s.get_run(res["run_id"])
        assert run.kind == "comm" and run.status == "complete" and run.config["world"]["backend"] == "gloo"
        stored = s.points(run.id)
    assert [p["op"] for p in stored if p["point_kind"] == "collective"] == [p["op"] for p in pts]
    assert len([p for p in stored if p["point_kind"] == "collective_fit"]) == len(res["fits"])
    code, out, _ = run_cli(["runs", "show", str(res["run_id"]), "--store", str(db), "--wide"], capsys)
    assert code == 0 and "all_to_all" in out and "alpha" in out
