"""Where the results store is (a path or a database URL), without opening it: cheap to
import (no SQLAlchemy), so a command that only reads calibrations when a store exists pays
nothing when none does."""

from __future__ import annotations

import os
from pathlib import Path

from accelscope.errors import AccelscopeError
from accelscope.paths import user_path

ENV_VAR = "ACCELSCOPE_STORE"


class StoreError(AccelscopeError):
    """The results database cannot be opened, or a run asked for does not exist."""


def default_store_path() -> Path:
    """``$ACCELSCOPE_STORE`` (when it is a path), else the user's data directory +
    ``accelscope/results.sqlite``."""
    if is_url(os.environ.get(ENV_VAR, "")):
        raise StoreError(f"{ENV_VAR} is a database URL, not a file; open it with Store()")
    return user_path(ENV_VAR, "data", "results.sqlite")


def default_store() -> str | Path:
    """Where results go when no store is given: ``$ACCELSCOPE_STORE`` (a path or a URL), else
    the default file."""
    env = os.environ.get(ENV_VAR, "")
    return env if is_url(env) else default_store_path()


def is_url(target: object) -> bool:
    return isinstance(target, str) and "://" in target


def store_exists(target: str | Path | None = None) -> bool:
    """Whether a store is there to read (a server is assumed to be; a file must exist), so
    that a reader that finds none creates none."""
    target = default_store() if target is None else target
    return is_url(target) or Path(target).expanduser().exists()
