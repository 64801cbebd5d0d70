"""`accelscope simulate` against SCALE-Sim 3.0.0 as whole commands, on SCALE-Sim's own files.

    python benchmarks/simulate_vs_scalesim_command.py [--venv DIR] [--quick]

Each case runs both command lines in fresh processes, from interpreter start to reports on
disk, and compares the COMPUTE_REPORT and DETAILED_ACCESS_REPORT rows:

    <scalesim venv>/python -m scalesim.scale -c CFG -t TOPOLOGY -l LAYOUT -p DIR -s N
    python -m accelscope simulate --config CFG --topology TOPOLOGY --out DIR

``-s N`` keeps SCALE-Sim from writing its cycle-by-cycle traces (accelscope writes none), so
both produce the same three report files. The configurations and topologies are SCALE-Sim's
(benchmarks/data/scalesim/, see its README): ``scale_user.cfg`` is its default ``scale.cfg``
(32x32 OS, 64 KiB scratchpads, USER bandwidth mode, 64 ofmap / 64 ifmap / 640 filter words
per cycle) written in the 3.0.0 format with custom layouts off; ``google.cfg`` its TPU v1
configuration (256x256 WS, CALC mode). The ratio is SCALE-Sim's wall time over accelscope's.
SCALE-Sim is installed as in ``systolic_vs_scalesim.py`` (a scratch virtual environment).
Both start from compiled bytecode, as after ``pip install``: pip compiled SCALE-Sim's when it
installed it, and an untimed first run of accelscope's command compiles an editable checkout's
(``PYTHONDONTWRITEBYTECODE`` is dropped from both commands' environment).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "scalesim"
sys.path.insert(0, str(HERE))

from systolic_vs_scalesim import ensure_venv  # noqa: E402

CASES = [  # (configuration, topology); the first is the quick one
    ("scale_user.cfg", "test.csv"),
    ("scale_user.cfg", "alexnet.csv"),
    ("google.cfg", "alexnet.csv"),
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return [{k.strip(): v.strip() for k, v in row.items() if k and k.strip()}
                for row in csv.DictReader(f)]


def _reports(directory: Path) -> dict[str, list[dict[str, str]]]:
    found = {p.name: p for p in directory.rglob("*.csv")}
    return {name: _rows(found[name]) for name in ("COMPUTE_REPORT.csv",
                                                  "DETAILED_ACCESS_REPORT.csv")}


def _same(ours: dict, theirs: dict) -> tuple[int, int, list[str]]:
    """Layers whose every integer column agrees, layers, and the first disagreements."""
    same, bad = 0, []
    rows = list(zip(ours["COMPUTE_REPORT.csv"], ours["DETAILED_ACCESS_REPORT.csv"],
                    theirs["COMPUTE_REPORT.csv"], theirs["DETAILED_ACCESS_REPORT.csv"]))
    for our_c, our_d, their_c, their_d in rows:
        mine, ref = {**our_c, **our_d}, {**their_c, **their_d}
        diff = [k for k in ref if k in mine and "%" not in k and k != "LayerID"
                and float(mine[k]) != float(ref[k])]
        same += not diff
        bad += [f"{ref.get('LayerID', '?')}: {k} {mine[k]} vs {ref[k]}" for k in diff[:3]]
    return same, len(rows), bad


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path,
                    default=Path(tempfile.gettempdir()) / "accelscope-scalesim-venv")
    ap.add_argument("--quick", action="store_true", help="only the first case")
    ap.add_argument("--case", type=int, action="append",
                    help="run only these cases (1-based, in the order of CASES; repeatable)")
    args = ap.parse_args()
    py = ensure_venv(args.venv)
    print(f"{'configuration':<16} {'topology':<12} {'SCALE-Sim s':>12} {'accelscope s':>13} "
          f"{'ratio':>7}  identical layers")
    chosen = CASES[:1] if args.quick else CASES
    if args.case:
        chosen = [CASES[i - 1] for i in args.case]
    for cfg, topo in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            layout = tmp / "layout.csv"
            layout.write_text("Layer name,\n")
            theirs, ours = tmp / "scalesim", tmp / "accelscope"
            t_ref = _timed([str(py), "-m", "scalesim.scale", "-c", str(DATA / cfg), "-t",
                            str(DATA / topo), "-l", str(layout), "-p", str(theirs), "-s", "N"],
                           tmp)
            ours_cmd = [sys.executable, "-m", "accelscope", "simulate", "--config",
                        str(DATA / cfg), "--topology", str(DATA / topo), "--out"]
            _timed([*ours_cmd, str(tmp / "untimed")], tmp)  # writes any bytecode not yet compiled
            t_ours = _timed([*ours_cmd, str(ours)], tmp)
            same, n, bad = _same(_reports(ours), _reports(theirs))
        print(f"{cfg:<16} {topo:<12} {t_ref:12.1f} {t_ours:13.2f} {t_ref / t_ours:6.0f}x  "
              f"{same} of {n}", flush=True)
        for line in bad[:6]:
            print("   differs:", line)


if __name__ == "__main__":
    main()
