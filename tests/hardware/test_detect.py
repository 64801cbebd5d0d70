import pytest

from accelscope.hardware.detect import match_catalog
from accelscope.measure.detect import detect


@pytest.mark.parametrize("reported,expected", [
    ("NVIDIA H100 80GB HBM3", "h100-sxm"),
    ("NVIDIA H100 PCIe", "h100-pcie"),
    ("NVIDIA A100-SXM4-80GB", "a100-sxm4-80gb"),
    ("Tesla T4", "t4"),
    ("Tesla V100-SXM2-16GB", "v100-sxm2-16gb"),
    ("NVIDIA GeForce RTX 4090", "rtx-4090"),
    ("Intel(R) Xeon(R) Platinum 8480+", "xeon-8480plus"),
    ("AMD EPYC 9654 96-Core Processor", "epyc-9654"),
    ("11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", "core-i7-1185g7"),
    ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", "xeon-8380"),
    ("13th Gen Intel(R) Core(TM) i9-13900K", "core-i9-13900k"),
])
def test_reported_names_match_catalog_parts(reported, expected):
    assert match_catalog(reported).name == expected


@pytest.mark.parametrize("reported", ["AMD EPYC", "Intel(R) Xeon(R) CPU @ 2.20GHz", "", "Some New Accelerator",
                                      # a sibling part is not the catalog's part
                                      "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz",
                                      "Intel(R) Xeon(R) Platinum 8380H CPU @ 2.90GHz",
                                      "12th Gen Intel(R) Core(TM) i9-12900K"])
def test_generic_or_unknown_names_match_nothing(reported):
    assert match_catalog(reported) is None


def test_detect_lists_the_cpu_first():
    devices = detect()
    assert devices[0].name == "cpu" and devices[0].kind == "cpu"
    assert all(d.kind in ("cpu", "gpu") for d in devices)
