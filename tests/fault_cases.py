"""The fault suite: what a user can get wrong, and what accelscope must do about it.

Every case runs the real command in a fresh interpreter (``python -m accelscope``) in a scratch
directory with its own results store, and must end with one line on stderr (no traceback),
exit code 2 (130 for an interrupt), the expected words in that line, and the store intact
(``PRAGMA integrity_check``) with every completed point kept. ``tests/test_faults.py`` runs
them; ``benchmarks/fault_suite.py`` prints how many there are and how many passed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STORE = "store.sqlite"


@dataclass(frozen=True)
class Case:
    name: str
    group: str  # values, files, outputs, stores, signals, concurrency
    args: tuple[str, ...] = ()  # "{tmp}" is replaced by the scratch directory
    match: str = ""  # words the error line must hold
    code: int = 2
    setup: Callable[[Path], None] | None = None
    check: Callable[[Path, subprocess.CompletedProcess], None] | None = None
    #: a case that drives processes itself (signals, concurrent writers): returns the last result
    drive: Callable[[Path], subprocess.CompletedProcess] | None = None
    store: str = STORE  # the ACCELSCOPE_STORE of the case, relative to the scratch directory
    one_line: bool = True
    teardown: Callable[[Path], None] | None = None


def env_for(tmp: Path, store: str = STORE) -> dict:
    env = dict(os.environ, ACCELSCOPE_STORE=str(tmp / store), COLUMNS="80")
    env.pop("TERM", None)
    return env


def cli(args, tmp: Path, store: str = STORE, **kw) -> subprocess.Popen | subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "accelscope", *[a.replace("{tmp}", str(tmp)) for a in args]]
    if kw.pop("background", False):
        return subprocess.Popen(cmd, cwd=tmp, env=env_for(tmp, store), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=tmp, env=env_for(tmp, store), capture_output=True, text=True,
                          timeout=kw.pop("timeout", 300))


# -- what the cases need beforehand ---------------------------------------------------------

def _seeded_store(tmp: Path, store: str = STORE) -> None:
    """A store with one completed measurement run of 2 points (null device)."""
    r = cli(["bench", "mlp", "--device", "null", "--batch", "1,2", "--max-time", "0.1"], tmp, store)
    assert r.returncode == 0, r.stderr


def _points(tmp: Path, store: str = STORE) -> int:
    con = sqlite3.connect(tmp / store)
    try:
        return con.execute("SELECT COUNT(*) FROM points").fetchone()[0]
    finally:
        con.close()


def _keeps_points(n: int) -> Callable[[Path, subprocess.CompletedProcess], None]:
    def check(tmp: Path, r) -> None:
        assert _points(tmp) == n, f"the store holds {_points(tmp)} points, expected {n}"

    return check


def _write(name: str, text: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / name).write_text(text)

    return setup


def _user_model(tmp: Path) -> None:
    (tmp / "usermod.py").write_text("import torch\ndef f():\n    return torch.nn.Linear(8, 2)\n")


def _foreign_sqlite(tmp: Path) -> None:
    con = sqlite3.connect(tmp / "other.sqlite")
    con.execute("CREATE TABLE recipes (name TEXT, stars INTEGER)")
    con.execute("INSERT INTO recipes VALUES ('soup', 5)")
    con.commit()
    con.close()


def _untouched(name: str) -> Callable[[Path], None]:
    """setup: remember the file's bytes; check: they are the same."""
    def check(tmp: Path, r) -> None:
        assert (tmp / name).read_bytes() == (tmp / f"{name}.orig").read_bytes(), f"{name} was changed"

    return check


def _snapshot(setup: Callable[[Path], None], name: str) -> Callable[[Path], None]:
    def run(tmp: Path) -> None:
        setup(tmp)
        (tmp / f"{name}.orig").write_bytes((tmp / name).read_bytes())

    return run


def _read_only_store(tmp: Path) -> None:
    """A seeded store this user cannot write: mode 0444, and for root (whom modes do not stop)
    the immutable attribute (``chattr +i``, which stops root too)."""
    _seeded_store(tmp)
    path = tmp / STORE
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    assert not os.access(path, os.W_OK)


def _writable_again(tmp: Path) -> None:
    path = tmp / STORE
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=False)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def _topology(tmp: Path) -> None:
    (tmp / "topo.csv").write_text("Layer, M, N, K,\nfc1, 64, 128, 256,\n")


