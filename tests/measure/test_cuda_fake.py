"""The CUDA backend's logic against a fake torch.cuda and a fake pynvml (no GPU needed).

The fake GPU "runs" on the CPU: the device's torch_device is overridden to ``cpu``, while
synchronisation, CUDA events, allocator peaks, capability checks and NVML go through the
monkeypatched ``torch.cuda`` functions, so the backend's own code paths are exercised.
"""

import contextlib
import sys
import time
import types
import uuid as uuidlib

import pytest
import torch

from accelscope.measure import bench
from accelscope.measure.devices.cuda import CudaDevice
from accelscope.measure.environment import collect_environment
from tests.measure.test_energy import _fake_nvml

GPU_UUID = uuidlib.UUID("12345678-1234-5678-1234-567812345678")


class _FakeClock:
    """Manual GPU time when ``manual``; otherwise events read the host clock."""

    manual = False
    now = 0.0


class _FakeEvent:
    def __init__(self, enable_timing=False):
        assert enable_timing
        self.t = None

    def record(self, stream=None):
        self.t = _FakeClock.now if _FakeClock.manual else time.perf_counter()

    def synchronize(self):
        pass

    def elapsed_time(self, end):  # milliseconds, as torch.cuda.Event does
        return (end.t - self.t) * 1e3


@pytest.fixture
def fake_cuda(monkeypatch):
    calls = {"sync": 0, "reset": 0, "empty": 0}
    props = types.SimpleNamespace(name="NVIDIA Fake V100", total_memory=16 * 2**30, major=7, minor=0,
                                  multi_processor_count=80, uuid=GPU_UUID)
    c = torch.cuda
    # True for accelscope's own checks only: torch's optimizers also ask, and would then
    # try to initialise a real CUDA context.
    monkeypatch.setattr(c, "is_available",
                        lambda: sys._getframe(1).f_globals.get("__name__", "").startswith("accelscope"))
    monkeypatch.setattr(c, "device_count", lambda: 2)
    monkeypatch.setattr(c, "get_device_properties", lambda i=0: props)
    monkeypatch.setattr(c, "get_device_capability", lambda i=0: (props.major, props.minor))
    monkeypatch.setattr(c, "get_device_name", lambda i=0: props.name)
    monkeypatch.setattr(c, "Event", _FakeEvent)
    monkeypatch.setattr(c, "synchronize", lambda i=None: calls.__setitem__("sync", calls["sync"] + 1))
    monkeypatch.setattr(c, "device", lambda i: contextlib.nullcontext())
    monkeypatch.setattr(c, "reset_peak_memory_stats", lambda i=None: calls.__setitem__("reset", calls["reset"] + 1))
    monkeypatch.setattr(c, "max_memory_allocated", lambda i=None: 3_000_000)
    monkeypatch.setattr(c, "max_memory_reserved", lambda i=None: 4_194_304)
    monkeypatch.setattr(c, "empty_cache", lambda: calls.__setitem__("empty", calls["empty"] + 1))
    monkeypatch.setattr(c, "_get_nvml_device_index", lambda i: 5 + i)
    nvml = _fake_nvml()
    seen = {}
    by_uuid = nvml.nvmlDeviceGetHandleByUUID
    nvml.nvmlDeviceGetHandleByUUID = lambda u: seen.setdefault("uuid", u) and by_uuid(u)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    return types.SimpleNamespace(calls=calls, props=props, nvml=nvml, seen=seen)


class _CpuBackedCuda(CudaDevice):
    """A CudaDevice whose tensors live on the CPU (the rest is the real backend code)."""

    @property
    def torch_device(self):
        return torch.device("cpu")


def test_index_checks(fake_cuda):
    from accelscope.measure.devices import DeviceError, get_device

    assert get_device("cuda").name == "cuda:0" and get_device("cuda:1").name == "cuda:1"
    with pytest.raises(DeviceError, match="cuda:0 to cuda:1"):
        get_device("cuda:2")


def test_event_timing_converts_milliseconds_to_seconds(fake_cuda):
    dev = CudaDevice(0)
    _FakeClock.manual = True

    def step():  # each launch takes 2 ms of "GPU time"
        _FakeClock.now += 0.002

    try:
        assert dev.time_block(step, 5) == pytest.approx(0.010)
    finally:
        _FakeClock.manual = False
    assert fake_cuda.calls["sync"] >= 1  # drained before the start event


def test_memory_capabilities_and_nvml_mapping(fake_cuda):
    dev = CudaDevice(1)
    dev.reset_peak_memory()
    assert fake_cuda.calls["reset"] == 1
    peak = dev.peak_memory()
    assert (peak.allocated_bytes, peak.reserved_bytes) == (3_000_000, 4_194_304) and peak.rss_bytes > 0
    assert "Ampere" in dev.unsupported_reason("amp-bf16") and dev.unsupported_reason("fp16") is None
    assert "no TensorFloat-32" in dev.precision_note("tf32")
    assert dev.nvml_ids() == (f"GPU-{GPU_UUID}", 6)
    meter = dev.energy_meter()
    assert meter.method == "nvml-energy-counter" and meter.scope == "gpu board cuda:1 (NVIDIA Fake100)"
    assert fake_cuda.seen["uuid"] == f"GPU-{GPU_UUID}"
    d = dev.describe()
    assert d["model"] == "NVIDIA Fake V100" and d["compute_capability"] == "7.0"


def test_a_sweep_on_the_fake_gpu(fake_cuda):
    dev = _CpuBackedCuda(0)
    run = bench("mlp", devices=[dev, "cpu"], tasks="train", precisions="fp32,amp-bf16", batch_sizes=[2],
                max_time_s=0.1, min_energy_window_s=0.02, threads=1)
    got = [(m.device, m.precision, m.status) for m in run.measurements]
    assert got == [("cpu", "fp32", "ok"), ("cpu", "amp-bf16", "ok"), ("cuda:0", "fp32", "ok"),
                   ("cuda:0", "amp-bf16", "failed")]
    gpu = run.measurements[2]
    assert gpu.device_model == "NVIDIA Fake V100"
    assert "fp32: TF32 off for matmuls and cuDNN convolutions" in gpu.notes
    assert gpu.peak_mem_allocated_bytes == 3_000_000 and gpu.peak_mem_reserved_bytes == 4_194_304
    assert gpu.energy_method == "nvml-energy-counter" and gpu.energy_confidence == "high"
    assert gpu.energy_j == pytest.approx(125.0)  # the fake counter: +125 J between the two reads
    assert gpu.energy_j_per_sample == pytest.approx(125.0 / (gpu.energy_iterations * 2))
    assert gpu.speedup_vs_cpu is not None and gpu.speedup_baseline.startswith("cpu fp32 batch 2")
    bad = run.measurements[3]
    assert bad.error_kind == "unsupported" and "bfloat16" in bad.error
    assert fake_cuda.calls["empty"] == 1  # cache released after the point that ran
    env = collect_environment()
    assert env.gpus[0]["name"] == "NVIDIA Fake V100" and env.gpu_driver == "555.42"
