"""The results database (an SQLite file, or a PostgreSQL server): runs, their points and raw samples; list, show, export, compare.

>>> from accelscope.store import Store
>>> with Store(path) as s:
...     rid = s.begin_run(kind="measurement", config={...}, environment={...})
...     s.add_measurement(rid, m); s.finish_run(rid)

``compare`` and ``export`` (statistics, CSV) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from accelscope.store.db import (ENV_VAR, SCHEMA_VERSION, RunRecord, Store, StoreError, default_store,
                                 default_store_path, store_exists)

_LAZY = {"Comparison": "compare", "PointChange": "compare", "compare_points": "compare", "compare_runs": "compare",
         "FORMATS": "export", "export_runs": "export"}
__all__ = ["ENV_VAR", "RunRecord", "SCHEMA_VERSION", "Store", "StoreError", "default_store", "default_store_path",
           "store_exists", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"accelscope.store.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
