"""The results database: one SQLite file (stdlib ``sqlite3``), versioned, safe for concurrent writers.

Where it lives: ``--store PATH``, else ``$ACCELSCOPE_STORE``, else
``$XDG_DATA_HOME/accelscope/results.sqlite`` (``~/.local/share/accelscope/results.sqlite``;
``%LOCALAPPDATA%\\accelscope`` on Windows).

Layout (schema version 1, ``PRAGMA user_version``):

* ``runs``: one row per run: ``kind`` (``measurement``, ``estimate`` for ``explore``'s
  predictions, ``calibration``), ``status`` (``running``, ``complete``, ``interrupted``,
  ``failed``), the config and the environment as JSON, timestamps, the command line.
* ``points``: one row per point of a run, with the columns one filters and sorts on
  (model, device, task, batch size, precision, status, ``time_s``, throughput, energy per
  sample) and the whole record as JSON (``data_json``, without raw samples).
* ``samples``: the raw per-step times of a point, as a JSON array.

Safety: WAL journal mode and a busy timeout, so several processes can write at once;
every write is one ``BEGIN IMMEDIATE`` transaction; a run row is created first and each
point is committed as soon as it finishes, so an interrupted sweep keeps its completed
points (its run is marked ``interrupted``). Migrations run inside a transaction that
re-reads the version, so two processes opening a new file do not both migrate it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from accelscope.errors import AccelscopeError
from accelscope.paths import user_path

ENV_VAR = "ACCELSCOPE_STORE"
#: ``killed``: the process that wrote the run ended without finishing it (SIGKILL, a crash, a
#: power cut); the next open of the store on the same host finds that out (``_mark_stale_runs``).
RUN_STATUSES = ("running", "complete", "interrupted", "failed", "killed")
SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(AccelscopeError):
    """The results database cannot be opened, or a run asked for does not exist."""


def default_store_path() -> Path:
    """``$ACCELSCOPE_STORE``, else the user's data directory + ``accelscope/results.sqlite``."""
    return user_path(ENV_VAR, "data", "results.sqlite")


