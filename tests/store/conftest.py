import os
import uuid

import pytest

#: A PostgreSQL database URL whose role may create databases (``.ci/run`` starts a server and
#: sets it); each test gets a fresh database of its own, dropped after.
PG_ENV = "ACCELSCOPE_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Never touch the user's real results database."""
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "results.sqlite"))


@pytest.fixture
def pg_url():
    """A new, empty PostgreSQL database on the server of ``$ACCELSCOPE_TEST_POSTGRES_URL``.
    Without that variable the test is skipped, unless ``ACCELSCOPE_REQUIRE_POSTGRES=1`` (CI),
    where a missing server is a failure."""
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("ACCELSCOPE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"ACCELSCOPE_REQUIRE_POSTGRES=1 but {PG_ENV} is not set")
        pytest.skip(f"no PostgreSQL server: set {PG_ENV}=postgresql://USER:PASSWORD@HOST/DB (a role that may "
                    "create databases) to run the PostgreSQL store tests")
    import sqlalchemy as sa

    url = sa.engine.make_url(base).set(drivername="postgresql+psycopg")
    name = f"accelscope_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
