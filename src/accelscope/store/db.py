"""The results database: an SQLite file by default, a PostgreSQL server for a team; versioned,
safe for concurrent writers. Built on SQLAlchemy Core (one set of queries for both).

Where it lives: ``--store PATH|URL``, else ``$ACCELSCOPE_STORE``, else
``$XDG_DATA_HOME/accelscope/results.sqlite`` (``~/.local/share/accelscope/results.sqlite``;
``%LOCALAPPDATA%\\accelscope`` on Windows). A URL ``postgresql://user:password@host/db``
(the ``postgres`` extra installs its driver, psycopg 3) stores to a shared server; ``sqlite:///PATH``
names a file like a plain path. Other schemes are refused.

Layout (schema version 3; SQLite keeps it in ``PRAGMA user_version``, PostgreSQL in the
table ``accelscope_schema``):

* ``runs``: one row per run: ``kind`` (``measurement``, ``estimate`` for ``explore``'s
  predictions, ``calibration``, ...), ``status`` (``running``, ``complete``, ``interrupted``,
  ``failed``, ``killed``), the config and the environment as JSON, timestamps, the command
  line, and who made it: ``username`` and ``hostname`` (with the writing ``pid``).
* ``points``: one row per point of a run, with the columns one filters and sorts on
  (model, device, task, batch size, precision, status, ``time_s``, throughput, energy per
  sample) and the whole record as JSON (``data_json``, without raw samples).
* ``samples``: the raw per-step times of a point, as a JSON array.

Safety: every write is one transaction. On SQLite: WAL journal mode and a busy timeout, so
several processes can write at once, and each write transaction takes the write lock at
once (``BEGIN IMMEDIATE``: no lock-upgrade deadlocks). On PostgreSQL: a point's sequence
number is taken with its run's row locked (``SELECT ... FOR UPDATE``), and migrations run
under an advisory lock. A run row is created first and each point is committed as soon as
it finishes, so an interrupted sweep keeps its completed points (its run is marked
``interrupted``). Migrations run inside a transaction that re-reads the version, so two
processes opening a new store do not both migrate it; a store made by an older accelscope
is brought up to date in place, keeping every row.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url

from accelscope.errors import AccelscopeError
from accelscope.paths import user_path

ENV_VAR = "ACCELSCOPE_STORE"
#: ``killed``: the process that wrote the run ended without finishing it (SIGKILL, a crash, a
#: power cut); the next open of the store on the same host finds that out (``_mark_stale_runs``).
RUN_STATUSES = ("running", "complete", "interrupted", "failed", "killed")
SQLITE_HEADER = b"SQLite format 3\x00"
#: URL schemes a store accepts (``postgres://`` is read as ``postgresql://``)
SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
#: PostgreSQL advisory lock held while migrating (any constant; "acsc" in ASCII)
_MIGRATION_LOCK = 0x61637363


class StoreError(AccelscopeError):
    """The results database cannot be opened, or a run asked for does not exist."""


def default_store_path() -> Path:
    """``$ACCELSCOPE_STORE`` (when it is a path), else the user's data directory +
    ``accelscope/results.sqlite``."""
    if is_url(os.environ.get(ENV_VAR, "")):
        raise StoreError(f"{ENV_VAR} is a database URL, not a file; open it with Store()")
    return user_path(ENV_VAR, "data", "results.sqlite")


def default_store() -> str | Path:
    """Where results go when no store is given: ``$ACCELSCOPE_STORE`` (a path or a URL), else
    the default file."""
    env = os.environ.get(ENV_VAR, "")
    return env if is_url(env) else default_store_path()


def is_url(target: object) -> bool:
    return isinstance(target, str) and "://" in target


def store_exists(target: str | Path | None = None) -> bool:
    """Whether a store is there to read (a server is assumed to be; a file must exist), so
    that a reader that finds none creates none."""
    target = default_store() if target is None else target
    return is_url(target) or Path(target).expanduser().exists()


# Each entry migrates from version i to i + 1, in each dialect's SQL. Never edit a released
# entry: append one. (Versions 1 and 2 were released for SQLite only; their PostgreSQL forms
# make the same tables with PostgreSQL's types: an identity key, DOUBLE PRECISION for REAL.)
MIGRATIONS: list[dict[str, str]] = [
    {"sqlite": """
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
    """, "postgresql": """
    CREATE TABLE runs (
        id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
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
        id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        model TEXT,
        device TEXT,
        task TEXT,
        batch_size INTEGER,
        precision TEXT,
        status TEXT NOT NULL,
        time_s DOUBLE PRECISION,
        throughput_samples_per_s DOUBLE PRECISION,
        energy_j_per_sample DOUBLE PRECISION,
        created_at TEXT NOT NULL,
        data_json TEXT NOT NULL,
        UNIQUE (run_id, seq)
    );
    CREATE INDEX points_by_key ON points (model, device, task, batch_size, precision);
    CREATE TABLE samples (
        point_id INTEGER PRIMARY KEY REFERENCES points(id) ON DELETE CASCADE,
        step_time_s_json TEXT NOT NULL
    );
    """},
    # 2: the writing process (for the stale-run check) and the points a run planned
    {"sqlite": """
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN planned INTEGER;
    """},
    # 3: who made a run (a team's shared store); runs listed by user or host
    {"sqlite": """
    ALTER TABLE runs ADD COLUMN username TEXT;
    CREATE INDEX runs_by_maker ON runs (username, hostname);
    """},
]
SCHEMA_VERSION = len(MIGRATIONS)

# The current schema, for building queries (the migrations above make it).
_meta = sa.MetaData()
RUNS = sa.Table(
    "runs", _meta,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("kind", sa.Text), sa.Column("label", sa.Text),
    sa.Column("status", sa.Text), sa.Column("created_at", sa.Text), sa.Column("finished_at", sa.Text),
    sa.Column("command", sa.Text), sa.Column("hostname", sa.Text), sa.Column("config_json", sa.Text),
    sa.Column("environment_json", sa.Text), sa.Column("pid", sa.Integer), sa.Column("planned", sa.Integer),
    sa.Column("username", sa.Text))
POINTS = sa.Table(
    "points", _meta,
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("run_id", sa.Integer), sa.Column("seq", sa.Integer),
    sa.Column("kind", sa.Text), sa.Column("model", sa.Text), sa.Column("device", sa.Text), sa.Column("task", sa.Text),
    sa.Column("batch_size", sa.Integer), sa.Column("precision", sa.Text), sa.Column("status", sa.Text),
    sa.Column("time_s", sa.Float), sa.Column("throughput_samples_per_s", sa.Float),
    sa.Column("energy_j_per_sample", sa.Float), sa.Column("created_at", sa.Text), sa.Column("data_json", sa.Text))
SAMPLES = sa.Table("samples", _meta, sa.Column("point_id", sa.Integer, primary_key=True),
                   sa.Column("step_time_s_json", sa.Text))
_OURS = {"runs", "points", "samples"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _user() -> str | None:
    """The login name of this process's user (None where the system has none to give)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _alive(pid: int) -> bool:
    """Whether a process of this host with that id exists (a reused id counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


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
    user: str | None = None  #: who made it (None: a store from before users were recorded)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label, "status": self.status,
                "created_at": self.created_at, "finished_at": self.finished_at, "command": self.command,
                "user": self.user, "hostname": self.hostname, "config": self.config,
                "environment": self.environment, "n_points": self.n_points, "n_ok": self.n_ok,
                "planned": self.planned}


class Store:
    """A results database (a file path, or a URL). Use as a context manager, or call :meth:`close`."""

    def __init__(self, target: str | Path | None = None, *, timeout_s: float = 30.0):
        target = default_store() if target is None else target
        self.path: Path | None = None  #: the SQLite file (None for a server)
        if is_url(target):
            url = self._parse_url(str(target))
            if url.get_backend_name() == "sqlite":
                if not url.database:
                    raise StoreError(f"store URL {target!r} names no file; use sqlite:///PATH (an in-memory "
                                     "database would keep nothing)")
                self._open_sqlite(Path(url.database).expanduser(), timeout_s)
            else:
                self._open_server(url, timeout_s)
        else:
            self._open_sqlite(Path(target).expanduser(), timeout_s)
        try:
            self._migrate()
            if not self.readonly:
                self._mark_stale_runs()
        except (sa.exc.DBAPIError, sqlite3.DatabaseError) as exc:
            self._engine.dispose()
            raise StoreError(f"{self.location} is not a usable accelscope results database ({_first_line(exc)}). "
                             f"Point --store (or {ENV_VAR}) at another store.") from exc
        except BaseException:
            self._engine.dispose()
            raise

    # -- opening ----------------------------------------------------------------------------
    @staticmethod
    def _parse_url(text: str) -> sa.URL:
        if text.startswith("postgres://"):
            text = "postgresql://" + text.removeprefix("postgres://")
        try:
            url = make_url(text)
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"store URL {text!r} cannot be read ({exc}); use postgresql://USER:PASSWORD@HOST/DB "
                             "or a file path") from exc
        if url.drivername not in SCHEMES:
            raise StoreError(f"store URL scheme {url.drivername!r} is not supported; use a file path (SQLite), "
                             f"sqlite:///PATH, or postgresql://USER:PASSWORD@HOST[:PORT]/DB")
        return url

    def _open_sqlite(self, path: Path, timeout_s: float) -> None:
        self.path = path
        self.location = str(path)
        self.dialect = "sqlite"
        if path.is_dir():
            raise StoreError(f"the results store {path} is a directory; give --store (or {ENV_VAR}) "
                             "a file, e.g. DIR/results.sqlite")
        exists = path.exists()
        if exists:
            self._check_header()
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory for the results store {path}: {exc}. "
                                 f"Pass --store PATH or set {ENV_VAR} to a writable file.") from exc
        #: a store this process may not write: readable, and every write says so
        self.readonly = not os.access(path if exists else path.parent, os.W_OK) or (
            exists and not os.access(path.parent, os.W_OK))
        if self.readonly and not exists:
            raise StoreError(f"cannot create the results store {path}: its directory is read-only. "
                             f"Pass --store PATH or set {ENV_VAR} to a writable file.")
        readonly = self.readonly

        def connect() -> sqlite3.Connection:
            # isolation_level=None: sqlite3 begins nothing by itself; the "begin" event below does
            if readonly:  # no journal, no shared-memory file: read the file as it is
                con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                      timeout=timeout_s, isolation_level=None, check_same_thread=False)
            else:
                con = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
                con.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
                con.execute("PRAGMA synchronous = NORMAL")
            con.execute("PRAGMA foreign_keys = ON")
            return con

        self._engine = sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.SingletonThreadPool)

        @event.listens_for(self._engine, "begin")
        def _begin(conn: Connection) -> None:
            # a write takes the write lock at once; a read gets a consistent snapshot
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        try:
            self._check_owner()
            if not readonly:
                self._wal(timeout_s)
        except (sa.exc.DBAPIError, sqlite3.DatabaseError) as exc:
            self._engine.dispose()
            raise StoreError(f"{path} is not a usable accelscope results database ({_first_line(exc)}). "
                             f"Point --store (or {ENV_VAR}) at another file.") from exc

    def _open_server(self, url: sa.URL, timeout_s: float) -> None:
        self.dialect = "postgresql"
        self.readonly = False
        self.location = url.render_as_string(hide_password=True)  # as given, without the password
        url = url.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401  (the driver SQLAlchemy loads for postgresql+psycopg)
        except ImportError as exc:
            raise StoreError(f"the store {self.location} is a PostgreSQL server, and its driver is not installed: "
                             "pip install 'accelscope[postgres]' (psycopg 3)") from exc
        self._engine = sa.create_engine(url, connect_args={"connect_timeout": max(1, int(timeout_s)),
                                                           "application_name": "accelscope"})
        try:
            with self._engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.DBAPIError as exc:
            self._engine.dispose()
            raise StoreError(f"cannot open the results store {self.location}: {_first_line(exc)}. Check the URL's "
                             "host, port, database, user and password, and that the server is running; nothing "
                             "was written.") from exc
        self._check_owner()

    def _wal(self, timeout_s: float) -> None:
        """Switch a new file to WAL mode (a file keeps it). SQLite answers a switch that meets
        another process's lock with "database is locked" at once, without waiting for the busy
        timeout, so two processes creating one store retry here."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with self._engine.connect() as conn:
                    raw = conn.connection.driver_connection
                    if raw.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                        raw.execute("PRAGMA journal_mode = WAL")
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
        """Refuse, untouched, a database whose tables another program made."""
        with self._engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            version = self._version(conn)
        if version > SCHEMA_VERSION:
            return  # a newer accelscope's store: _migrate says so
        if self.dialect == "postgresql":  # a team's server may hold other tables: only ours must be ours
            foreign = (tables & _OURS) and "accelscope_schema" not in tables
        else:
            foreign = (tables and version == 0) or (version > 0 and not _OURS <= tables)
        if foreign:
            raise StoreError(f"{self.location} is a database of another program (tables: "
                             f"{', '.join(sorted(tables)) or 'none'}); accelscope left it untouched. Point --store "
                             f"(or {ENV_VAR}) at another store.")

    # -- plumbing ---------------------------------------------------------------------------
    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (committed at the end, rolled back on any exception)."""
        if self.readonly:
            raise StoreError(f"the results store {self.location} is read-only for this user; nothing was written. "
                             f"Pass --store PATH (or set {ENV_VAR}) to a writable file, or --no-store.")
        with self._engine.connect().execution_options(write=True) as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    def _version(self, conn: Connection) -> int:
        if self.dialect == "sqlite":
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar())
        if not sa.inspect(conn).has_table("accelscope_schema"):
            return 0
        return int(conn.execute(sa.text("SELECT version FROM accelscope_schema")).scalar() or 0)

    def _set_version(self, conn: Connection, version: int) -> None:
        if self.dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
            return
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS accelscope_schema (version INTEGER NOT NULL)"))
        if conn.execute(sa.text("UPDATE accelscope_schema SET version = :v"), {"v": version}).rowcount == 0:
            conn.execute(sa.text("INSERT INTO accelscope_schema (version) VALUES (:v)"), {"v": version})

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return self._version(conn)

    def _newer(self, version: int) -> StoreError:
        return StoreError(f"{self.location} has schema version {version}, newer than this accelscope "
                          f"understands ({SCHEMA_VERSION}). Upgrade accelscope, or use another --store.")

    def _migrate(self) -> None:
        version = self.schema_version
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise self._newer(version)
        if self.readonly:
            raise StoreError(f"{self.location} has schema version {version} and is read-only, so it cannot be "
                             "brought up to this accelscope's; copy it somewhere writable first")
        with self._write() as conn:
            if self.dialect == "postgresql":  # one migrating process at a time; released at commit
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            version = self._version(conn)
            if version > SCHEMA_VERSION:
                raise self._newer(version)
            for v in range(version, SCHEMA_VERSION):
                sql = MIGRATIONS[v].get(self.dialect, MIGRATIONS[v]["sqlite"])
                for statement in sql.split(";"):
                    if statement.strip():
                        conn.exec_driver_sql(statement)
                self._set_version(conn, v + 1)

    def _mark_stale_runs(self) -> None:
        """Runs still ``running`` whose writing process on this host is gone become ``killed``
        (their completed points stay)."""
        host = socket.gethostname()
        with self._read() as conn:
            rows = conn.execute(sa.select(RUNS.c.id, RUNS.c.pid).where(
                RUNS.c.status == "running", RUNS.c.hostname == host, RUNS.c.pid.is_not(None))).all()
        stale = [r.id for r in rows if r.pid != os.getpid() and not _alive(r.pid)]
        if stale:
            with self._write() as conn:
                conn.execute(RUNS.update().where(RUNS.c.id.in_(stale), RUNS.c.status == "running")
                             .values(status="killed", finished_at=_now()))

    # -- writing ----------------------------------------------------------------------------
    def begin_run(self, *, kind: str, config: dict, environment: dict | None = None, command: str = "",
                  label: str = "", planned: int | None = None) -> int:
        """Create a run (status ``running``) and return its id; ``planned``: how many points it
        sets out to store."""
        config_json = json.dumps(config)
        env_json = json.dumps(environment) if environment is not None else None
        with self._write() as conn:
            res = conn.execute(RUNS.insert().values(
                kind=kind, label=label, status="running", created_at=_now(), command=command,
                hostname=(environment or {}).get("hostname") or socket.gethostname(), username=_user(),
                config_json=config_json, environment_json=env_json, pid=os.getpid(), planned=planned))
            return int(res.inserted_primary_key[0])

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
        data_json = json.dumps(record)  # before the transaction: a record that cannot be stored writes nothing
        samples_json = json.dumps(list(samples)) if samples is not None else None
        with self._write() as conn:
            # the run's row locked (PostgreSQL; SQLite's write lock covers it): one writer numbers its points
            if conn.execute(sa.select(RUNS.c.id).where(RUNS.c.id == run_id).with_for_update()).first() is None:
                raise StoreError(f"run {run_id} does not exist in {self.location}")
            seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(POINTS.c.seq), -1) + 1)
                               .where(POINTS.c.run_id == run_id)).scalar()
            res = conn.execute(POINTS.insert().values(
                run_id=run_id, seq=seq, kind=kind, model=model, device=device, task=task, batch_size=batch_size,
                precision=precision, status=status, time_s=time_s, throughput_samples_per_s=throughput_samples_per_s,
                energy_j_per_sample=energy_j_per_sample, created_at=_now(), data_json=data_json))
            point_id = int(res.inserted_primary_key[0])
            if samples_json is not None:
                conn.execute(SAMPLES.insert().values(point_id=point_id, step_time_s_json=samples_json))
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
        with self._write() as conn:
            conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(status=status, finished_at=_now()))

    def delete_run(self, run_id: int) -> None:
        with self._write() as conn:
            point_ids = sa.select(POINTS.c.id).where(POINTS.c.run_id == run_id)
            conn.execute(SAMPLES.delete().where(SAMPLES.c.point_id.in_(point_ids)))
            conn.execute(POINTS.delete().where(POINTS.c.run_id == run_id))
            conn.execute(RUNS.delete().where(RUNS.c.id == run_id))

    # -- reading ----------------------------------------------------------------------------
    @staticmethod
    def _run_from_row(r) -> RunRecord:
        return RunRecord(id=r.id, kind=r.kind, label=r.label, status=r.status, created_at=r.created_at,
                         finished_at=r.finished_at, command=r.command, hostname=r.hostname,
                         config=json.loads(r.config_json),
                         environment=json.loads(r.environment_json) if r.environment_json else None,
                         n_points=r.n_points, n_ok=r.n_ok, planned=r.planned, user=r.username)

    @staticmethod
    def _run_select() -> sa.Select:
        n_points = sa.select(sa.func.count()).where(POINTS.c.run_id == RUNS.c.id).scalar_subquery()
        n_ok = sa.select(sa.func.count()).where(POINTS.c.run_id == RUNS.c.id, POINTS.c.status == "ok") \
            .scalar_subquery()
        return sa.select(RUNS, n_points.label("n_points"), n_ok.label("n_ok"))

    def list_runs(self, *, kind: str | None = None, limit: int | None = None, user: str | None = None,
                  host: str | None = None) -> list[RunRecord]:
        """Runs, newest first; ``user`` / ``host``: only those this user or host made."""
        q = self._run_select()
        for column, value in ((RUNS.c.kind, kind), (RUNS.c.username, user), (RUNS.c.hostname, host)):
            if value:
                q = q.where(column == value)
        q = q.order_by(RUNS.c.id.desc())
        if limit is not None:
            q = q.limit(int(limit))
        with self._read() as conn:
            return [self._run_from_row(r) for r in conn.execute(q)]

    def resolve_run_id(self, ref: str | int) -> int:
        """A run id from ``7``, ``'7'``, ``'latest'`` or ``'latest~2'`` (two before the latest)."""
        text = str(ref).strip().lower()
        with self._read() as conn:
            if text.startswith("latest"):
                back = 0
                if text != "latest":
                    tail = text.removeprefix("latest")
                    if not (tail.startswith("~") and tail[1:].isdigit()):
                        raise StoreError(f"run reference {ref!r}: use a run id, 'latest' or 'latest~N'")
                    back = int(tail[1:])
                rid = conn.execute(sa.select(RUNS.c.id).order_by(RUNS.c.id.desc()).limit(1).offset(back)).scalar()
                if rid is None:
                    n = conn.execute(sa.select(sa.func.count()).select_from(RUNS)).scalar()
                    raise StoreError(f"run reference {ref!r}: the store {self.location} has "
                                     f"{n} run(s). See 'accelscope runs list'.")
                return int(rid)
            if not text.isdigit():
                raise StoreError(f"run reference {ref!r} is not a run id (an integer), 'latest' or 'latest~N'. "
                                 "See 'accelscope runs list'.")
            rid = int(text)
            if rid > 2**31 - 1 or conn.execute(sa.select(RUNS.c.id).where(RUNS.c.id == rid)).first() is None:
                raise StoreError(f"no run {rid} in {self.location}; see 'accelscope runs list' for the stored runs")
            return rid

    def get_run(self, ref: str | int) -> RunRecord:
        rid = self.resolve_run_id(ref)
        with self._read() as conn:
            return self._run_from_row(conn.execute(self._run_select().where(RUNS.c.id == rid)).one())

    def points(self, ref: str | int, *, samples: bool = True) -> list[dict]:
        """The records of a run's points in order, each with ``step_time_s.samples`` filled in."""
        rid = self.resolve_run_id(ref)
        q = (sa.select(POINTS.c.id, POINTS.c.seq, POINTS.c.kind, POINTS.c.data_json, SAMPLES.c.step_time_s_json)
             .select_from(POINTS.outerjoin(SAMPLES, SAMPLES.c.point_id == POINTS.c.id))
             .where(POINTS.c.run_id == rid).order_by(POINTS.c.seq))
        with self._read() as conn:
            rows = conn.execute(q).all()
        out = []
        for r in rows:
            d = json.loads(r.data_json)
            d["point_seq"], d["point_kind"] = r.seq, r.kind
            if samples and r.step_time_s_json is not None and isinstance(d.get("step_time_s"), dict):
                d["step_time_s"]["samples"] = json.loads(r.step_time_s_json)
            out.append(d)
        return out

    def points_where(self, *, kind: str, device: str | None = None, complete_runs_only: bool = False) -> list[dict]:
        """Points of one kind across all runs, oldest first: ``{"point_id", "run_id", "status",
        "time_s", "data"}`` (``data`` is the stored record, without raw samples)."""
        q = (sa.select(POINTS.c.id, POINTS.c.run_id, POINTS.c.status, POINTS.c.time_s, POINTS.c.data_json)
             .select_from(POINTS.join(RUNS, RUNS.c.id == POINTS.c.run_id)).where(POINTS.c.kind == kind))
        if device is not None:
            q = q.where(POINTS.c.device == device)
        if complete_runs_only:
            q = q.where(RUNS.c.status == "complete")
        with self._read() as conn:
            rows = conn.execute(q.order_by(POINTS.c.id)).all()
        return [{"point_id": r.id, "run_id": r.run_id, "status": r.status, "time_s": r.time_s,
                 "data": json.loads(r.data_json)} for r in rows]

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
