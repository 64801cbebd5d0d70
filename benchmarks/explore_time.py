"""Time `accelscope explore` on its built-in defaults (goal: <= 3 minutes on a 2-core CPU).

Runs the command as a user would the first time, with a scratch results store and an empty
profile cache, and prints the wall time
and, per workload, the measured local rows and the fastest predicted device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    # a first run on a new machine: a scratch results store and an empty profile cache
    env = dict(os.environ, ACCELSCOPE_STORE=str(Path(tmp) / "results.sqlite"),
               ACCELSCOPE_CACHE_DIR=str(Path(tmp) / "cache"))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "accelscope", "explore", "--json"], env=env,
                          capture_output=True, text=True, check=True)
    wall_s = time.perf_counter() - start
out = json.loads(proc.stdout)
for w in out["workloads"]:
    spec = w["workload"]
    measured = [r for r in w["rows"] if r["source"] == "measured"]
    predicted = [r for r in w["rows"] if r["source"] == "predicted"]
    label = " ".join(f"{k}={v}" for k, v in spec.items())
    for r in measured:
        print(f"{label}: measured {r['device']} {r['step_time_s'] * 1e3:.2f} ms/step")
    if predicted:
        best = predicted[0]
        print(f"{'':>{len(label)}}  fastest predicted {best['device']} ({best['precision']}) "
              f"{best['step_time_s'] * 1e3:.3f} ms/step, {best['speedup_vs_cpu']:.0f}x the local CPU; "
              f"{len(predicted)} devices predicted, {len(w['unavailable'])} without an estimate")
print(f"accelscope explore (defaults): {wall_s:.0f} s wall (goal <= 180 s) {'OK' if wall_s <= 180 else 'MISSED'}")
