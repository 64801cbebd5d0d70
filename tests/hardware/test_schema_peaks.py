"""Peak lookup per accelscope precision, with its documented fallback."""

from __future__ import annotations

import pytest

from accelscope.errors import ConfigError
from accelscope.hardware.catalog import load_hardware
from accelscope.hardware.schema import PRECISIONS, Figure, HardwareSpec, PeakTable


def _spec(**peaks):
    return HardwareSpec(name="x", kind="gpu", vendor="v", display_name="X", dense_peaks=PeakTable(**peaks))


@pytest.mark.parametrize(
    "precision, expected",
    [("fp32", 66.9e12), ("tf32", 494.7e12), ("bf16", 989.4e12), ("fp16", 989.4e12),
     ("amp-fp16", 989.4e12), ("amp-bf16", 989.4e12), ("fp8", 1978.9e12), ("int8", 1978.9e12),
     ("fp64", 33.5e12)],
)
def test_h100_peak_per_precision(precision, expected):
    peak = load_hardware("h100", use_env=False).peak(precision)
    assert peak.flops_per_s == pytest.approx(expected)
    assert not peak.fallback and peak.source.startswith("https://")


def test_amp_maps_to_the_16_bit_tensor_column_and_says_so():
    peak = load_hardware("a100", use_env=False).peak("amp-fp16")
    assert peak.column == "fp16" and peak.flops_per_s == pytest.approx(312e12)
    assert "autocast" in peak.note


def test_tf32_without_tf32_falls_back_to_fp32_with_provenance():
    t4 = load_hardware("t4", use_env=False)
    peak = t4.peak("tf32")
    assert peak.fallback and peak.column == "fp32"
    assert peak.flops_per_s == pytest.approx(8.1e12)
    assert "fp32 rate" in peak.note


def test_unsupported_bf16_is_none_with_a_reason_not_a_guess():
    peak = load_hardware("v100", use_env=False).peak("amp-bf16")
    assert peak.flops_per_s is None and not peak.fallback
    assert "not supported" in peak.reason


def test_unknown_tf32_does_not_fall_back():
    spec = _spec(fp32=Figure(value=1e13, source="s"), tf32=Figure(reason="not found"))
    peak = spec.peak("tf32")
    assert peak.flops_per_s is None and "unknown" in peak.reason and not peak.fallback


def test_tf32_fallback_when_fp32_unknown_is_none():
    spec = _spec(tf32=Figure(reason="no tf32", supported=False))
    peak = spec.peak("tf32")
    assert peak.fallback and peak.flops_per_s is None and "fp32 peak unknown" in peak.reason


def test_neuron_tf32_runs_at_bf16_rate_as_documented():
    trn = load_hardware("trainium", use_env=False)
    assert trn.peak_flops_per_s("tf32") == trn.peak_flops_per_s("bf16") == pytest.approx(190e12)


def test_every_precision_answers_on_every_device():
    from accelscope.hardware.catalog import list_hardware

    for spec in list_hardware(use_env=False):
        for p in PRECISIONS:
            peak = spec.peak(p)
            assert (peak.flops_per_s is None) == (peak.reason is not None), (spec.name, p)
            if peak.flops_per_s is not None:
                assert peak.flops_per_s > 0 and peak.source


def test_unknown_precision_is_a_config_error_listing_the_valid_ones():
    with pytest.raises(ConfigError, match="amp-bf16"):
        load_hardware("h100", use_env=False).peak("fp4")


def test_ridge_point():
    h100 = load_hardware("h100", use_env=False)
    assert h100.ridge_point_flops_per_byte("bf16") == pytest.approx(989.4e12 / 3.35e12)
    assert load_hardware("tpu-v5e", use_env=False).ridge_point_flops_per_byte("fp32") is None


def test_specs_are_frozen():
    spec = load_hardware("t4", use_env=False)
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