def _existing_reports(tmp: Path) -> None:
    _topology(tmp)
    (tmp / "reports").mkdir()
    (tmp / "reports" / "COMPUTE_REPORT.csv").write_text("keep me\n")
    (tmp / "reports" / "COMPUTE_REPORT.csv.orig").write_text("keep me\n")


def _newer_store(tmp: Path) -> None:
    con = sqlite3.connect(tmp / "newer.sqlite")
    con.execute("PRAGMA user_version = 99")
    con.close()


# -- signals and concurrent writers -----------------------------------------------------------

#: long enough (24 points) that a signal sent after the first stored point lands mid-sweep on a loaded machine
LONG_BENCH = ("bench", "mlp", "--device", "null", "--batch", ",".join(str(b) for b in range(1, 25)),
              "--max-time", "0.5")


def _signal_after_first_point(sig: int) -> Callable[[Path], subprocess.CompletedProcess]:
    def drive(tmp: Path) -> subprocess.CompletedProcess:
        proc = cli(LONG_BENCH, tmp, background=True)
        deadline = time.time() + 240
        while time.time() < deadline:
            if (tmp / STORE).exists():
                try:
                    if _points(tmp) >= 1:
                        break
                except sqlite3.OperationalError:
                    pass
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    return drive


def _interrupted_run_kept(status: str) -> Callable[[Path, subprocess.CompletedProcess], None]:
    def check(tmp: Path, r) -> None:
        listing = cli(["runs", "list", "--json"], tmp)
        assert listing.returncode == 0, listing.stderr
        [run] = json.loads(listing.stdout)
        assert run["status"] == status, run
        assert 1 <= run["n_points"] < run["planned"] == 24 and run["n_ok"] == run["n_points"]

    return check


def _two_writers(tmp: Path) -> subprocess.CompletedProcess:
    procs = [cli(("bench", "mlp", "--device", "null", "--batch", "1,2,3", "--max-time", "0.2"), tmp, background=True)
             for _ in range(2)]
    results = [p.communicate(timeout=240) + (p.returncode,) for p in procs]
    assert all(code == 0 for _, _, code in results), [e for _, e, _ in results]
    return subprocess.CompletedProcess("two writers", 0, "", "")


def _both_runs_complete(tmp: Path, r) -> None:
    runs = json.loads(cli(["runs", "list", "--json"], tmp).stdout)
    assert [x["status"] for x in runs] == ["complete", "complete"] and _points(tmp) == 6


# -- the cases ---------------------------------------------------------------------------------

