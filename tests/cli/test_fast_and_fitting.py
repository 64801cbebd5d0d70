"""Commands that neither trace nor measure import no torch, and tables fit 80 columns whole."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from accelscope.hardware.catalog import list_hardware

#: Runs the CLI in a fresh interpreter and fails if torch was imported.
RUNNER = textwrap.dedent("""
    import sys
    from accelscope.cli.main import run
    check, args = sys.argv[1] == "no-torch", sys.argv[2:]
    try:
        run(args)
    except SystemExit as e:
        code = e.code or 0
    else:
        code = 0
    assert not check or "torch" not in sys.modules, "torch was imported"
    sys.exit(code)
""")


def _cli(args, tmp_path, columns=80, no_torch=True):
    """The command's output when piped (80 columns); it fails if it imported torch (``no_torch``)."""
    env = dict(os.environ, COLUMNS=str(columns), ACCELSCOPE_STORE=str(tmp_path / "s.sqlite"))
    env.pop("TERM", None)
    return subprocess.run([sys.executable, "-c", RUNNER, "no-torch" if no_torch else "-", *args],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def layer_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    (d / "net.json").write_text(json.dumps({"layers": [{"name": "fc1", "kind": "dense", "in": 16, "out": 64},
                                                       {"name": "fc2", "kind": "dense", "in": 64, "out": 5}]}))
    (d / "topo.csv").write_text("Layer, M, N, K,\nfc1, 64, 128, 256,\nfc2, 64, 10, 128,\n")
    return d


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["--help"], ["models"], ["models", "--json"], ["hardware", "list"], ["hardware", "list", "--json"],
    ["hardware", "show", "h100"], ["runs", "list"], ["predict", "--help"],
])
def test_commands_that_neither_trace_nor_measure_import_no_torch(args, tmp_path):
    r = _cli(args, tmp_path)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_simulate_dse_and_fpga_on_files_import_no_torch(layer_file, tmp_path):
    for args in (["simulate", "--topology", str(layer_file / "topo.csv"), "--array", "16x16"],
                 ["simulate", "--topology", str(layer_file / "topo.csv"), "--array", "16x16",
                  "--sram-kib", "1,1,1", "--dram-bw", "4,4,4"],
                 ["dse", "--topology", str(layer_file / "topo.csv"), "--rows", "8,16", "--cols", "8,16"],
                 ["fpga", str(layer_file / "net.json"), "--device", "zc706", "--reuse-factor", "4"]):
        r = _cli(args, tmp_path)
        assert r.returncode == 0, (args, r.stderr)
        if "--dram-bw" in args:  # USER mode: 4 words per cycle from 1 KiB buffers stall
            stalls = int(r.stdout.split("stalls ")[1].split(")")[0].replace(",", ""))
            assert stalls > 0, r.stdout


@pytest.mark.slow
def test_a_cached_predict_imports_no_torch(tmp_path):
    args = ["predict", "mlp", "--batch", "4", "--hardware", "h100-sxm", "--json"]
    first = _cli(args, tmp_path, no_torch=False)
    assert first.returncode == 0, first.stderr
    second = _cli(args, tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)  # the cached profile predicts the same


def _fits(text, width=80):
    long = [line for line in text.splitlines() if len(line.rstrip()) > width]
    return long


@pytest.mark.slow
def test_hardware_list_fits_80_columns_with_every_name_whole(tmp_path):
    r = _cli(["hardware", "list"], tmp_path)
    assert r.returncode == 0 and not _fits(r.stdout), _fits(r.stdout)
    rows = {line.split()[0] for line in r.stdout.splitlines() if line.strip()}
    assert {s.name for s in list_hardware()} <= rows
    assert "(--wide shows the columns left out" in r.stdout
    wide = _cli(["hardware", "list", "--wide"], tmp_path)
    assert "vendor" in wide.stdout and "NVIDIA" in wide.stdout and "vendor" not in r.stdout.split("\n")[3]


@pytest.mark.slow
def test_predict_and_fpga_tables_fit_80_columns(layer_file, tmp_path):
    r = _cli(["predict", "mlp", "--batch", "8", "--kind", "gpu,tpu"], tmp_path, no_torch=False)
    assert r.returncode == 0, r.stderr
    table = r.stdout.split("performance models:")[0]
    assert not _fits(table), _fits(table)
    for spec in list_hardware("gpu"):
        if spec.name not in ("apple-m1", "apple-m3-max"):  # no estimate: figures missing
            assert f"  {spec.name} " in table, spec.name
    f = _cli(["fpga", str(layer_file / "net.json"), "--device", "zc706", "--reuse-factor", "4"], tmp_path)
    assert f.returncode == 0 and "fc1" in f.stdout
