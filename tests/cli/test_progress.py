"""Long commands show a progress bar on a terminal, and nothing on a pipe, with --json or --quiet."""

import os
import pty
import subprocess
import sys

import pytest

DSE = ("dse", "mlp", "--rows", "8,16,32", "--cols", "8,16", "--no-store")


def _stderr(args, *, terminal: bool, tmp_path) -> bytes:
    env = dict(os.environ, COLUMNS="100", TERM="xterm", ACCELSCOPE_STORE=str(tmp_path / "s.sqlite"))
    cmd = [sys.executable, "-m", "accelscope", *args]
    if not terminal:
        return subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=True).stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        out += chunk
    proc.communicate(timeout=300)
    os.close(master)
    assert proc.returncode == 0
    return out


@pytest.mark.parametrize("args", [DSE, ("hardware", "list")])
def test_a_pipe_gets_no_progress(args, tmp_path):
    assert "━".encode() not in _stderr(args, terminal=False, tmp_path=tmp_path)


def test_a_terminal_gets_a_bar_and_quiet_or_json_silence_it(tmp_path):
    shown = _stderr(DSE, terminal=True, tmp_path=tmp_path)
    assert "━".encode() in shown and b"18/18" in shown  # a unit per array shape and dataflow: 3 x 2 x 3
    for flag in ("--quiet", "--json"):
        assert "━".encode() not in _stderr((*DSE, flag), terminal=True, tmp_path=tmp_path)


SEARCH = ("predict", "gpt:layers=4,hidden=256,heads=8", "--hardware", "h100-sxm", "--devices", "4", "--micro-batch",
          "1", "--search", "--task", "train")


def test_a_layout_search_counts_its_layouts(tmp_path):
    import json

    found = json.loads(subprocess.run([sys.executable, "-m", "accelscope", *SEARCH, "--json"], capture_output=True,
                                      check=True, timeout=300).stdout)["search"]["h100-sxm"]["candidates"]
    shown = _stderr(SEARCH, terminal=True, tmp_path=tmp_path)
    assert found > 20 and "━".encode() in shown and f"{found}/{found}".encode() in shown and b"h100-sxm (1/1)" in shown
    assert "━".encode() not in _stderr((*SEARCH, "--quiet"), terminal=True, tmp_path=tmp_path)
