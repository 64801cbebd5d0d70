import os

# Keep CPU thread pools small: CI machines have two cores.
os.environ.setdefault("OMP_NUM_THREADS", "2")

# Profiles traced by the tests are cached in a directory of this session, not the user's cache.
import tempfile  # noqa: E402

os.environ.setdefault("ACCELSCOPE_CACHE_DIR", tempfile.mkdtemp(prefix="accelscope-test-cache-"))
