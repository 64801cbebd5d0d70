"""A distributed bench: 2 real gloo processes through torch.distributed.run, DDP and FSDP2."""

import json

import pytest

from accelscope.errors import ConfigError
from accelscope.measure.distributed import bench_distributed
from accelscope.store import Store
from accelscope.workload.spec import as_spec
from tests.helpers import run_cli


def test_bad_options_fail_before_anything_is_launched():
    train = as_spec("mlp", task="train", batch_size=4)
    with pytest.raises(ConfigError, match="training steps"):
        bench_distributed(as_spec("mlp", task="infer", batch_size=4))
    with pytest.raises(ConfigError, match="ddp or fsdp"):
        bench_distributed(train, strategy="zero3")
    with pytest.raises(ConfigError, match="rdzv-endpoint"):
        bench_distributed(train, nnodes=2)
    with pytest.raises(ConfigError, match="cpu \\(gloo\\) or cuda"):
        bench_distributed(train, device="mps")


@pytest.mark.slow
def test_two_gloo_ranks_train_with_ddp_and_the_run_is_stored(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    code, out, err = run_cli(["bench", "mlp", "--task", "train", "--batch", "16", "--nproc-per-node", "2",
                              "--max-time", "1", "--store", str(db), "--json"], capsys)
    assert code == 0, err
    r = json.loads(out)
    assert r["error"] is None and r["world"] == {"nnodes": 1, "nproc_per_node": 2, "world_size": 2,
                                                 "backend": "gloo", "strategy": "ddp"}
    assert len(r["per_rank_median_s"]) == 2 and r["step_time_s"] >= 0.9 * min(r["per_rank_median_s"])
    assert r["single_process_step_s"] > 0
    # E(2) = one process's step over the 2-rank step, at the same batch per process
    assert r["scaling_efficiency"] == pytest.approx(r["single_process_step_s"] / r["step_time_s"])
    assert 0.05 < r["scaling_efficiency"] < 1.5
    assert r["throughput_samples_per_s"] == pytest.approx(2 * 16 / r["step_time_s"])
    with Store(db) as s:
        run = s.get_run(r["run_id"])
        assert run.kind == "distributed" and run.status == "complete"
        assert run.config["world"]["world_size"] == 2 and run.config["world"]["strategy"] == "ddp"
        (point,) = s.points(run.id)
    assert point["scaling_efficiency"] == pytest.approx(r["scaling_efficiency"])
    code, out, _ = run_cli(["runs", "show", str(r["run_id"]), "--store", str(db), "--wide"], capsys)
    assert code == 0 and "E(N)" in out and "ddp" in out


@pytest.mark.slow
def test_fsdp2_trains_and_a_failing_rank_is_reported():
    res = bench_distributed(as_spec("mlp", task="train", batch_size=8).resolved(), strategy="fsdp", max_time_s=0.5)
    assert res.error is None and res.step_time_s > 0 and len(res.per_rank_median_s) == 2
    bad = bench_distributed(as_spec("tests.helpers:fails_on_rank_1", task="train", batch_size=4,
                                    input_shape=(8,)).resolved(), max_time_s=0.5)
    assert bad.step_time_s is None and bad.scaling_efficiency is None
    assert "launcher exited" in bad.error and "rank 1 cannot build its model" in bad.error
