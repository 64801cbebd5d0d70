"""How fast the CLI answers when it neither traces nor measures, against importing torch.

    python benchmarks/cli_latency.py [--rounds 7]

Times, side by side in interleaved rounds on this machine, the wall time of:

* ``python -c "import torch"`` (the reference: what every command cost when each imported torch);
* ``accelscope --help``;
* ``accelscope hardware list --json``;
* ``accelscope predict resnet50 --hardware h100-sxm --json`` with its profile in the cache (the
  cache is filled by one untimed run first, in a scratch cache directory and results store);

and prints each command's median and its ratio to the torch import's median. Goal (issue 11):
every ratio <= 0.25. The ratio, not the absolute time, is the figure: both sides run on the
same machine in the same rounds, so a slow or busy machine slows both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _accelscope() -> list[str]:
    exe = shutil.which("accelscope")
    return [exe] if exe else [sys.executable, "-m", "accelscope"]


def _time(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    cli = _accelscope()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ACCELSCOPE_CACHE_DIR=str(Path(tmp) / "cache"),
                   ACCELSCOPE_STORE=str(Path(tmp) / "results.sqlite"))
        commands = {
            'python -c "import torch"': [sys.executable, "-c", "import torch"],
            "accelscope --help": cli + ["--help"],
            "accelscope hardware list --json": cli + ["hardware", "list", "--json"],
            "accelscope predict resnet50 --hardware h100-sxm --json (cached)":
                cli + ["predict", "resnet50", "--hardware", "h100-sxm", "--json"],
        }
        fill = _time(commands["accelscope predict resnet50 --hardware h100-sxm --json (cached)"], env)
        print(f"filling the profile cache (the first predict, which traces): {fill:.2f} s")
        for cmd in commands.values():  # warm the OS's file cache once
            _time(cmd, env)
        times: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                times[name].append(_time(cmd, env))
    ref = statistics.median(times['python -c "import torch"'])
    print(f"\n{'command':<66}{'median':>9}{'ratio':>8}")
    worst = 0.0
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = med / ref
        if not name.startswith("python"):
            worst = max(worst, ratio)
        print(f"{name:<66}{med:>8.3f}s{ratio:>8.3f}")
    print(f"\n{args.rounds} interleaved rounds; largest ratio {worst:.3f} (goal <= 0.25) "
          f"{'OK' if worst <= 0.25 else 'MISSED'}")


if __name__ == "__main__":
    main()
