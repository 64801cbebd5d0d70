import os

# Keep CPU thread pools small: CI machines have two cores.
os.environ.setdefault("OMP_NUM_THREADS", "2")
