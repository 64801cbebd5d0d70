"""Rendering only: terminal tables (``text``) and JSON (``json_text``); HTML comes later.

Nothing here computes a figure: each renderer takes a job's result and lays it out.
"""

from __future__ import annotations

import json
from typing import Any


def json_text(obj: Any) -> str:
    """What every ``--json`` prints: the result's dict, indented, UTF-8 kept."""
    return json.dumps(obj, indent=2, ensure_ascii=False)
