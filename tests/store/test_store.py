import json
import sqlite3

import pytest

from accelscope.measure.result import Measurement, stored_measurements
from accelscope.measure.stats import summarize
from accelscope.store import SCHEMA_VERSION, Store, StoreError, default_store_path, export_runs
from accelscope.workload import WorkloadSpec


def _m(batch=1, samples=(0.010, 0.011, 0.012, 0.010, 0.011, 0.010), status="ok", **kw):
    return Measurement(spec=WorkloadSpec(model="mlp", task="infer", batch_size=batch, precision="fp32"), device="cpu", threads=2,
                       status=status, error=None if status == "ok" else "out of memory: boom",
                       error_kind=None if status == "ok" else "oom",
                       step_time_s=summarize(samples) if status == "ok" else None, **kw)


def _run(store, points, status="complete"):
    rid = store.begin_run(kind="measurement", config={"model": "mlp", "devices": ["cpu"]},
                          environment={"hostname": "h1", "torch_version": "x"}, command="accelscope bench mlp",
                          label="mlp")
    for m in points:
        store.add_measurement(rid, m)
    store.finish_run(rid, status)
    return rid


def test_default_path_honours_env_and_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("ACCELSCOPE_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_path() == tmp_path / "data" / "accelscope" / "results.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".local" / "share" / "accelscope" / "results.sqlite"


def test_schema_is_versioned_and_wal(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION == 3  # 3: runs record who made them
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 3
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "points", "samples"} <= tables
    con.close()
    with Store(path) as s:  # reopening does not migrate again
        assert s.list_runs() == []


def test_newer_schema_and_garbage_files_are_refused(tmp_path):
    newer = tmp_path / "newer.sqlite"
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer than this accelscope"):
        Store(newer)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not an SQLite database.*left untouched"):
        Store(junk)
    assert junk.read_bytes() == b"this is not sqlite" * 100


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    """The same tests on an SQLite file and on a PostgreSQL server."""
    return tmp_path / "s.sqlite" if request.param == "sqlite" else request.getfixturevalue("pg_url")


def test_store_list_show_and_measurements_roundtrip(target):
    with Store(target) as s:
        a = _run(s, [_m(1), _m(2, status="failed"), _m(4)])
        b = _run(s, [_m(1)], status="interrupted")
        runs = s.list_runs()
        assert [r.id for r in runs] == [b, a]
        assert (runs[1].n_points, runs[1].n_ok, runs[1].status) == (3, 2, "complete")
        assert runs[0].status == "interrupted" and runs[1].hostname == "h1"
        assert s.resolve_run_id("latest") == b and s.resolve_run_id("latest~1") == a and s.resolve_run_id(str(a)) == a
        pts = s.points(a)
        assert [p["batch_size"] for p in pts] == [1, 2, 4] and [p["point_seq"] for p in pts] == [0, 1, 2]
        assert pts[0]["step_time_s"]["samples"] == [0.010, 0.011, 0.012, 0.010, 0.011, 0.010]
        back = stored_measurements(s, a)
        assert back[0].step_time_s == _m(1).step_time_s and back[1].error == "out of memory: boom"
        assert back[0].environment.hostname == "h1"
        for bad in ("99", "latest~5", "first", "-1"):
            with pytest.raises(StoreError):
                s.resolve_run_id(bad)
        with pytest.raises(StoreError):
            s.add_point(12345, kind="measurement", record={}, status="ok")


def test_export_json_and_csv(target):
    import csv
    import io

    with Store(target) as s:
        a = _run(s, [_m(1), _m(8, status="failed")])
        _run(s, [_m(2)])
        doc = json.loads(export_runs(s, fmt="json"))
        assert [r["id"] for r in doc["runs"]] == [1, 2]
        assert doc["runs"][0]["points"][0]["step_time_s"]["samples"][2] == 0.012
        rows = list(csv.DictReader(io.StringIO(export_runs(s, [a], fmt="csv"))))
        assert [r["batch_size"] for r in rows] == ["1", "8"]
        assert rows[0]["status"] == "ok" and float(rows[0]["step_time_s_median"]) == pytest.approx(0.0105)
        assert rows[1]["status"] == "failed" and rows[1]["step_time_s_median"] == ""
        assert float(rows[0]["throughput_samples_per_s"]) == pytest.approx(1 / 0.0105)
        with pytest.raises(Exception, match="not one of"):
            export_runs(s, fmt="xml")


def test_a_failed_write_leaves_no_partial_point(target):
    with Store(target) as s:
        rid = _run(s, [_m(1)])
        with pytest.raises(TypeError):  # not JSON-serialisable: nothing is written
            s.add_point(rid, kind="measurement", record={"x": object()}, status="ok", samples=[1.0])
        with pytest.raises(StoreError, match="does not exist"):  # a point of no run: rolled back
            s.add_point(rid + 100, kind="measurement", record={"x": 1}, status="ok", samples=[1.0])
        assert len(s.points(rid)) == 1
        with s._read() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM samples").scalar() == 1
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM points").scalar() == 1


def test_generic_points_for_estimates(target):
    with Store(target) as s:
        rid = s.begin_run(kind="estimate", config={"model": "gpt2-small"})
        s.add_point(rid, kind="estimate", record={"hardware": "h100-sxm", "time_s": 0.02}, status="ok",
                    model="gpt2-small", device="h100-sxm", time_s=0.02)
        s.finish_run(rid)
        assert [r.kind for r in s.list_runs(kind="estimate")] == ["estimate"]
        assert s.list_runs(kind="measurement") == []
        assert s.points(rid)[0]["hardware"] == "h100-sxm"


def test_runs_record_who_made_them_and_filter_by_user_and_host(target, monkeypatch):
    import getpass

    with Store(target) as s:
        mine = _run(s, [_m(1)])
        monkeypatch.setattr(getpass, "getuser", lambda: "alice")
        hers = s.begin_run(kind="measurement", config={}, environment={"hostname": "h2"}, label="hers")
        s.finish_run(hers)
        me = [r for r in s.list_runs() if r.id == mine][0].user
        assert me and me != "alice"
        assert [r.id for r in s.list_runs(user="alice")] == [hers]
        assert [r.id for r in s.list_runs(host="h1")] == [mine]
        assert [r.id for r in s.list_runs(user="alice", host="h1")] == []
        assert s.get_run(hers).to_dict()["user"] == "alice" and s.get_run(hers).hostname == "h2"
