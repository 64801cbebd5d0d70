"""The results database (an SQLite file, or a PostgreSQL server): runs, their points and raw
samples; list, show, export, compare.

>>> from accelscope.store import Store
>>> with Store(path) as s:
...     rid = s.begin_run(kind="measurement", config={...}, environment={...})
...     s.add_measurement(rid, m); s.finish_run(rid)

``Store`` (SQLAlchemy), ``compare`` and ``export`` load on first use: finding out where the
store is, or that there is none (``store_exists``), imports no database library.
"""

from __future__ import annotations

import importlib
from typing import Any

from accelscope.store.location import ENV_VAR, StoreError, default_store, default_store_path, is_url, store_exists

_LAZY = {"RunRecord": "db", "SCHEMA_VERSION": "db", "Store": "db",
         "Comparison": "compare", "PointChange": "compare", "compare_points": "compare", "compare_runs": "compare",
         "FORMATS": "export", "export_runs": "export"}
__all__ = ["ENV_VAR", "StoreError", "default_store", "default_store_path", "is_url", "store_exists", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"accelscope.store.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
