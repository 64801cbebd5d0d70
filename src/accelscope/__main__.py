"""``python -m accelscope`` is the ``accelscope`` command."""

from accelscope.cli.main import run

run()
