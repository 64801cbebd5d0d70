import multiprocessing as mp
import sys

from accelscope.store import SCHEMA_VERSION, Store


def _writer(path, name, n, barrier):
    from accelscope.store import Store as S

    with S(path, timeout_s=60) as s:
        barrier.wait()
        rid = s.begin_run(kind="measurement", config={"writer": name}, label=name)
        for i in range(n):
            s.add_point(rid, kind="measurement", record={"writer": name, "i": i}, status="ok", model=name,
                        batch_size=i, time_s=0.001 * (i + 1), samples=[0.001 * (i + 1)] * 5)
        s.finish_run(rid)


def _run_two_writers(path: str, points: int) -> None:
    """Two processes, released together by a barrier, each store a run of ``points`` points."""
    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, name, points, barrier)) for name in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]


def test_two_processes_write_at_once(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    Store(path).close()  # created (and migrated) once; the writers race on the data
    _run_two_writers(path, 60)
    with Store(path) as s:
        runs = s.list_runs()
        assert sorted(r.label for r in runs) == ["a", "b"]
        for r in runs:
            assert r.status == "complete" and r.n_points == 60
            pts = s.points(r.id)
            assert [p["i"] for p in pts] == list(range(60)) and {p["writer"] for p in pts} == {r.label}
            assert pts[-1]["point_seq"] == 59


def test_two_processes_create_a_new_store_at_once(tmp_path):
    path = str(tmp_path / "fresh.sqlite")
    _run_two_writers(path, 5)
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION and sum(r.n_points for r in s.list_runs()) == 10
