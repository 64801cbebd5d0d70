"""`accelscope hardware list|show` through the CLI entry point and typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import accelscope.cli.hardware  # noqa: F401  (registers the sub-app)
from accelscope.cli.main import app
from accelscope.hardware.schema import KINDS

runner = CliRunner()


def _invoke(*args):
    result = runner.invoke(app, list(args))
    return result


def test_list_json_has_30_plus_devices_of_all_kinds(monkeypatch):
    monkeypatch.delenv("ACCELSCOPE_HARDWARE_PATH", raising=False)
    result = _invoke("hardware", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) >= 30
    assert {r["kind"] for r in rows} == set(KINDS)
    for r in rows:
        assert r["name"] and r["kind"] and r["vendor"]
    h100 = next(r for r in rows if r["name"] == "h100-sxm")
    assert h100["peak_bf16_flops_per_s"] == pytest.approx(989.4e12)
    assert h100["mem_bytes"] == 80_000_000_000
    assert h100["cheapest_usd_per_device_hour"] == pytest.approx(2.95)


def test_list_kind_filters():
    result = _invoke("hardware", "list", "--kind", "fpga", "--json")
    rows = json.loads(result.output)
    assert rows and {r["kind"] for r in rows} == {"fpga"}


def test_list_table_renders():
    result = _invoke("hardware", "list", "--kind", "tpu")
    assert result.exit_code == 0 and "tpu" in result.output


def test_show_json_has_every_figure_with_its_source():
    result = _invoke("hardware", "show", "a100-80gb", "--json")
    assert result.exit_code == 0, result.output
    d = json.loads(result.output)
    assert d["name"] == "a100-sxm4-80gb"
    assert d["dense_peaks"]["bf16"]["value"] == pytest.approx(312e12)
    assert d["dense_peaks"]["bf16"]["source"].startswith("https://")
    assert d["dense_peaks"]["fp8"]["supported"] is False
    assert d["compute_units"]["value"] == 108


def test_show_table_shows_sources_and_stale_prices():
    result = _invoke("hardware", "show", "h100")
    assert result.exit_code == 0
    assert "glennklockwood" in result.output and "STALE" in result.output


def test_unknown_name_through_the_entry_point(capsys):
    from accelscope.cli.main import run

    with pytest.raises(SystemExit) as exc:
        run(["hardware", "show", "h100-sxm6"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown hardware 'h100-sxm6'" in err and "h100-sxm" in err
