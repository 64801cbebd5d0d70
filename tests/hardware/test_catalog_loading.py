"""Validation of broken files, user directories, overrides and name lookup."""

from __future__ import annotations

import textwrap

import pytest

from accelscope.errors import AccelscopeError, CatalogError, UnknownNameError
from accelscope.hardware.catalog import ENV_VAR, Catalog, list_hardware, load_hardware, load_spec_file

GOOD = """\
kind = "gpu"
vendor = "Acme"
display_name = "Acme X1"
aliases = ["x1"]

[sources]
ds = "https://example.com/x1-datasheet"

[peak_flops_per_s]
fp32 = { value = 20e12, source = "ds" }
bf16 = { value = 100e12, source = "ds" }
tf32 = { unsupported = "no TF32" }

[memory]
mem_bytes = { value = 24e9, source = "ds" }
mem_bandwidth_bytes_per_s = { value = 1e12, source = "ds" }

[power]
tdp_w = { value = 300, source = "ds" }

[[cloud]]
provider = "Acme Cloud"
instance = "x1.large"
devices_per_instance = 2
usd_per_hour = 3.0
pricing = "on-demand"
date = "2026-03"
source = "ds"
"""


def _write(tmp_path, text, name="acme-x1.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_good_user_file_loads_with_sources_resolved(tmp_path):
    spec = load_spec_file(_write(tmp_path, GOOD))
    assert spec.name == "acme-x1" and spec.origin == "user"
    assert spec.dense_peaks.fp32.source == "https://example.com/x1-datasheet"
    assert spec.peak("tf32").fallback and spec.peak_flops_per_s("tf32") == 20e12
    assert spec.mem_bytes.value == 24_000_000_000 and isinstance(spec.mem_bytes.value, int)
    assert spec.cloud[0].usd_per_device_hour == 1.5


@pytest.mark.parametrize(
    "old, new, field, expected",
    [
        # missing source on a known figure
        ('fp32 = { value = 20e12, source = "ds" }', "fp32 = { value = 20e12 }",
         "peak_flops_per_s.fp32.source", "a source"),
        # wrong unit: GB/s instead of bytes/s
        ("mem_bandwidth_bytes_per_s = { value = 1e12,", "mem_bandwidth_bytes_per_s = { value = 1000,",
         "memory.mem_bandwidth_bytes_per_s.value", "bytes/s"),
        # wrong type: a string with a unit
        ("tdp_w = { value = 300,", 'tdp_w = { value = "300 W",', "power.tdp_w.value", "a number in W"),
        # negative number
        ("fp32 = { value = 20e12,", "fp32 = { value = -20e12,", "peak_flops_per_s.fp32.value",
         "non-negative"),
        # a field name without its unit
        ("mem_bytes = { value = 24e9", "mem_gb = { value = 24", "memory.mem_gb", "known keys"),
        # price without a date
        ('date = "2026-03"\n', "", "cloud[0].date", "required"),
        # a bad date
        ('date = "2026-03"', 'date = "March 2026"', "cloud[0].date", "YYYY"),
        # unknown source key (a typo)
        ('bf16 = { value = 100e12, source = "ds" }', 'bf16 = { value = 100e12, source = "dss" }',
         "peak_flops_per_s.bf16.source", "[sources] keys"),
        # bad kind
        ('kind = "gpu"', 'kind = "npu"', "kind", "cpu, gpu, tpu, asic, fpga"),
        # fractional count
        ("[power]", "[compute]\ncompute_units = { value = 1.5, source = \"ds\" }\n\n[power]",
         "compute.compute_units.value", "whole number"),
    ],
)
def test_broken_files_name_the_file_and_the_field(tmp_path, old, new, field, expected):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(CatalogError) as exc:
        load_spec_file(path)
    msg = str(exc.value)
    assert str(path) in msg
    assert f"field '{field}'" in msg
    assert expected in msg
    assert isinstance(exc.value, AccelscopeError)


def test_invalid_toml_names_the_file(tmp_path):
    path = _write(tmp_path, "kind = \n")
    with pytest.raises(CatalogError, match="not valid TOML") as exc:
        load_spec_file(path)
    assert str(path) in str(exc.value)


def test_user_directory_adds_devices_via_argument_and_env(tmp_path, monkeypatch):
    _write(tmp_path, GOOD)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert load_hardware("X1", paths=[tmp_path]).name == "acme-x1"
    assert "acme-x1" in [s.name for s in list_hardware("gpu", paths=[tmp_path])]
    with pytest.raises(UnknownNameError):
        load_hardware("x1")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    spec = load_hardware("acme x1")
    assert spec.origin == "user" and spec.peak_flops_per_s("bf16") == 100e12
    assert load_hardware("h100").origin == "builtin"  # built-ins stay


def test_user_file_with_a_builtin_name_needs_override(tmp_path):
    _write(tmp_path, GOOD, name="t4.toml")
    with pytest.raises(CatalogError, match="override = true") as exc:
        Catalog.load([tmp_path], use_env=False)
    assert "t4.toml" in str(exc.value)
    _write(tmp_path, "override = true\n" + GOOD, name="t4.toml")
    spec = load_hardware("t4", paths=[tmp_path], use_env=False)
    assert spec.origin == "user" and spec.display_name == "Acme X1"


def test_user_alias_clashing_with_a_builtin_alias_is_an_error(tmp_path):
    _write(tmp_path, GOOD.replace('aliases = ["x1"]', 'aliases = ["h100"]'))
    with pytest.raises(CatalogError, match="'h100' is already used by 'h100-sxm'"):
        Catalog.load([tmp_path], use_env=False)


def test_override_without_a_builtin_is_an_error(tmp_path):
    _write(tmp_path, "override = true\n" + GOOD)
    with pytest.raises(CatalogError, match="field 'override'"):
        Catalog.load([tmp_path], use_env=False)


def test_missing_user_directory_is_an_error(tmp_path):
    with pytest.raises(CatalogError, match="not a directory"):
        list_hardware(paths=[tmp_path / "nope"], use_env=False)


def test_unknown_name_lists_valid_names_and_close_matches():
    with pytest.raises(UnknownNameError) as exc:
        load_hardware("h100-sxm6", use_env=False)
    msg = str(exc.value)
    assert "Did you mean" in msg and "'h100-sxm'" in msg
    assert "t4" in msg and "tpu-v1" in msg  # the valid names are listed
    assert isinstance(exc.value, KeyError)


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(UnknownNameError, match="asic"):
        list_hardware("npu", use_env=False)


def test_lookup_is_case_and_separator_insensitive():
    for name in ("H100", "h100_sxm5", "NVIDIA H100 SXM5 80GB", " h100-SXM "):
        assert load_hardware(name, use_env=False).name == "h100-sxm"


def test_a_toml_path_loads_directly(tmp_path):
    path = _write(tmp_path, GOOD)
    assert load_hardware(str(path)).name == "acme-x1"
