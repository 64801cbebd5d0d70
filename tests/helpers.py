"""Helpers shared by the tests."""

import pytest


def run_cli(args, capsys):
    """Run the ``accelscope`` entry point in-process: (exit code, stdout, stderr)."""
    from accelscope.cli.main import run

    with pytest.raises(SystemExit) as e:
        run(args)
    out = capsys.readouterr()
    return e.value.code or 0, out.out, out.err
