"""Several processes writing one store at once lose nothing: an SQLite file and a PostgreSQL server."""

import multiprocessing as mp
import sys

import pytest

from accelscope.store import SCHEMA_VERSION, Store, compare_runs

RUNS_EACH = 200


def _writer(target, name, runs, points, barrier):
    from accelscope.store import Store as S

    with S(target, timeout_s=60) as s:
        barrier.wait()
        for r in range(runs):
            rid = s.begin_run(kind="measurement", config={"writer": name, "run": r}, label=f"{name}{r}")
            for i in range(points):
                t = 0.001 * (i + 1) * (1 + r % 3)
                s.add_point(rid, kind="measurement", status="ok", model="mlp", device="cpu", batch_size=i,
                            precision="fp32", time_s=t, samples=[t] * 5,
                            record={"writer": name, "run": r, "i": i, "model": "mlp", "device": "cpu",
                                    "batch_size": i, "precision": "fp32", "status": "ok",
                                    "step_time_s": {"median": t}})
            s.finish_run(rid)


def _run_two_writers(target, runs: int, points: int) -> None:
    """Two processes, released together by a barrier, each store ``runs`` runs of ``points`` points."""
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(target, name, runs, points, barrier)) for name in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(240)
    assert [p.exitcode for p in procs] == [0, 0]


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    return str(tmp_path / "shared.sqlite") if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.mark.slow
def test_two_processes_write_200_runs_each_at_once(target):
    Store(target).close()  # created (and migrated) once; the writers race on the data
    _run_two_writers(target, RUNS_EACH, 2)
    with Store(target) as s:
        runs = s.list_runs()
        assert len(runs) == 2 * RUNS_EACH
        assert sorted(r.label for r in runs) == sorted(f"{w}{r}" for w in "ab" for r in range(RUNS_EACH))
        for r in runs:
            assert r.status == "complete" and r.n_points == r.n_ok == 2
            pts = s.points(r.id)
            assert [(p["writer"] + str(p["run"]), p["i"], p["point_seq"]) for p in pts] == \
                [(r.label, 0, 0), (r.label, 1, 1)]
            assert pts[1]["step_time_s"]["samples"] == [pts[1]["step_time_s"]["median"]] * 5
        # runs compare across the two writers' runs: a0 (1x) against b2 (3x the step time)
        a0 = next(r.id for r in runs if r.label == "a0")
        b2 = next(r.id for r in runs if r.label == "b2")
        cmp = compare_runs(s, a0, b2)
        assert [p.verdict for p in cmp.points] == ["regression", "regression"]
        assert [p.ratio for p in cmp.points] == pytest.approx([3.0, 3.0])


def test_two_processes_create_a_new_store_at_once(target):
    _run_two_writers(target, 2, 5)
    with Store(target) as s:
        assert s.schema_version == SCHEMA_VERSION and sum(r.n_points for r in s.list_runs()) == 20
