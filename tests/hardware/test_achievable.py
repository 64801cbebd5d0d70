"""Achievable ceilings: every GPU's, sourced or derived by the stated rule, never above its datasheet."""

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

import accelscope.cli.hardware  # noqa: F401  (registers the sub-app)
from accelscope.cli.main import app
from accelscope.hardware.achievable import BANDWIDTH, ceiling, ceilings
from accelscope.hardware.catalog import builtin_specs, load_hardware
from accelscope.hardware.schema import AchievableTable, PEAK_COLUMNS

GPUS = [s for s in builtin_specs() if s.kind == "gpu"]


def test_the_catalog_lists_at_least_35_gpus():
    out = CliRunner().invoke(app, ["hardware", "list", "--kind", "gpu", "--json"])
    assert out.exit_code == 0, out.output
    names = {d["name"] for d in json.loads(out.output)}
    assert len(names) >= 35
    # the cards people own, and the datacenter variants
    for name in ("rtx-3090", "rtx-4090", "rtx-5090", "a10", "a40", "rtx-a6000", "rtx-6000-ada", "l40",
                 "quadro-rtx-8000", "titan-rtx", "gtx-1080-ti", "v100-pcie-16gb", "a100-pcie-40gb",
                 "a100-pcie-80gb", "h100-nvl", "mi210", "mi325x", "gb200"):
        assert name in names


@pytest.mark.parametrize("spec", GPUS, ids=lambda s: s.name)
def test_every_ceiling_is_measured_with_a_source_or_derived_by_the_rule(spec):
    for column, fig in ceilings(spec, GPUS).items():
        peak = spec.dense_peaks.column(column).number if column in PEAK_COLUMNS else (
            spec.mem_bandwidth_bytes_per_s.number if column == BANDWIDTH else None)
        if column in ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", BANDWIDTH) and peak:
            assert fig.known, f"{spec.name} {column}: a datasheet figure but no ceiling ({fig.reason})"
        if not fig.known:
            assert fig.reason  # unknown says why (no FP64 GEMM is measured anywhere in the catalog)
            continue
        assert fig.source, f"{spec.name} {column}: no source"
        own = getattr(spec.measured_ceilings, column)
        if own.known:  # measured: the file's own figure, or the datasheet's where it measured above it
            assert fig is own or (fig.number == peak < own.number and "above" in fig.derived)
        else:
            assert fig.derived and "median measured" in fig.derived or "median of the measured" in fig.derived
        if peak:
            assert 0.3 * peak < fig.number <= peak, f"{spec.name} {column}: {fig.number:.3g} vs datasheet {peak:.3g}"


def test_a_measured_ceiling_is_used_as_published():
    h100 = load_hardware("h100-sxm")
    assert ceiling(h100, "bf16", GPUS).number == pytest.approx(794.5e12)
    assert ceiling(h100, "bf16", GPUS).source.startswith("https://github.com/stas00/ml-engineering")
    a100 = load_hardware("a100-sxm4-80gb")
    assert ceiling(a100, BANDWIDTH, GPUS).number == pytest.approx(1759e9)


def test_derivation_takes_the_device_itself_then_the_same_architecture_then_the_memory_type():
    import statistics

    a6000 = load_hardware("rtx-a6000")  # an Ampere card nobody measured
    bf16 = ceiling(a6000, "bf16", GPUS)
    measured = [min(s.measured_ceilings.bf16.number / s.dense_peaks.bf16.number, 1.0) for s in GPUS
                if s.architecture == "Ampere" and s.measured_ceilings.bf16.known]
    assert len(measured) >= 3
    assert bf16.number == pytest.approx(a6000.dense_peaks.bf16.number * statistics.median(measured))
    assert "Ampere bf16" in bf16.derived
    # the L4 measured its FP16 GEMM, not its BF16: the same tensor cores, its own fraction
    l4 = load_hardware("l4")
    own = l4.measured_ceilings.fp16.number / l4.dense_peaks.fp16.number
    assert ceiling(l4, "bf16", GPUS).number == pytest.approx(l4.dense_peaks.bf16.number * own)
    assert "l4's own fp16" in ceiling(l4, "bf16", GPUS).derived
    # the A100 40 GB's own bandwidth withheld: derived from the other HBM2 cards' fractions
    a100_40 = load_hardware("a100-sxm4-40gb")
    bare = replace(a100_40, measured_ceilings=AchievableTable())
    bw = ceiling(bare, BANDWIDTH, [s for s in GPUS if s.name != a100_40.name] + [bare])
    assert "HBM2 memory" in bw.derived and bw.number < a100_40.mem_bandwidth_bytes_per_s.number
    assert bw.number != pytest.approx(ceiling(a100_40, BANDWIDTH, GPUS).number)


def test_a_device_without_any_peak_gets_no_ceiling():
    from accelscope.hardware.schema import HardwareSpec

    bare = HardwareSpec(name="x", kind="gpu", vendor="NVIDIA", display_name="x")
    assert not ceiling(bare, "bf16", GPUS).known
    assert not ceiling(bare, BANDWIDTH, GPUS).known


def test_hardware_show_prints_the_ceilings_and_the_host():
    out = CliRunner().invoke(app, ["hardware", "show", "v100-sxm2-16gb"])
    assert out.exit_code == 0, out.output
    assert "achievable ceilings" in out.output and "derived:" in out.output
    assert "DGX-1" in out.output and "Xeon E5-2698 v4" in out.output
    js = json.loads(CliRunner().invoke(app, ["hardware", "show", "h100-sxm", "--json"]).output)
    assert js["achievable"]["bf16"]["value"] == pytest.approx(794.5e12)
    assert js["host"]["system"]["name"] == "dgx-h100"
