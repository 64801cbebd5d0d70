"""Where accelscope keeps files of its own: the user's data and cache directories."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: XDG variable and its default below the home directory, by kind of directory
_XDG = {"data": ("XDG_DATA_HOME", (".local", "share")), "cache": ("XDG_CACHE_HOME", (".cache",))}


def user_path(env_var: str, kind: str, *parts: str) -> Path:
    """``$env_var`` when set, else ``parts`` below accelscope's folder in the user's ``kind``
    directory (``data`` or ``cache``): ``$XDG_DATA_HOME`` / ``$XDG_CACHE_HOME``, their defaults
    ``~/.local/share`` / ``~/.cache``, or ``%LOCALAPPDATA%`` on Windows."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var]).expanduser()
    xdg, default = _XDG[kind]
    if sys.platform == "win32":  # pragma: no cover
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif os.environ.get(xdg):
        base = Path(os.environ[xdg]).expanduser()
    else:
        base = Path.home().joinpath(*default)
    return base.joinpath("accelscope", *parts)
