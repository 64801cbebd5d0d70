"""The entry point imports only the module of the command it runs (``cli.main.COMMANDS``)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

from accelscope.cli.main import COMMANDS, app


def test_commands_table_names_what_each_module_registers():
    for module in COMMANDS:
        importlib.import_module(f"accelscope.cli.{module}")
    registered: dict[str, set[str]] = {}
    for command in app.registered_commands:
        module = command.callback.__module__.removeprefix("accelscope.cli.")
        registered.setdefault(module, set()).add(command.name)
    for group in app.registered_groups:
        callbacks = [c.callback for c in group.typer_instance.registered_commands]
        modules = {c.__module__.removeprefix("accelscope.cli.") for c in callbacks}
        assert len(modules) == 1, (group.name, modules)
        registered.setdefault(modules.pop(), set()).add(group.name)
    assert registered == {module: set(names) for module, names in COMMANDS.items()}


def test_one_command_loads_one_module_and_help_loads_all():
    code = ("import sys\nfrom accelscope.cli.main import run\n"
            "try:\n    run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('accelscope.cli.')))")
    one = subprocess.run([sys.executable, "-c", code, "--debug", "dse", "--help"],
                         capture_output=True, text=True, check=True)
    assert one.stdout.splitlines()[-1] == "['accelscope.cli.main', 'accelscope.cli.options', 'accelscope.cli.simulate']"
    every = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True,
                           check=True)
    loaded = ast.literal_eval(every.stdout.splitlines()[-1])
    assert {f"accelscope.cli.{m}" for m in COMMANDS} <= set(loaded)
    assert "simulate" in every.stdout and "bench-comm" in every.stdout
