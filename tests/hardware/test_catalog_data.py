"""The built-in catalog: coverage, sources on every figure, and numbers that could be wrong."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from accelscope.hardware.catalog import Catalog, list_hardware, load_hardware
from accelscope.hardware.schema import KINDS

SPECS = list_hardware(use_env=False)


def test_at_least_30_devices_across_all_five_kinds():
    kinds = Counter(s.kind for s in SPECS)
    assert len(SPECS) >= 30
    assert set(kinds) == set(KINDS), kinds


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_known_figure_has_a_source(spec):
    for path, fig in spec.figures().items():
        if fig.known:
            assert fig.source and fig.source.strip(), f"{spec.name}: {path} has no source"
        else:
            assert fig.source is None or fig.source.strip()
    for i, offer in enumerate(spec.cloud):
        assert offer.source.strip() and offer.date, f"{spec.name}: cloud[{i}]"
    if spec.purchase_price.known:
        assert spec.purchase_price.source and spec.purchase_price.date
    if spec.systolic:
        assert spec.systolic.source


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_no_machine_paths_or_unresolved_source_keys(spec):
    for path, fig in spec.figures().items():
        if fig.source:
            assert not re.search(r"/(work|tmp|home)/", fig.source), (spec.name, path)
            # a bare word would be an unresolved [sources] key
            assert " " in fig.source or "://" in fig.source, (spec.name, path, fig.source)


def test_fpga_entries_carry_resources_and_known_boards_match_their_data_sheets():
    fpgas = [s for s in SPECS if s.kind == "fpga"]
    assert all(s.fpga is not None for s in fpgas)
    zcu102 = load_hardware("zcu102", use_env=False).fpga
    assert (zcu102.lut.value, zcu102.ff.value, zcu102.dsp.value, zcu102.bram.value) == (
        274080, 548160, 2520, 912)
    zcu104 = load_hardware("ZCU104", use_env=False).fpga
    assert (zcu104.dsp.value, zcu104.bram.value, zcu104.uram.value) == (1728, 312, 96)
    zc706 = load_hardware("xc7z045", use_env=False).fpga
    assert (zc706.lut.value, zc706.dsp.value, zc706.bram.value) == (218600, 900, 545)
    for name in ("alveo-u50", "alveo-u250", "alveo-u55c", "vck190", "agilex7-m"):
        assert load_hardware(name, use_env=False).kind == "fpga"


def test_tpu_v1_matches_the_isca_paper():
    tpu = load_hardware("tpu-v1", use_env=False)
    sa = tpu.systolic
    assert (sa.rows, sa.cols, sa.count, sa.dtype) == (256, 256, 1, "int8")
    # 2 ops per MAC x 65,536 MACs x 700 MHz = 91.75 TOPS, quoted as 92
    assert 2 * sa.macs * tpu.clock_hz.value == pytest.approx(tpu.peak_flops_per_s("int8"), rel=0.01)
    assert tpu.onchip_mem_bytes.value == 24 * 2**20
    assert tpu.mem_bandwidth_bytes_per_s.value == 34e9
    assert tpu.tdp_w.value == 75 and "40 W" in tpu.tdp_w.note
    assert tpu.peak("bf16").flops_per_s is None


@pytest.mark.parametrize(
    "name, sms, clock_hz",
    [("v100-sxm2-16gb", 80, 1.53e9), ("a100-sxm4-80gb", 108, 1.41e9), ("h100-sxm", 132, 1.98e9),
     ("t4", 40, 1.59e9), ("l4", 58, 2.04e9), ("l40s", 142, 2.52e9), ("rtx-4090", 128, 2.52e9)],
)
def test_gpu_sm_counts_and_boost_clocks(name, sms, clock_hz):
    spec = load_hardware(name, use_env=False)
    assert spec.compute_units.value == sms and spec.compute_unit_kind == "SM"
    assert spec.clock_hz.value == pytest.approx(clock_hz)


def test_nvidia_peaks_are_dense_not_sparse():
    # the datasheet headline (sparse) H100 SXM BF16 is 1,979 TFLOPS; dense is half
    assert load_hardware("h100", use_env=False).peak_flops_per_s("bf16") == pytest.approx(989.4e12)
    assert load_hardware("a100", use_env=False).peak_flops_per_s("tf32") == pytest.approx(156e12)
    assert load_hardware("l4", use_env=False).peak_flops_per_s("fp16") == pytest.approx(121e12)
    # A100 FP32 peak follows from its SMs and clock: 108 x 64 cores x 2 x 1.41 GHz
    a100 = load_hardware("a100-80gb", use_env=False)
    assert 108 * 64 * 2 * a100.clock_hz.value == pytest.approx(a100.peak_flops_per_s("fp32"), rel=0.01)
    # V100 likewise: 80 SMs x 64 x 2 x 1.53 GHz = 15.7 TFLOPS
    v100 = load_hardware("v100", use_env=False)
    assert 80 * 64 * 2 * v100.clock_hz.value == pytest.approx(v100.peak_flops_per_s("fp32"), rel=0.01)


def test_stale_p5_price_is_recorded_and_skipped_by_default():
    h100 = load_hardware("h100-sxm", use_env=False)
    p5 = next(o for o in h100.cloud if o.instance == "p5.48xlarge")
    assert p5.usd_per_hour == 98.32 and p5.devices_per_instance == 8
    assert p5.usd_per_device_hour == pytest.approx(12.29)
    assert p5.is_stale and "2025" in p5.stale
    cheapest = h100.cheapest_offering()
    assert cheapest is not None and not cheapest.is_stale
    assert h100.cheapest_offering(include_stale=True).usd_per_device_hour <= cheapest.usd_per_device_hour


def test_every_price_has_a_date_and_instance_prices_divide_per_device():
    for spec in SPECS:
        for o in spec.cloud:
            assert re.match(r"^\d{4}", o.date)
            assert o.usd_per_device_hour * o.devices_per_instance == pytest.approx(o.usd_per_hour)


def test_neuron_memory_is_in_gib_as_aws_states_it():
    inf2 = load_hardware("inferentia2", use_env=False)
    assert inf2.mem_bytes.value == 32 * 2**30
    assert inf2.mem_bandwidth_bytes_per_s.value == 820 * 2**30


def test_aliases_and_names_are_unique_and_resolve():
    cat = Catalog.load(use_env=False)
    for alias, canonical in [("H100", "h100-sxm"), ("a100-80gb", "a100-sxm4-80gb"),
                             ("A100-80GB-SXM4", "a100-sxm4-80gb"), ("V100-16GB-SXM2", "v100-sxm2-16gb"),
                             ("V100-32GB-SXM2", "v100-sxm2-32gb"), ("T4-16GB", "t4"),
                             ("NVIDIA H100 SXM5 80GB", "h100-sxm"), ("tpu_v5e", "tpu-v5e"),
                             ("Trillium", "tpu-v6e"), ("zcu102", "zcu102")]:
        assert cat.get(alias).name == canonical
