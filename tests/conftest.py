import os

# Keep CPU thread pools small: CI machines have two cores.
os.environ.setdefault("OMP_NUM_THREADS", "2")

# Profiles traced by the tests are cached in a directory of this session (removed at exit), not
# in the user's cache.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

if "ACCELSCOPE_CACHE_DIR" not in os.environ:
    os.environ["ACCELSCOPE_CACHE_DIR"] = tempfile.mkdtemp(prefix="accelscope-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ACCELSCOPE_CACHE_DIR"], ignore_errors=True)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_user_store(tmp_path, monkeypatch):
    """Commands that keep results (bench, explore, dse, fpga, ...) never write the user's own
    store: each test has one of its own unless it sets another."""
    monkeypatch.setenv("ACCELSCOPE_STORE", str(tmp_path / "results.sqlite"))
