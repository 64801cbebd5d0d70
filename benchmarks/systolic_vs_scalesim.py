"""accelscope's systolic simulator against SCALE-Sim 3.0.0, side by side: equality and speed.

    python benchmarks/systolic_vs_scalesim.py                 # suite + ResNet-50 timing
    python benchmarks/systolic_vs_scalesim.py --quick         # suite only
    python benchmarks/systolic_vs_scalesim.py --make-reference tests/data/scalesim/reference.json

SCALE-Sim is a reference, not a dependency: this script creates a scratch virtual environment
(``--venv``, default ``<tempdir>/accelscope-scalesim-venv``) with ``scalesim==3.0.0``,
``numpy<2`` and ``pandas<2.3``, and runs ``scalesim_runner.py`` there. Every case is run by
both tools with the same configuration and topology (written by ``scalesim_io``) in CALC
bandwidth mode; a layer is "identical" when all cycle counts (total incl. prefetch, total,
stall), the SRAM and DRAM access counts of all three operands and their start/stop cycles are
equal, and the three utilisation percentages agree to 1e-9 relative.

Speed: SCALE-Sim needs seconds to minutes per ResNet-50 layer on this machine, so the timing
runs a stated subset of layers (one per stage: CB2a_1, IB3b_2, IB4b_3, CB5a_2, FC6) with both
tools, on 32x32 and 128x128 arrays, all three dataflows, 64 KiB scratchpads; accelscope's time
for the full network is printed too. Wall times are for one process each.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from accelscope.models.systolic import scalesim_io as sio  # noqa: E402
from accelscope.models.systolic.config import ArrayConfig  # noqa: E402
from accelscope.models.systolic.engine import simulate_layer  # noqa: E402
from accelscope.models.systolic.layers import Layer  # noqa: E402

SCALESIM_PINS = ["scalesim==3.0.0", "numpy<2", "pandas<2.3"]

# Layer shapes of SCALE-Sim's ResNet-50 topology (topologies/conv_nets/Resnet50.csv in the
# scale-sim-v2 repository): name, ifmap h, ifmap w, filter h, filter w, channels, filters, stride
RESNET50 = """Conv1,224,224,7,7,3,64,2
CB2a_1,56,56,1,1,64,64,1
CB2a_2,56,56,3,3,64,64,1
CB2a_3,56,56,1,1,64,256,1
CB2s,56,56,1,1,64,256,1
IB2b_1,56,56,1,1,256,64,1
IB2b_2,56,56,3,3,64,64,1
IB2b_3,56,56,1,1,64,256,1
IB2c_1,56,56,1,1,256,64,1
IB2c_2,56,56,3,3,64,64,1
IB2c_3,56,56,1,1,64,256,1
CB3a_1,56,56,1,1,256,128,2
CB3a_2,28,28,3,3,128,128,1
CB3a_3,28,28,1,1,128,512,1
CB3s,56,56,1,1,256,512,2
IB3b_1,28,28,1,1,512,128,1
IB3b_2,28,28,3,3,128,128,1
IB3b_3,28,28,1,1,128,512,1
IB3c_1,28,28,1,1,512,128,1
IB3c_2,28,28,3,3,128,128,1
IB3c_3,28,28,1,1,128,512,1
IB3d_1,28,28,1,1,512,128,1
IB3d_2,28,28,3,3,128,128,1
IB3d_3,28,28,1,1,128,512,1
CB4a_1,28,28,1,1,512,256,2
CB4a_2,14,14,3,3,256,256,1
CB4a_3,14,14,1,1,256,1024,1
CB4s,28,28,1,1,512,1024,2
IB4b_1,14,14,1,1,1024,256,1
IB4b_2,14,14,3,3,256,256,1
IB4b_3,14,14,1,1,256,1024,1
IB4c_1,14,14,1,1,1024,256,1
IB4c_2,14,14,3,3,256,256,1
IB4c_3,14,14,1,1,256,1024,1
IB4d_1,14,14,1,1,1024,256,1
IB4d_2,14,14,3,3,256,256,1
IB4d_3,14,14,1,1,256,1024,1
IB4e_1,14,14,1,1,1024,256,1
IB4e_2,14,14,3,3,256,256,1
IB4e_3,14,14,1,1,256,1024,1
IB4f_1,14,14,1,1,1024,256,1
IB4f_2,14,14,3,3,256,256,1
IB4f_3,14,14,1,1,256,1024,1
CB5a_1,14,14,1,1,1024,512,2
CB5a_2,7,7,3,3,512,512,1
CB5a_3,7,7,1,1,512,2048,1
CB5s,14,14,1,1,1024,2048,2
IB5b_1,7,7,1,1,2048,512,1
IB5b_2,7,7,3,3,512,512,1
IB5b_3,7,7,1,1,512,2048,1
IB5c_1,7,7,1,1,2048,512,1
IB5c_2,7,7,3,3,512,512,1
IB5c_3,7,7,1,1,512,2048,1
FC6,1,1,1,1,2048,1000,1"""
RESNET_SUBSET = ("CB2a_1", "IB3b_2", "IB4b_3", "CB5a_2", "FC6")

INT_FIELDS = sio.REPORT_COUNT_FIELDS
FLOAT_FIELDS = sio.REPORT_PERCENT_FIELDS


def ensure_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    ok = py.exists() and subprocess.run([str(py), "-c", "import scalesim"],
                                        capture_output=True).returncode == 0
    if not ok:
        print(f"creating {venv} with {' '.join(SCALESIM_PINS)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *SCALESIM_PINS], check=True)
    return py


def run_scalesim(py: Path, cases: list[dict], jobs: int = 1) -> dict[str, dict]:
    proc = subprocess.run([str(py), str(HERE / "scalesim_runner.py"), "--jobs", str(jobs)],
                          input=json.dumps(cases), capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"SCALE-Sim failed:\n{proc.stderr[-4000:]}")
    return {d["id"]: d for d in map(json.loads, proc.stdout.splitlines())}


def reference_rows(ref: dict) -> list[dict]:
    comp = ref["reports"]["COMPUTE_REPORT"]
    det = ref["reports"]["DETAILED_ACCESS_REPORT"]
    return [{**c, **d} for c, d in zip(comp, det)]


def mismatches(row: dict, result) -> list[tuple]:
    bad = [(k, row[k], f(result)) for k, f in INT_FIELDS.items() if int(row[k]) != f(result)]
    bad += [(k, row[k], f(result)) for k, f in FLOAT_FIELDS.items()
            if abs(row[k] - f(result)) > 1e-9 * max(1.0, abs(f(result)))]
    return bad


def suite(mode: str = "CALC") -> list[tuple[str, ArrayConfig, str, str]]:
    """(id, config, topology kind, topology text): the equality suite of a bandwidth mode.

    USER mode (SCALE-Sim simulates it request by request, far slower than CALC) runs arrays up
    to 64x16 with three sets of (ifmap, filter, ofmap) DRAM bandwidths in words per cycle."""
    gemms = [Layer.gemm("gemm_100x37x50", 100, 37, 50), Layer.gemm("gemv_1x300x77", 1, 300, 77),
             Layer.gemm("skinny_1000x3x40", 1000, 3, 40), Layer.gemm("k1_64x64x1", 64, 64, 1),
             Layer.gemm("n1_50x1x200", 50, 1, 200), Layer.gemm("sq_96x96x96", 96, 96, 96)]
    convs = [Layer(name="c3x3_s2_overhang", ifmap_h=15, ifmap_w=13, filter_h=3, filter_w=3,
                   channels=5, num_filters=20, stride_h=2, stride_w=2),
             Layer(name="c1x1", ifmap_h=9, ifmap_w=9, filter_h=1, filter_w=1, channels=40,
                   num_filters=33),
             Layer(name="c5x5_s3", ifmap_h=20, ifmap_w=20, filter_h=5, filter_w=5, channels=3,
                   num_filters=16, stride_h=3, stride_w=3),
             Layer(name="c3x3_wide", ifmap_h=12, ifmap_w=12, filter_h=3, filter_w=3,
                   channels=24, num_filters=70)]
    dw = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, " \
         "Num Filter, Strides,\nDP_dw3x3, 10, 10, 3, 3, 3, 1, 1,\n"
    out = []
    if mode == "CALC":
        arrays = ((8, 8), (16, 4), (32, 32), (64, 16), (128, 128), (256, 256))
        bandwidths: tuple = (None,)
    else:
        arrays = ((8, 8), (16, 4), (32, 32), (64, 16))
        bandwidths = ((10, 10, 10), (3, 5, 7), (64, 32, 16))
    for df, (r, c), kib, bw in itertools.product(("os", "ws", "is"), arrays, (1, 16),
                                                 bandwidths):
        cfg = ArrayConfig(rows=r, cols=c, dataflow=df, ifmap_sram_bytes=kib * 1024,
                          filter_sram_bytes=2 * kib * 1024, ofmap_sram_bytes=kib * 1024,
                          dram_bw_words_per_cycle=bw, name="suite")
        base = f"{df}-{r}x{c}-{kib}k" + (f"-bw{'_'.join(map(str, bw))}" if bw else "")
        out.append((f"{base}-gemm", cfg, "gemm", sio.topology_text(gemms, "gemm")))
        out.append((f"{base}-conv", cfg, "conv", sio.topology_text(convs, "conv")))
        if (r, c) == (8, 8):
            out.append((f"{base}-dw", cfg, "conv", dw))
    return out


def compare_suite(py: Path, jobs: int, mode: str = "CALC") -> tuple[int, int, list]:
    cases = suite(mode)
    t0 = time.perf_counter()
    refs = run_scalesim(py, [{"id": i, "cfg": sio.config_text(cfg), "topology": topo,
                              "kind": kind} for i, cfg, kind, topo in cases], jobs)
    t_ref = time.perf_counter() - t0
    n = same = 0
    bad = []
    t_ours = 0.0
    for cid, cfg, kind, topo in cases:
        layers = sio.parse_topology(topo, kind)
        rows = reference_rows(refs[cid])
        assert len(rows) == len(layers), cid
        for layer, row in zip(layers, rows):
            t = time.perf_counter()
            res = simulate_layer(layer, cfg)
            t_ours += time.perf_counter() - t
            mm = mismatches(row, res)
            n += 1
            same += not mm
            if mm:
                bad.append((cid, layer.name, mm[:3]))
    print(f"equality suite, {mode} mode: {same} of {n} layers identical (cycles, SRAM/DRAM "
          f"accesses and their start/stop cycles) across {len(cases)} configurations")
    print(f"  wall: SCALE-Sim {sum(r['wall_s'] for r in refs.values()):.1f} s in its runs "
          f"({t_ref:.1f} s elapsed with {jobs} process(es)); accelscope {t_ours:.2f} s")
    for b in bad[:20]:
        print("  MISMATCH", b)
    return same, n, bad


def resnet_timing(py: Path) -> None:
    layers = sio.parse_topology("header\n" + RESNET50, "conv")
    sub = [lay for lay in layers if lay.name in RESNET_SUBSET]
    print(f"\nResNet-50 speed (subset timed with both tools: {', '.join(RESNET_SUBSET)}; "
          "64 KiB scratchpads, CALC mode)")
    print(f"{'array':>8} {'df':>3} {'SCALE-Sim s':>12} {'accelscope s':>13} {'ratio':>7} "
          f"{'identical':>10} {'accelscope full net s':>22}")
    for r, df in itertools.product((32, 128), ("os", "ws", "is")):
        cfg = ArrayConfig(rows=r, cols=r, dataflow=df, name="resnet")
        refs = run_scalesim(py, [{"id": lay.name, "cfg": sio.config_text(cfg),
                                  "topology": sio.topology_text([lay]), "kind": "conv"}
                                 for lay in sub])
        t_ref = sum(refs[lay.name]["wall_s"] for lay in sub)
        t_ours, same = 0.0, 0
        for lay in sub:
            t = time.perf_counter()
            res = simulate_layer(lay, cfg)
            t_ours += time.perf_counter() - t
            same += not mismatches(reference_rows(refs[lay.name])[0], res)
        t = time.perf_counter()
        for lay in layers:
            simulate_layer(lay, cfg)
        t_full = time.perf_counter() - t
        print(f"{r}x{r:<5} {df:>3} {t_ref:12.2f} {t_ours:13.3f} {t_ref / t_ours:6.0f}x "
              f"{same:>4} of {len(sub)} {t_full:22.2f}", flush=True)


def make_reference(py: Path, path: Path, jobs: int, mode: str = "CALC") -> None:
    cases = suite(mode)
    refs = run_scalesim(py, [{"id": i, "cfg": sio.config_text(cfg), "topology": topo,
                              "kind": kind} for i, cfg, kind, topo in cases], jobs)
    keep = list(INT_FIELDS) + list(FLOAT_FIELDS)
    topologies: dict[str, str] = {}
    for _, _, kind, topo in cases:
        topologies.setdefault(topo, f"{kind}{len(topologies)}")
    data = {
        "generator": "benchmarks/systolic_vs_scalesim.py --make-reference",
        "scalesim_version": "3.0.0",
        "scalesim_pins": SCALESIM_PINS,
        "bandwidth_mode": mode,
        "topologies": {key: text for text, key in topologies.items()},
        "cases": [
            {"id": cid, "config": {k: v for k, v in cfg.to_dict().items()
                                   if k in ("rows", "cols", "dataflow", "ifmap_sram_bytes",
                                            "filter_sram_bytes", "ofmap_sram_bytes",
                                            "dram_bw_words_per_cycle")},
             "kind": kind, "topology": topologies[topo],
             "layers": [[row[k] for k in keep] for row in reference_rows(refs[cid])]}
            for cid, cfg, kind, topo in cases
        ],
        "columns": keep,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {path}: {sum(len(c['layers']) for c in data['cases'])} layers")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path,
                    default=Path(tempfile.gettempdir()) / "accelscope-scalesim-venv")
    ap.add_argument("--jobs", type=int, default=2, help="SCALE-Sim processes for the suite")
    ap.add_argument("--quick", action="store_true", help="skip the ResNet-50 timing")
    ap.add_argument("--mode", choices=("CALC", "USER", "both"), default="both",
                    help="bandwidth mode of the equality suite")
    ap.add_argument("--make-reference", type=Path,
                    help="write test reference data of --mode CALC or USER and exit")
    args = ap.parse_args()
    py = ensure_venv(args.venv)
    modes = ("CALC", "USER") if args.mode == "both" else (args.mode,)
    if args.make_reference:
        if len(modes) != 1:
            sys.exit("--make-reference needs --mode CALC or --mode USER")
        make_reference(py, args.make_reference, args.jobs, modes[0])
        return
    for mode in modes:
        compare_suite(py, args.jobs, mode)
    if not args.quick:
        resnet_timing(py)


if __name__ == "__main__":
    main()
