"""The ``accelscope`` command.

Each command lives in its own module under ``accelscope.cli`` and registers itself on
:data:`app`; this module only wires them together and turns :class:`AccelscopeError` into
a one-line message and exit code 2 (a traceback only with ``--debug``).
"""

from __future__ import annotations

import importlib
import sys

import typer

from accelscope.errors import AccelscopeError

app = typer.Typer(
    name="accelscope",
    help="Measure, predict and price deep-learning workloads on CPUs, GPUs, TPUs, ASICs and FPGAs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules, imported for their side effect of registering on ``app``.
COMMAND_MODULES = ["profile", "hardware", "predict", "explore", "calibrate", "bench", "runs", "simulate", "fpga"]


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """Measure, predict and price deep-learning workloads (``--debug`` is read by :func:`run`)."""


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"accelscope.cli.{name}")


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: usage errors exit 2 (click), accelscope errors exit 2 too."""
    _load_commands()
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="accelscope")
    except AccelscopeError as exc:
        if "--debug" in args:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
