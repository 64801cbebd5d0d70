"""A store made by the previous release opens and is migrated without loss; foreign and newer
databases are refused untouched, on SQLite and on PostgreSQL."""

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from accelscope.store import SCHEMA_VERSION, Store, StoreError, compare_runs, export_runs

V2_DUMP = Path(__file__).parent / "data" / "store_v2.sql"


def _v2_store(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript(V2_DUMP.read_text())
    con.close()
    return path


def _rows(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("runs", "points", "samples")}
    finally:
        con.close()


def test_the_previous_release_store_migrates_without_loss(tmp_path):
    path = _v2_store(tmp_path / "old.sqlite")
    before = _rows(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
    assert [len(before[t]) for t in ("runs", "points", "samples")] == [3, 8, 3]
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION == 3
        runs = s.list_runs()
        assert [(r.id, r.kind, r.n_points, r.status, r.user) for r in runs] == [
            (3, "measurement", 1, "complete", None), (2, "estimate", 5, "complete", None),
            (1, "measurement", 2, "complete", None)]
        assert len(s.points(1)[0]["step_time_s"]["samples"]) == s.points(1)[0]["step_time_s"]["n"]
        assert compare_runs(s, 1, 3).points  # old runs still compare
        new = s.begin_run(kind="measurement", config={}, label="after")
        s.finish_run(new)
        assert s.get_run(new).user and new == 4
        exported = json.loads(export_runs(s, [1, 2, 3]))
    after = _rows(path)
    # every old row is still there, column for column, with the new column (username) empty
    assert [row[:-1] for row in after["runs"][:3]] == before["runs"] and all(r[-1] is None for r in after["runs"][:3])
    assert after["points"] == before["points"] and after["samples"] == before["samples"]
    assert [r["id"] for r in exported["runs"]] == [1, 2, 3]
    with Store(path) as s:  # opening again migrates nothing
        assert len(s.list_runs()) == 4


def test_postgresql_store_is_versioned_and_migrated_once(pg_url):
    with Store(pg_url) as s:
        assert s.schema_version == SCHEMA_VERSION
        rid = s.begin_run(kind="estimate", config={"x": 1})
        s.add_point(rid, kind="estimate", record={"t": 1.25e-7}, status="ok", time_s=1.2345678901234567e-7)
        s.finish_run(rid)
    with Store(pg_url) as s:  # a second open keeps the data and does not migrate again
        assert [r.id for r in s.list_runs()] == [rid]
        assert s.points_where(kind="estimate")[0]["time_s"] == 1.2345678901234567e-7  # double precision kept
    engine = sa.create_engine(sa.engine.make_url(pg_url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT version FROM accelscope_schema").scalar() == SCHEMA_VERSION
        conn.exec_driver_sql("UPDATE accelscope_schema SET version = 99")
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this accelscope"):
        Store(pg_url)


def test_another_programs_postgresql_tables_are_refused_untouched(pg_url):
    engine = sa.create_engine(sa.engine.make_url(pg_url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE runs (id INTEGER, what TEXT)")
        conn.exec_driver_sql("INSERT INTO runs VALUES (1, 'theirs')")
    with pytest.raises(StoreError, match="another program"):
        Store(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT what FROM runs").all() == [("theirs",)]
        assert not sa.inspect(conn).has_table("points")
    engine.dispose()


def test_other_tables_on_a_team_server_are_left_alone(pg_url):
    engine = sa.create_engine(sa.engine.make_url(pg_url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE budgets (team TEXT)")
    with Store(pg_url) as s:
        assert s.list_runs() == []
    with engine.connect() as conn:
        assert {"budgets", "runs", "points", "samples", "accelscope_schema"} <= set(sa.inspect(conn).get_table_names())
    engine.dispose()


@pytest.mark.parametrize("url, match", [
    ("mysql://u:p@localhost/db", "scheme 'mysql' is not supported"),
    ("postgresql+psycopg2://u:p@localhost/db", "not supported"),
    ("postgresql://u:secret@127.0.0.1:1/db", "cannot open the results store .*Connection refused"),
    ("sqlite://", "names no file"),
])
def test_bad_urls_are_refused_with_what_to_do(url, match):
    with pytest.raises(StoreError, match=match) as info:
        Store(url, timeout_s=2)
    assert "secret" not in str(info.value)


def test_wrong_credentials_are_refused_without_the_password(pg_url):
    url = sa.engine.make_url(pg_url).set(password="not-the-password").render_as_string(hide_password=False)
    with pytest.raises(StoreError, match="password authentication failed") as info:
        Store(url)
    assert "not-the-password" not in str(info.value)
