"""The architecture's layers hold (pyproject's import-linter contract), and the contract bites."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    return subprocess.run([exe], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_the_layers_contract_names_the_layers_and_is_kept():
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    layers = [layer.replace(" ", "") for layer in contract["layers"]]
    assert layers[:7] == ["accelscope.cli", "accelscope.api", "accelscope.jobs", "accelscope.store|accelscope.report",
                          "accelscope.cost", "accelscope.models|accelscope.measure",
                          "accelscope.workload|accelscope.hardware"]
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "1 kept, 0 broken" in r.stdout


def test_a_wrong_import_breaks_the_contract(tmp_path):
    """A copy of the package where the hardware layer imports a performance model fails."""
    shutil.copytree(ROOT / "src" / "accelscope", tmp_path / "accelscope",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    detect = tmp_path / "accelscope" / "hardware" / "detect.py"
    detect.write_text(detect.read_text() + "\nfrom accelscope.models import roofline  # noqa\n")
    r = _lint(tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)})
    assert r.returncode != 0
    assert "accelscope.hardware is not allowed to import accelscope.models" in r.stdout
