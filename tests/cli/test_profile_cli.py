import json
import subprocess
import sys

import pytest

from accelscope.cli.main import run


def _run(args, capsys):
    with pytest.raises(SystemExit) as e:
        run(args)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_profile_json_resnet50(capsys):
    code, out, _ = _run(["profile", "resnet50", "--task", "infer", "--batch", "1", "--json"], capsys)
    assert code in (0, None)
    d = json.loads(out)
    for key in ("model", "task", "batch_size", "precision", "params", "flops", "flops_by_phase",
                "flops_by_category", "bytes_read", "bytes_written", "ops", "uncovered_ops"):
        assert key in d
    assert d["flops"] == pytest.approx(8.18e9, rel=0.01)
    assert d["params"] == 25_557_032
    assert d["bytes_read"] > 0 and d["bytes_written"] > 0
    assert sum(op["flops"] * op["count"] for op in d["ops"]) == d["total_flops"]


def test_profile_table_has_categories_phases_and_top_ops(capsys):
    code, out, _ = _run(["profile", "mlp", "--task", "train", "--optimizer", "sgd"], capsys)
    assert code in (0, None)
    for word in ("matmul", "optimizer", "forward", "backward", "top 10 ops", "total"):
        assert word in out


def test_unknown_model_exits_2_with_suggestions(capsys):
    code, out, err = _run(["profile", "gpt2-smal"], capsys)
    assert code == 2
    assert "gpt2-small" in err and "Traceback" not in err


def test_bad_inputs_exit_2_and_debug_shows_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "m2.py").write_text("import torch\ndef f():\n    return torch.nn.Linear(4, 2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, _, err = _run(["profile", "m2:f", "--input-shape", "5"], capsys)
    assert code == 2 and "inputs of shape (1, 5)" in err
    from accelscope.errors import WorkloadError
    with pytest.raises(WorkloadError):
        run(["--debug", "profile", "m2:f", "--input-shape", "5"])


def test_usage_error_exits_2(capsys):
    code, _, _ = _run(["profile", "mlp", "--precision"], capsys)
    assert code == 2


def test_models_lists_the_zoo(capsys):
    code, out, _ = _run(["models", "--json"], capsys)
    names = {m["name"] for m in json.loads(out)}
    assert {"resnet50", "llama-70b", "lstm-lm"} <= names


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "accelscope", "profile", "cnn", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model"] == "cnn"