# Each entry migrates from version i to i + 1. Never edit a released entry: append one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        command TEXT NOT NULL DEFAULT '',
        hostname TEXT,
        config_json TEXT NOT NULL,
        environment_json TEXT
    );
    CREATE TABLE points (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        model TEXT,
        device TEXT,
        task TEXT,
        batch_size INTEGER,
        precision TEXT,
        status TEXT NOT NULL,
        time_s REAL,
        throughput_samples_per_s REAL,
        energy_j_per_sample REAL,
        created_at TEXT NOT NULL,
        data_json TEXT NOT NULL,
        UNIQUE (run_id, seq)
    );
    CREATE INDEX points_by_key ON points (model, device, task, batch_size, precision);
    CREATE TABLE samples (
        point_id INTEGER PRIMARY KEY REFERENCES points(id) ON DELETE CASCADE,
        step_time_s_json TEXT NOT NULL
    );
    """,
    # 2: the writing process (for the stale-run check) and the points a run planned
    """
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN planned INTEGER;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    """Whether a process of this host with that id exists (a reused id counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """A stored run (its points are read separately)."""

    id: int
    kind: str
    label: str
    status: str
    created_at: str
    finished_at: str | None
    command: str
    hostname: str | None
    config: dict
    environment: dict | None
    n_points: int = 0
    n_ok: int = 0
    planned: int | None = None  #: points the run set out to measure (None: not said)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label, "status": self.status,
                "created_at": self.created_at, "finished_at": self.finished_at, "command": self.command,
                "hostname": self.hostname, "config": self.config, "environment": self.environment,
                "n_points": self.n_points, "n_ok": self.n_ok, "planned": self.planned}


class Store:
    """A results database. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path | None = None, *, timeout_s: float = 30.0):
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        if self.path.is_dir():
            raise StoreError(f"the results store {self.path} is a directory; give --store (or {ENV_VAR}) "
                             "a file, e.g. DIR/results.sqlite")
        exists = self.path.exists()
        if exists:
            self._check_header()
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory for the results store {self.path}: {exc}. "
                                 f"Pass --store PATH or set {ENV_VAR} to a writable file.") from exc
        #: a store this process may not write: readable, and every write says so
        self.readonly = not os.access(self.path if exists else self.path.parent, os.W_OK) or (
            exists and not os.access(self.path.parent, os.W_OK))
        if self.readonly and not exists:
            raise StoreError(f"cannot create the results store {self.path}: its directory is read-only. "
                             f"Pass --store PATH or set {ENV_VAR} to a writable file.")
        try:
            if self.readonly:  # no journal, no shared-memory file: read the file as it is
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                           timeout=timeout_s, isolation_level=None)
            else:
                self._db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._check_owner()
            if not self.readonly:
                self._db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
                self._wal(timeout_s)
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            if not self.readonly:
                self._mark_stale_runs()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable accelscope results database ({exc}). "
                             f"Point --store (or {ENV_VAR}) at another file.") from exc

    def _wal(self, timeout_s: float) -> None:
        """Switch a new file to WAL mode (a file keeps it). SQLite answers a switch that meets
        another process's lock with "database is locked" at once, without waiting for the busy
        timeout, so two processes creating one store retry here."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self._db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_header(self) -> None:
        """An existing file must be an SQLite database (an empty file is a new store)."""
        try:
            with self.path.open("rb") as fh:
                head = fh.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise StoreError(f"the results store {self.path} cannot be read: {exc}") from exc
        if head and head != SQLITE_HEADER:
            raise StoreError(f"{self.path} is not an SQLite database, so not an accelscope results store; it was "
                             f"left untouched. Point --store (or {ENV_VAR}) at another file.")

    def _check_owner(self) -> None:
        """Refuse, untouched, an SQLite database that another program made."""
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        ours = {"runs", "points", "samples"}
        if version > SCHEMA_VERSION:
            return  # a newer accelscope's store: _migrate says so
        if (tables and version == 0) or (version > 0 and not ours <= tables):
            raise StoreError(f"{self.path} is an SQLite database of another program (tables: "
                             f"{', '.join(sorted(tables)) or 'none'}); accelscope left it untouched. Point --store "
                             f"(or {ENV_VAR}) at another file.")

    # -- plumbing ---------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock at once (no lock-upgrade deadlocks)."""
        if self.readonly:
            raise StoreError(f"the results store {self.path} is read-only for this user; nothing was written. "
                             f"Pass --store PATH (or set {ENV_VAR}) to a writable file, or --no-store.")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {version}, newer than this accelscope "
                             f"understands ({SCHEMA_VERSION}). Upgrade accelscope, or use another --store.")
        if self.readonly:
            raise StoreError(f"{self.path} has schema version {version} and is read-only, so it cannot be "
                             "brought up to this accelscope's; copy it somewhere writable first")
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema version {version}, newer than this accelscope "
                                 f"understands ({SCHEMA_VERSION}). Upgrade accelscope, or use another --store.")
            for v in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[v].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {v + 1}")

    def _mark_stale_runs(self) -> None:
        """Runs still ``running`` whose writing process on this host is gone become ``killed``
        (their completed points stay)."""
        host = socket.gethostname()
        rows = self._db.execute("SELECT id, pid FROM runs WHERE status = 'running' AND hostname = ? AND pid IS NOT NULL",
                                (host,)).fetchall()
        stale = [r["id"] for r in rows if r["pid"] != os.getpid() and not _alive(r["pid"])]
        if stale:
            with self._write() as db:
                db.executemany("UPDATE runs SET status = 'killed', finished_at = ? WHERE id = ? AND status = 'running'",
                               [(_now(), rid) for rid in stale])

    # -- writing ----------------------------------------------------------------------------
    def begin_run(self, *, kind: str, config: dict, environment: dict | None = None, command: str = "",
                  label: str = "", planned: int | None = None) -> int:
        """Create a run (status ``running``) and return its id; ``planned``: how many points it
        sets out to store."""
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO runs (kind, label, status, created_at, command, hostname, config_json, "
                "environment_json, pid, planned) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (kind, label, _now(), command, (environment or {}).get("hostname") or socket.gethostname(),
                 json.dumps(config), json.dumps(environment) if environment is not None else None,
                 os.getpid(), planned))
            return int(cur.lastrowid)

    @contextlib.contextmanager
    def recording(self, *, kind: str, config: dict, environment: dict | None = None, command: str = "",
                  label: str = "", planned: int | None = None) -> Iterator[int]:
        """``with store.recording(kind=...) as run_id:`` begins a run and finishes it as
        ``complete``, ``interrupted`` (Ctrl-C, SIGTERM) or ``failed`` (any other exception, re-raised)."""
        run_id = self.begin_run(kind=kind, config=config, environment=environment, command=command, label=label,
                                planned=planned)
        status = "complete"
        try:
            yield run_id
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            self.finish_run(run_id, status=status)

    def add_point(self, run_id: int, *, kind: str, record: dict, status: str, model: str | None = None,
                  device: str | None = None, task: str | None = None, batch_size: int | None = None,
                  precision: str | None = None, time_s: float | None = None,
                  throughput_samples_per_s: float | None = None, energy_j_per_sample: float | None = None,
                  samples: list[float] | None = None) -> int:
        """Store one point of a run in its own transaction (generic: measurements or estimates)."""
        with self._write() as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise StoreError(f"run {run_id} does not exist in {self.path}")
            seq = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM points WHERE run_id = ?",
                             (run_id,)).fetchone()[0]
            cur = db.execute(
                "INSERT INTO points (run_id, seq, kind, model, device, task, batch_size, precision, status, "
                "time_s, throughput_samples_per_s, energy_j_per_sample, created_at, data_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, seq, kind, model, device, task, batch_size, precision, status, time_s,
                 throughput_samples_per_s, energy_j_per_sample, _now(), json.dumps(record)))
            point_id = int(cur.lastrowid)
            if samples is not None:
                db.execute("INSERT INTO samples (point_id, step_time_s_json) VALUES (?, ?)",
                           (point_id, json.dumps(list(samples))))
            return point_id

    def add_measurement(self, run_id: int, m) -> int:
        """Store a :class:`accelscope.measure.Measurement` (its raw samples in ``samples``)."""
        record = m.to_dict(samples=False, environment=False)
        return self.add_point(
            run_id, kind="measurement", record=record, status=m.status, model=m.model, device=m.device,
            task=m.task, batch_size=m.batch_size, precision=m.precision,
            time_s=m.step_time_s.median if m.step_time_s else None,
            throughput_samples_per_s=m.throughput_samples_per_s, energy_j_per_sample=m.energy_j_per_sample,
            samples=list(m.step_time_s.samples) if m.step_time_s else None)

    def finish_run(self, run_id: int, status: str = "complete") -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
        with self._write() as db:
            db.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", (status, _now(), run_id))

    def delete_run(self, run_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM samples WHERE point_id IN (SELECT id FROM points WHERE run_id = ?)", (run_id,))
            db.execute("DELETE FROM points WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # -- reading ----------------------------------------------------------------------------
    def _run_from_row(self, r: sqlite3.Row) -> RunRecord:
        return RunRecord(id=r["id"], kind=r["kind"], label=r["label"], status=r["status"],
                         created_at=r["created_at"], finished_at=r["finished_at"], command=r["command"],
                         hostname=r["hostname"], config=json.loads(r["config_json"]),
                         environment=json.loads(r["environment_json"]) if r["environment_json"] else None,
                         n_points=r["n_points"], n_ok=r["n_ok"], planned=r["planned"])

    _RUN_SELECT = ("SELECT runs.*, (SELECT COUNT(*) FROM points p WHERE p.run_id = runs.id) AS n_points, "
                   "(SELECT COUNT(*) FROM points p WHERE p.run_id = runs.id AND p.status = 'ok') AS n_ok FROM runs")

    def list_runs(self, *, kind: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Runs, newest first."""
        sql = self._RUN_SELECT + (" WHERE kind = ?" if kind else "") + " ORDER BY id DESC"
        args: tuple = (kind,) if kind else ()
        if limit is not None:
            sql += " LIMIT ?"
            args += (int(limit),)
        return [self._run_from_row(r) for r in self._db.execute(sql, args)]

    def resolve_run_id(self, ref: str | int) -> int:
        """A run id from ``7``, ``'7'``, ``'latest'`` or ``'latest~2'`` (two before the latest)."""
        text = str(ref).strip().lower()
        if text.startswith("latest"):
            back = 0
            if text != "latest":
                tail = text.removeprefix("latest")
                if not (tail.startswith("~") and tail[1:].isdigit()):
                    raise StoreError(f"run reference {ref!r}: use a run id, 'latest' or 'latest~N'")
                back = int(tail[1:])
            row = self._db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", (back,)).fetchone()
            if row is None:
                raise StoreError(f"run reference {ref!r}: the store {self.path} has "
                                 f"{self._count_runs()} run(s). See 'accelscope runs list'.")
            return int(row[0])
        if not text.isdigit():
            raise StoreError(f"run reference {ref!r} is not a run id (an integer), 'latest' or 'latest~N'. "
                             "See 'accelscope runs list'.")
        rid = int(text)
        if self._db.execute("SELECT 1 FROM runs WHERE id = ?", (rid,)).fetchone() is None:
            raise StoreError(f"no run {rid} in {self.path}; see 'accelscope runs list' for the stored runs")
        return rid

    def _count_runs(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def get_run(self, ref: str | int) -> RunRecord:
        rid = self.resolve_run_id(ref)
        return self._run_from_row(self._db.execute(self._RUN_SELECT + " WHERE id = ?", (rid,)).fetchone())

    def points(self, ref: str | int, *, samples: bool = True) -> list[dict]:
        """The records of a run's points in order, each with ``step_time_s.samples`` filled in."""
        rid = self.resolve_run_id(ref)
        rows = self._db.execute(
            "SELECT p.id, p.seq, p.kind, p.data_json, s.step_time_s_json FROM points p "
            "LEFT JOIN samples s ON s.point_id = p.id WHERE p.run_id = ? ORDER BY p.seq", (rid,)).fetchall()
        out = []
        for r in rows:
            d = json.loads(r["data_json"])
            d["point_seq"], d["point_kind"] = r["seq"], r["kind"]
            if samples and r["step_time_s_json"] is not None and isinstance(d.get("step_time_s"), dict):
                d["step_time_s"]["samples"] = json.loads(r["step_time_s_json"])
            out.append(d)
        return out

    def points_where(self, *, kind: str, device: str | None = None, complete_runs_only: bool = False) -> list[dict]:
        """Points of one kind across all runs, oldest first: ``{"point_id", "run_id", "status",
        "time_s", "data"}`` (``data`` is the stored record, without raw samples)."""
        sql = ("SELECT p.id, p.run_id, p.status, p.time_s, p.data_json FROM points p JOIN runs r ON r.id = p.run_id "
               "WHERE p.kind = ?")
        args: list = [kind]
        if device is not None:
            sql += " AND p.device = ?"
            args.append(device)
        if complete_runs_only:
            sql += " AND r.status = 'complete'"
        rows = self._db.execute(sql + " ORDER BY p.id", args).fetchall()
        return [{"point_id": r["id"], "run_id": r["run_id"], "status": r["status"], "time_s": r["time_s"],
                 "data": json.loads(r["data_json"])} for r in rows]

    def measurement_records(self, ref: str | int) -> tuple[RunRecord, list[dict]]:
        """A run and the records of its measurement points (with raw samples), as plain dicts:
        ``accelscope.measure.Measurement.from_dict(record, environment=run.environment)``
        rebuilds each."""
        run = self.get_run(ref)
        out = []
        for d in self.points(run.id):
            if d.pop("point_kind") != "measurement":
                continue
            d.pop("point_seq")
            out.append(d)
        return run, out
