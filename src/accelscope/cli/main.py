"""The ``accelscope`` command.

Each command lives in its own module under ``accelscope.cli`` and registers itself on
:data:`app`; this module only wires them together and turns :class:`AccelscopeError` into
a one-line message and exit code 2 (a traceback only with ``--debug``).
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading

import typer

from accelscope.errors import AccelscopeError

app = typer.Typer(
    name="accelscope",
    help="Measure, predict and price deep-learning workloads on CPUs, GPUs, TPUs, ASICs and FPGAs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules and the commands each registers on ``app`` when imported
# (tests/cli/test_commands.py checks the names against what importing them all registers).
COMMANDS = {
    "profile": ("models", "profile"), "hardware": ("hardware",), "predict": ("predict",),
    "explore": ("explore",), "calibrate": ("calibrate",), "bench": ("bench",),
    "bench_comm": ("bench-comm",), "runs": ("runs",), "job": ("job", "advise"),
    "simulate": ("simulate", "dse"), "fpga": ("fpga",), "report": ("report",),
}


def _version(value: bool) -> None:
    if value:
        from accelscope._version import __version__

        typer.echo(f"accelscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print accelscope's version and exit."),
) -> None:
    """Measure, predict and price deep-learning workloads (``--debug`` is read by :func:`run`)."""


def _load_commands(args: list[str]) -> None:
    """Import the module of the command ``args`` names, or every module when they name none
    (help, a typo: click's listing and suggestions need them all). typer turns each loaded
    command's signature into click parameters on every call, about 0.1 s for all twelve
    modules, which a one-command run does not pay."""
    name = next((a for a in args if not a.startswith("-")), None)
    modules = [m for m, names in COMMANDS.items() if name in names] or list(COMMANDS)
    for module in modules:
        importlib.import_module(f"accelscope.cli.{module}")


def _terminate(signum, frame) -> None:
    """SIGTERM is an interrupt like Ctrl-C: runs are finished as interrupted, exit code 130."""
    raise KeyboardInterrupt


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point. Usage errors exit 2 (click), and so do accelscope's errors
    and file-system errors a user causes (one line on stderr; the traceback with ``--debug``);
    Ctrl-C and SIGTERM exit 130."""
    args = sys.argv[1:] if argv is None else argv
    _load_commands(args)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    from typer import Abort
    from typer._click import exceptions as click_errors

    try:
        code = app(args=args, prog_name="accelscope", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:  # a command group without its command: its help
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0 if not args else 2)
    except click_errors.UsageError as exc:  # one line, with where to look
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        typer.echo(f"error: {exc.format_message()}{where}", err=True)
        sys.exit(2)
    except click_errors.ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except Abort:
        sys.exit(130)
    except (AccelscopeError, OSError) as exc:
        if "--debug" in args:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(code or 0)
