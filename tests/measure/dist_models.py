"""Model factories the distributed tests launch in separate processes (importable by name)."""

import os

from torch import nn


def fails_on_rank_1():
    """A small MLP everywhere but on rank 1, which fails to build its model."""
    if os.environ.get("RANK") == "1":
        raise RuntimeError("rank 1 cannot build its model (a test's deliberate failure)")
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 4))
