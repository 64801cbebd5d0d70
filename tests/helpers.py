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


def user_decoder():
    """A decoder of your own for serving: any module with ``forward(tokens, caches=None,
    last_only=False)``, ``new_caches(batch, capacity, dtype=None, device=None)`` and
    ``vocab_size`` (here the zoo's LLaMA block stack, which follows the protocol)."""
    from accelscope.workload import nets

    return nets.Llama(nets.TransformerConfig(vocab_size=300, d_model=64, n_layers=2, n_heads=4, n_kv_heads=2,
                                             d_ff=128, max_positions=256))


def not_a_decoder():
    """A module without the serving protocol."""
    import torch

    return torch.nn.Linear(4, 4)
