"""Run SCALE-Sim on a batch of cases and print its reports as JSON (runs inside a scratch venv).

This script imports only SCALE-Sim and the standard library: the comparison script
``systolic_vs_scalesim.py`` runs it with the interpreter of a virtual environment where
``scalesim==3.0.0`` is installed, feeding a JSON list of cases on stdin:
``[{"id": ..., "cfg": <.cfg text>, "topology": <csv text>, "kind": "conv" | "gemm"}, ...]``.
It prints one JSON object per case: the three report CSVs parsed into per-layer dicts and the
wall time of ``run_scale``. ``--jobs N`` runs cases in N processes.
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor


def _parse(path):
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    header = [h.strip() for h in lines[0].split(",") if h.strip()]
    rows = []
    for ln in lines[1:]:
        vals = [v.strip() for v in ln.split(",")][: len(header)]
        rows.append({h: float(v) for h, v in zip(header, vals)})
    return rows


def run_case(case):
    from scalesim.scale_sim import scalesim

    with tempfile.TemporaryDirectory() as tmp:
        cfg, topo, layout = (os.path.join(tmp, n) for n in ("c.cfg", "t.csv", "l.csv"))
        with open(cfg, "w") as f:
            f.write(case["cfg"])
        with open(topo, "w") as f:
            f.write(case["topology"])
        with open(layout, "w") as f:
            f.write("Layer name,\n")
        out = os.path.join(tmp, "out")
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo,
                           layout=layout, input_type_gemm=case["kind"] == "gemm")
            t0 = time.perf_counter()
            sim.run_scale(top_path=out)
            wall = time.perf_counter() - t0
        run_dir = os.path.join(out, sim.config.get_run_name())
        reports = {name: _parse(os.path.join(run_dir, name + ".csv"))
                   for name in ("COMPUTE_REPORT", "BANDWIDTH_REPORT", "DETAILED_ACCESS_REPORT")}
    return {"id": case["id"], "wall_s": wall, "reports": reports}


def main():
    jobs = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 1
    cases = json.load(sys.stdin)
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            for res in pool.map(run_case, cases):
                print(json.dumps(res), flush=True)
    else:
        for case in cases:
            print(json.dumps(run_case(case)), flush=True)


if __name__ == "__main__":
    main()