CASES: list[Case] = [
    # bad values: refused before any work, in one line
    Case("predict: negative samples", "values", ("predict", "mlp", "--hardware", "h100", "--samples", "-5"),
         "--samples must be a positive"),
    Case("predict: unknown execution mode", "values", ("predict", "mlp", "--hardware", "h100", "--mode", "graphs"),
         "mode 'graphs' is not one of eager, cuda-graphs, compile"),
    Case("predict: unknown host", "values", ("predict", "mlp", "--hardware", "h100", "--host-cpu", "dgx-h10"),
         "unknown host 'dgx-h10'"),
    Case("bench: cuda graphs are not measured", "values", ("bench", "mlp", "--mode", "cuda-graphs"),
         "not measured yet"),
    Case("bench: distributed inference", "values", ("bench", "mlp", "--nproc-per-node", "2"),
         "measures training steps"),
    Case("bench: unknown distributed strategy", "values", ("bench", "mlp", "--task", "train", "--nproc-per-node",
                                                            "2", "--strategy", "zero"), "ddp or fsdp"),
    Case("profile: a parametric decoder that does not divide", "values",
         ("profile", "llama:layers=2,hidden=64,heads=6"), "not divisible by heads"),
    Case("predict --devices: a layout that is not the device count", "values",
         ("predict", "gpt:layers=4,hidden=64,heads=4", "--task", "train", "--hardware", "h100", "--devices", "16",
          "--parallel", "dp=2,tp=2,pp=2"), "is not the 16 devices"),
    Case("predict --devices: more pipeline stages than layers", "values",
         ("predict", "gpt:layers=4,hidden=64,heads=4", "--task", "train", "--hardware", "h100", "--devices", "5",
          "--parallel", "pp=5"), "more stages than the 4 layers"),
    Case("fpga --style overlay: a board that carries no DPUCZDX8G", "values",
         ("fpga", "mlp", "--device", "zc706", "--style", "overlay"), "carries no current Vitis AI DPU"),
    Case("job: negative tokens", "values",
         ("job", "gpt:layers=4,hidden=64,heads=4", "--hardware", "h100", "--train-tokens", "-5"), "must be positive"),
    Case("job: an unknown region", "values",
         ("job", "gpt:layers=4,hidden=64,heads=4", "--hardware", "h100", "--train-tokens", "1e6", "--region",
          "Atlantis"), "not a known grid"),
    Case("job: build costs without a custom design", "values",
         ("job", "mlp", "--task", "infer", "--requests-per-s", "10", "--hardware", "h100", "--nre-usd", "1e6",
          "--unit-usd", "100", "--volume", "10"), "none of --hardware is one"),
    Case("advise: a deadline that is not a duration", "values",
         ("advise", "gpt:layers=4,hidden=64,heads=4", "--hardware", "h100", "--train-tokens", "1e6", "--deadline",
          "soon"), "not a positive duration"),
    Case("predict --devices: an unknown system", "values",
         ("predict", "mlp", "--task", "train", "--hardware", "h100", "--devices", "8", "--system", "dgx-h1000"),
         "unknown system 'dgx-h1000'"),
    Case("calibrate --comm: no comm runs", "values", ("calibrate", "--comm", "--system", "dgx-a100"),
         "no bench-comm runs"),
    Case("predict --task serve: zero output tokens", "values",
         ("predict", "llama-7b", "--task", "serve", "--hardware", "h100", "--output-tokens", "0"),
         "output tokens must be a positive"),
    Case("predict --task serve: a context beyond the model's positions", "values",
         ("predict", "llama-7b", "--task", "serve", "--hardware", "h100", "--input-tokens", "2000",
          "--output-tokens", "100"), "do not fit"),
    Case("predict --task serve: not a decoder", "values", ("predict", "resnet50", "--task", "serve", "--hardware",
                                                           "h100"), "runs decoders"),
    Case("predict --task serve: an unknown weight format", "values",
         ("predict", "llama-7b", "--task", "serve", "--hardware", "h100", "--weights", "int3"), "weight format"),
    Case("bench-comm: one rank", "values", ("bench-comm", "--nproc-per-node", "1"), "two ranks"),
    Case("bench-comm: unknown collective", "values", ("bench-comm", "--ops", "allreduce"), "unknown collective"),
    Case("bench-comm: bad size", "values", ("bench-comm", "--max-bytes", "1X"), "not a size like"),
    Case("predict: zero samples", "values", ("predict", "mlp", "--hardware", "h100", "--samples", "0"),
         "--samples must be a positive"),
    Case("predict: zero batch", "values", ("predict", "mlp", "--hardware", "h100", "--batch", "0"),
         "--batch must be a positive"),
    Case("predict: batch not a number", "values", ("predict", "mlp", "--hardware", "h100", "--batch", "x"),
         "not an integer"),
    Case("predict: batch list outside bench", "values", ("predict", "mlp", "--hardware", "h100", "--batch", "1,2"),
         "only `accelscope bench` sweeps"),
    Case("predict: zero sequence length", "values", ("predict", "gpt2-small", "--hardware", "h100", "--seq-len", "0"),
         "sequence length must be a positive"),
    Case("predict: unknown precision", "values", ("predict", "mlp", "--hardware", "h100", "--precision", "fp8"),
         "precision 'fp8' is not one of"),
    Case("predict: unknown task", "values", ("predict", "mlp", "--hardware", "h100", "--task", "fit"),
         "task 'fit' is not one of"),
    Case("predict: unknown optimizer", "values", ("predict", "mlp", "--hardware", "h100", "--optimizer", "lamb"),
         "optimizer 'lamb' is not one of"),
    Case("predict: unknown kind", "values", ("predict", "mlp", "--kind", "nonsense"), "unknown hardware kind"),
    Case("predict: unknown hardware", "values", ("predict", "mlp", "--hardware", "h100-sxm6"), "Did you mean"),
    Case("predict: neither hardware nor kind", "values", ("predict", "mlp"), "give either --hardware"),
    Case("predict: unknown option", "values", ("predict", "mlp", "--hardwar", "h100"), "No such option"),
    Case("predict: unknown model", "values", ("predict", "resnet5", "--hardware", "h100"), "Did you mean 'resnet50'"),
    Case("profile: sequence length for an image model", "values", ("profile", "resnet50", "--seq-len", "128"),
         "use --image-size, not --seq-len"),
    Case("profile: user model without an input shape", "values", ("profile", "usermod:f"), "--input-shape",
         setup=_user_model),
    Case("profile: input shape not numbers", "values", ("profile", "usermod:f", "--input-shape", "3,a"),
         "not a list of integers", setup=_user_model),
    Case("profile: inputs that do not fit the model", "values", ("profile", "usermod:f", "--input-shape", "5"),
         "inputs of shape (1, 5)", setup=_user_model),
    Case("explore: unknown kind", "values", ("explore", "mlp", "--kind", "nonsense", "--device", "cpu"),
         "unknown hardware kind"),
    Case("explore: zero time cap", "values", ("explore", "mlp", "--max-time", "0", "--device", "cpu"),
         "must be positive"),
    Case("bench: zero threads", "values", ("bench", "mlp", "--threads", "0"), "threads must be at least 1"),
    Case("bench: negative time cap", "values", ("bench", "mlp", "--max-time", "-1"), "max time must be positive"),
    Case("bench: unknown device", "values", ("bench", "mlp", "--device", "gpu"), "Valid device names"),
    Case("bench: precision auto", "values", ("bench", "mlp", "--precision", "auto"), "needs a concrete precision"),
    Case("fpga: a DPU the board cannot hold", "values",
         ("fpga", "mlp", "--device", "zcu104", "--style", "overlay", "--cores", "4", "--dpu", "B4096"),
         "does not fit (URAM"),
    Case("fpga: zero cores", "values", ("fpga", "mlp", "--device", "zcu102", "--style", "overlay", "--cores", "0"),
         "--cores must be at least 1"),
    Case("fpga: zero reuse factor", "values", ("fpga", "mlp", "--device", "zc706", "--reuse-factor", "0"),
         "--reuse-factor must be positive"),
    Case("fpga: negative clock", "values", ("fpga", "mlp", "--device", "zc706", "--clock-mhz", "-5"),
         "must be positive"),
    Case("fpga: negative board power", "values", ("fpga", "mlp", "--device", "zc706", "--power-w", "-1"),
         "power must be positive"),
    Case("fpga: zero target frame rate", "values", ("fpga", "mlp", "--device", "zc706", "--target-fps", "0"),
         "--target-fps must be positive"),
    Case("fpga: bits not W,A", "values", ("fpga", "mlp", "--device", "zc706", "--bits", "8"), "expected W,A"),
    Case("fpga: a GPU is not an FPGA", "values", ("fpga", "mlp", "--device", "h100"), "needs an FPGA"),
    Case("simulate: array not ROWSxCOLS", "values", ("simulate", "mlp", "--array", "32"), "expected ROWSxCOLS"),
    Case("simulate: node outside 7-65 nm", "values", ("simulate", "mlp", "--node", "3"), "outside 7-65 nm"),
    Case("simulate: zero clock", "values", ("simulate", "mlp", "--clock-hz", "0"), "clock_hz must be positive"),
    Case("simulate: two scratchpad sizes", "values", ("simulate", "mlp", "--sram-kib", "64,64"), "three sizes"),
    Case("simulate: unknown dataflow", "values", ("simulate", "mlp", "--dataflow", "xs"), "dataflow 'xs'"),
    Case("simulate: two DRAM bandwidths", "values", ("simulate", "mlp", "--dram-bw", "10,10"), "three figures"),
    Case("bench: FP8 training is predicted only", "values", ("bench", "mlp", "--precision", "amp-fp8"),
         "predicted, not measured"),
    Case("simulate rs: a SCALE-Sim scratchpad option", "values",
         ("simulate", "mlp", "--dataflow", "rs", "--sram-kib", "64,64,64"), "--sram-kib describe(s) a SCALE-Sim"),
    Case("simulate rs: a filter taller than the array", "values",
         ("simulate", "cnn", "--dataflow", "rs", "--array", "2x14"), "taller than the 2-row array"),
    Case("simulate: zero DRAM bandwidth", "values", ("simulate", "mlp", "--dram-bw", "0,10,10"),
         "three positive integers"),
    Case("dse: empty axis", "values", ("dse", "mlp", "--rows", ""), "is empty"),
    Case("dse: unknown method", "values", ("dse", "mlp", "--method", "fast"), "--method 'fast'"),
    Case("dse: unknown pick", "values", ("dse", "mlp", "--pick", "best"), "--pick 'best'"),
    Case("calibrate: nothing measured", "values", ("calibrate", "--device", "cuda:0"), "no successful measurements"),
    Case("runs: run that does not exist", "values", ("runs", "show", "999"), "no run 999", setup=_seeded_store,
         check=_keeps_points(2)),
    Case("runs: reference that is not a run", "values", ("runs", "show", "first"), "not a run id",
         setup=_seeded_store),
    Case("runs: export format", "values", ("runs", "export", "--format", "xml"), "format 'xml'",
         setup=_seeded_store),
    Case("runs: compare with a missing run", "values", ("runs", "compare", "1", "7"), "no run 7",
         setup=_seeded_store, check=_keeps_points(2)),
    # bad files
    Case("hardware: file that is not TOML", "files", ("hardware", "show", "{tmp}/bad.toml"), "not valid TOML",
         setup=_write("bad.toml", 'kind = "gpu"\nvendor = \n')),
    Case("hardware: unknown key in a file", "files", ("hardware", "show", "{tmp}/x1.toml"), "mem_bytes",
         setup=_write("x1.toml", 'kind = "gpu"\nvendor = "a"\ndisplay_name = "b"\n[memory]\nmem_gb = 1\n')),
    Case("hardware: directory that does not exist", "files", ("predict", "mlp", "--kind", "gpu", "--hardware-path",
                                                              "{tmp}/nowhere"), "not a directory"),
    Case("simulate: missing topology", "files", ("simulate", "--topology", "{tmp}/nope.csv"), "nope.csv"),
    Case("simulate: config that is not SCALE-Sim's", "files", ("simulate", "--config", "{tmp}/bad.cfg",
                                                               "--topology", "{tmp}/topo.csv"), "ArrayHeight",
         setup=lambda tmp: (_topology(tmp), (tmp / "bad.cfg").write_text("[architecture_presets]\nx = 1\n"))),
    Case("fpga: layer file with unknown keys", "files", ("fpga", "{tmp}/net.json", "--device", "zc706"),
         "unknown keys", setup=_write("net.json", json.dumps({"layers": [{"kind": "dense", "inputs": 3}]}))),
    Case("fpga: fold file that does not exist", "files", ("fpga", "mlp", "--device", "zc706", "--fold",
                                                          "{tmp}/fold.json"), "fold.json"),
    # outputs that exist
    Case("simulate: --out onto a file", "outputs", ("simulate", "--topology", "{tmp}/topo.csv", "--out",
                                                    "{tmp}/topo.csv"), "is a file", setup=_snapshot(_topology, "topo.csv"),
         check=_untouched("topo.csv")),
    Case("simulate: --out over reports", "outputs", ("simulate", "--topology", "{tmp}/topo.csv", "--out",
                                                     "{tmp}/reports"), "--force", setup=_existing_reports,
         check=lambda tmp, r: _untouched("reports/COMPUTE_REPORT.csv")(tmp, r)),
    Case("simulate: --save-design over a file", "outputs", ("simulate", "--topology", "{tmp}/topo.csv",
                                                            "--save-design", "{tmp}/topo.toml"), "exists",
         setup=_snapshot(lambda tmp: (_topology(tmp), (tmp / "topo.toml").write_text("mine\n")), "topo.toml"),
         check=_untouched("topo.toml")),
    Case("runs: export over a file", "outputs", ("runs", "export", "-o", "{tmp}/out.json"), "--force",
         setup=_snapshot(lambda tmp: (_seeded_store(tmp), (tmp / "out.json").write_text("mine\n")), "out.json"),
         check=_untouched("out.json")),
    Case("runs: export into a missing directory", "outputs", ("runs", "export", "-o", "{tmp}/no/dir/out.json"),
         "does not exist", setup=_seeded_store, check=_keeps_points(2)),
    # report
    Case("report: a run that does not exist", "values", ("report", "999", "--out", "{tmp}/r.html"), "no run 999",
         setup=_seeded_store, check=lambda tmp, r: not (tmp / "r.html").exists() or _fail("a report was written")),
    Case("report: an empty store", "values", ("report", "--out", "{tmp}/r.html"), "no runs to report",
         check=lambda tmp, r: not (tmp / "r.html").exists() or _fail("a report was written")),
    Case("report: over a file that is not a report", "outputs", ("report", "--out", "{tmp}/notes.html"),
         "not an accelscope report", setup=_snapshot(lambda tmp: (_seeded_store(tmp), _write("notes.html", "mine")(tmp)),
                                                     "notes.html"), check=_untouched("notes.html")),
    Case("report: into a missing directory", "outputs", ("report", "--out", "{tmp}/no/dir/r.html"), "does not exist",
         setup=_seeded_store),
    Case("explore --report into a missing directory", "outputs",
         ("explore", "mlp", "--device", "null", "--report", "{tmp}/no/dir/r.html"), "does not exist",
         check=lambda tmp, r: not (tmp / STORE).exists() or _fail("explore ran before refusing")),
    # stores
    Case("store: another program's SQLite file", "stores", ("runs", "list"), "another program",
         setup=_snapshot(_foreign_sqlite, "other.sqlite"), store="other.sqlite", check=_untouched("other.sqlite")),
    Case("store: a file that is not SQLite", "stores", ("runs", "list"), "not an SQLite database",
         setup=_snapshot(_write("notes.txt", "my notes\n"), "notes.txt"), store="notes.txt",
         check=_untouched("notes.txt")),
    Case("store: a directory", "stores", ("runs", "list"), "is a directory", setup=lambda tmp: (tmp / "d").mkdir(),
         store="d"),
    Case("store: a URL scheme not supported", "stores", ("runs", "list", "--store", "mysql://u:p@localhost/db"),
         "not supported"),
    Case("store: an unreachable server", "stores",
         ("bench", "mlp", "--device", "null", "--max-time", "0.1", "--store", "postgresql://u:p@127.0.0.1:1/db"),
         "cannot open the results store",
         check=lambda tmp, r: not (tmp / STORE).exists() or _fail("a local store was made instead")),
    Case("store: a newer accelscope's", "stores", ("runs", "list"), "newer than this accelscope", setup=_newer_store,
         store="newer.sqlite"),
    Case("store: read-only, written to", "stores", ("bench", "mlp", "--device", "null", "--max-time", "0.1"),
         "read-only", setup=_read_only_store, check=_keeps_points(2), teardown=_writable_again),
    Case("store: read-only, read", "stores", ("runs", "show", "latest", "--json"), "", code=0, one_line=False,
         setup=_read_only_store, check=lambda tmp, r: json.loads(r.stdout)["n_points"] == 2 or _fail("points"),
         teardown=_writable_again),
    # signals: exit 130 (SIGKILL: the killed process's code), completed points kept
    Case("signal: Ctrl-C during a sweep", "signals", match="points that completed are kept", code=130,
         drive=_signal_after_first_point(signal.SIGINT), check=_interrupted_run_kept("interrupted")),
    Case("signal: SIGTERM during a sweep", "signals", match="points that completed are kept", code=130,
         drive=_signal_after_first_point(signal.SIGTERM), check=_interrupted_run_kept("interrupted")),
    Case("signal: SIGKILL during a sweep, then the next open", "signals", code=-signal.SIGKILL, one_line=False,
         drive=_signal_after_first_point(signal.SIGKILL), check=_interrupted_run_kept("killed")),
    # concurrent writers
    Case("concurrency: two sweeps into one store", "concurrency", code=0, one_line=False, drive=_two_writers,
         check=_both_runs_complete),
]


def integrity_ok(path: Path) -> bool:
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def _fail(what: str) -> None:
    raise AssertionError(what)


def run_case(case: Case, tmp: Path) -> None:
    """Run one case in ``tmp``; AssertionError says what went wrong."""
    try:
        _run_case(case, tmp)
    finally:
        if case.teardown is not None:
            case.teardown(tmp)


def _run_case(case: Case, tmp: Path) -> None:
    if case.setup is not None:
        case.setup(tmp)
    r = case.drive(tmp) if case.drive is not None else cli(case.args, tmp, case.store)
    err = r.stderr or ""
    assert r.returncode == case.code, f"exit code {r.returncode}, expected {case.code}; stderr: {err[-800:]}"
    assert "Traceback" not in err, err[-2000:]
    if case.one_line:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, f"{len(lines)} lines on stderr: {err[-800:]}"
    assert case.match in err, f"{case.match!r} not in {err[-800:]!r}"
    store = tmp / case.store
    if store.is_file() and store.read_bytes()[:16] == b"SQLite format 3\x00":
        assert integrity_ok(store), "the store failed PRAGMA integrity_check"
    if case.check is not None:
        case.check(tmp, r)
