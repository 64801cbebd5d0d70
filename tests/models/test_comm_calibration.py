"""calibrate --comm: a stored bench-comm run's all-reduce fit becomes a system's link, and
predictions on that system use it."""

from __future__ import annotations

import json

import pytest

from accelscope.jobs.calibrate import calibrate_comm
from accelscope.jobs.predict import predict
from accelscope.jobs.parallel import Parallel
from accelscope.measure.comm import AlphaBeta
from accelscope.store import Store
from accelscope.store.calibrations import load_comm
from tests.helpers import run_cli


def _comm_run(store: Store, *, alpha: float, beta: float, error: float, nnodes: int = 1) -> int:
    """A bench-comm run as jobs/comm.py stores one (its all_reduce fit only)."""
    world = {"nnodes": nnodes, "nproc_per_node": 8, "world_size": 8 * nnodes, "backend": "nccl", "device": "cuda"}
    with store.recording(kind="comm", config={"ops": ["all_reduce"], "world": world}, planned=1) as rid:
        fit = AlphaBeta(op="all_reduce", alpha_s=alpha, beta_bytes_per_s=beta, points=20, median_abs_error=error)
        store.add_point(rid, kind="collective_fit", record=fit.to_dict(), status="ok", device="cuda",
                        task="all_reduce", time_s=alpha)
    return rid


def test_a_fitted_link_replaces_the_catalogs_in_predictions(tmp_path):
    with Store(tmp_path / "s.sqlite") as db:
        rid = _comm_run(db, alpha=40e-6, beta=150e9, error=0.05)
        res = calibrate_comm("dgx-a100", store=db)
        assert res.accepted and res.record["run_id"] == rid and res.record["scope"] == "intra-node"
        assert load_comm(db)[("dgx-a100", "intra-node")]["beta_bytes_per_s"] == 150e9
        req = Parallel(devices=8, parallel="tp=8")
        spec = "gpt:layers=4,hidden=256,heads=8,vocab=1000,seq=128"
        opts = dict(hardware="a100-sxm4-80gb", task="train", batch_size=2, seq_len=128, precision="bf16", parallel=req)
        cal = predict(spec, store=db, **opts).results[0].estimate
        plain = predict(spec, calibrations={}, **opts).results[0].estimate
    fc, fp = cal.parameters["parallel"]["fabric"], plain.parameters["parallel"]["fabric"]
    assert fc["intra_bandwidth_bytes_per_s"] == 150e9 and fc["base_latency_s"] == 40e-6 and fc["intra_latency_s"] == 0
    assert fp["intra_bandwidth_bytes_per_s"] == 232e9
    # 4 layers x 4 all-reduces of the micro-batch's activations (2 x 128 tokens x 256 x 2 bytes)
    s = 2 * 128 * 256 * 2
    assert cal.parameters["parallel"]["tensor_parallel_s"] == pytest.approx(16 * (40e-6 + 2 * 7 / 8 * s / 150e9))
    assert plain.parameters["parallel"]["tensor_parallel_s"] == pytest.approx(
        16 * (8.4e-6 + 2 * (7 / 8 * s / 232e9 + 7 * 3.4e-6)))
    assert any(f"bench-comm run {rid}" in n for n in cal.notes)


def test_a_noisy_fit_is_stored_as_rejected_and_not_used(tmp_path):
    with Store(tmp_path / "s.sqlite") as db:
        _comm_run(db, alpha=1e-3, beta=1e9, error=0.6, nnodes=2)
        res = calibrate_comm("dgx-h100", store=db)
        assert not res.accepted and "too noisy" in res.record["reason"]
        assert res.record["scope"] == "inter-node"
        assert load_comm(db) == {}


def test_calibrate_comm_cli_and_its_errors(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    code, _, err = run_cli(["calibrate", "--comm", "--system", "dgx-a100", "--store", str(db)], capsys)
    assert code == 2 and "no bench-comm runs" in err
    code, _, err = run_cli(["calibrate", "--system", "dgx-a100", "--store", str(db)], capsys)
    assert code == 2 and "--comm --system" in err
    with Store(db) as s:
        _comm_run(s, alpha=20e-6, beta=300e9, error=0.02)
    code, out, err = run_cli(["calibrate", "--comm", "--system", "hgx-h200", "--store", str(db), "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["system"] == "dgx-h200" and d["accepted"] and d["beta_bytes_per_s"] == pytest.approx(300e9)
    code, _, err = run_cli(["calibrate", "--comm", "--system", "dgx-9", "--store", str(db)], capsys)
    assert code == 2 and "unknown system" in err
