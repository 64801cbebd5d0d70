"""The results database (SQLite): runs, their points and raw samples; list, show, export, compare.

>>> from accelscope.store import Store
>>> with Store(path) as s:
...     rid = s.begin_run(kind="measurement", config={...}, environment={...})
...     s.add_measurement(rid, m); s.finish_run(rid)
"""

from accelscope.store.compare import Comparison, PointChange, compare_points, compare_runs
from accelscope.store.db import (ENV_VAR, SCHEMA_VERSION, RunRecord, Store, StoreError,
                                 default_store_path)
from accelscope.store.export import FORMATS, export_runs

__all__ = ["Comparison", "ENV_VAR", "FORMATS", "PointChange", "RunRecord", "SCHEMA_VERSION", "Store",
           "StoreError", "compare_points", "compare_runs", "default_store_path", "export_runs"]
