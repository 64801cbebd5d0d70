"""How fast the multi-device model answers (issue 14's goals), on this machine, through the CLI.

* ``predict gpt3-175b --devices 512 --parallel tp=8,pp=8 ...``: a 175B-parameter layout
  (goal <= 5 s), cold (an empty profile cache: the three pieces are traced) and warm (the
  pieces from the cache);
* ``predict gpt3-175b --devices 512 --search``: every valid layout for 512 devices
  (goal <= 60 s), warm.

Each figure is the wall time of a fresh ``accelscope`` process (Python, torch's import and the
fake-tensor machinery included), the median of three runs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

PREDICT = ["predict", "gpt3-175b", "--task", "train", "--hardware", "h100-sxm", "--devices", "512",
           "--parallel", "tp=8,pp=8", "--global-batch", "1536", "--zero", "1", "--recompute", "selective", "--json"]
SEARCH = ["predict", "gpt3-175b", "--task", "train", "--hardware", "h100-sxm", "--devices", "512", "--search",
          "--global-batch", "1536", "--json"]


def wall(args: list[str], cache: str, runs: int = 3, fresh: bool = False) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        env = dict(os.environ, ACCELSCOPE_CACHE_DIR=tempfile.mkdtemp() if fresh else cache)
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "accelscope", *args], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t)
        if p.returncode:
            raise SystemExit(f"accelscope {' '.join(args)} failed: {p.stderr[-2000:]}")
        out = p.stdout
    return statistics.median(times), out


def main() -> None:
    import json

    cache = tempfile.mkdtemp()
    cold, _ = wall(PREDICT, cache, fresh=True)
    wall(PREDICT, cache, runs=1)  # fill the cache
    warm, out = wall(PREDICT, cache)
    e = json.loads(out)["estimates"][0]
    search, sout = wall(SEARCH, cache, runs=1)
    search_warm, sout = wall(SEARCH, cache, runs=1)
    s = json.loads(sout)["search"]["h100-sxm"]
    print(f"predict 175B on 512 devices, cold cache   {cold:6.2f} s   (goal <= 5 s)")
    print(f"predict 175B on 512 devices, warm cache   {warm:6.2f} s   (goal <= 5 s)"
          f"   -> {e['step_time_s']:.2f} s per iteration, MFU {e['mfu']:.0%}")
    print(f"--search 512 devices, cold pieces        {search:6.2f} s   (goal <= 60 s)")
    print(f"--search 512 devices, warm               {search_warm:6.2f} s   ({s['candidates']} layouts; best "
          f"{s['ranked'][0]['label']}, {s['ranked'][0]['step_time_s']:.2f} s)")


if __name__ == "__main__":
    main()
