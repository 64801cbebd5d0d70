"""Helpers shared by the tests."""

import pytest


def run_cli(args, capsys):
    """Run the ``accelscope`` entry point in-process: (exit code, stdout, stderr)."""
    from accelscope.cli.main import run

    with pytest.raises(SystemExit) as e:
        run(args)
    out = capsys.readouterr()
    return e.value.code or 0, out.out, out.err


def fails_on_rank_1():
    """A model factory for the distributed tests' launched processes: a small MLP on every
    rank but rank 1, which fails to build its model."""
    import os

    from torch import nn

    if os.environ.get("RANK") == "1":
        raise RuntimeError("rank 1 cannot build its model (a test's deliberate failure)")
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 4))
