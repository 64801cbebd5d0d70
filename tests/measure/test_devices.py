import json

import pytest
import torch

from accelscope.errors import ConfigError, UnknownNameError
from accelscope.measure.devices import (DEVICES, DeviceError, available_devices, get_device,
                                        parse_device_name, resolve_devices)
from accelscope.measure.environment import collect_environment, logical_cores, physical_cores


def test_registry_has_one_backend_per_module():
    assert set(DEVICES.names()) == {"cpu", "cuda", "mps", "null"}


def test_parse_names():
    assert parse_device_name("cpu") == ("cpu", None)
    assert parse_device_name("CUDA:1") == ("cuda", 1)
    with pytest.raises(ConfigError, match="non-negative integer"):
        parse_device_name("cuda:x")
    with pytest.raises(UnknownNameError, match="Valid device names: cpu, cuda, mps, null"):
        parse_device_name("gpu")


def test_auto_is_every_device_present_and_never_null():
    names = [d.name for d in resolve_devices("auto")]
    assert names == available_devices() and names[0] == "cpu" and "null" not in names
    assert [d.name for d in resolve_devices("cpu, auto ,cpu")] == names  # duplicates dropped
    with pytest.raises(ConfigError):
        resolve_devices(" , ")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_absent_says_so():
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        get_device("cuda:0")


def test_cpu_takes_no_index_and_describes_itself():
    with pytest.raises(DeviceError, match="takes no index"):
        get_device("cpu:1")
    d = get_device("cpu").describe()
    assert d["name"] == "cpu" and d["threads"] == torch.get_num_threads() and d["physical_cores"] >= 1


def test_null_device_fake_clock_and_run_modes():
    calls = []
    dev = get_device("null", samples=[0.1, 0.3])
    assert dev.clock() == 0.0
    assert dev.time_block(lambda: calls.append(1), 3) == pytest.approx(0.5)  # 0.1 + 0.3 + 0.1
    assert dev.clock() == pytest.approx(0.5) and len(calls) == 1  # run="once"
    dev_all = get_device("null", run="all")
    dev_all.time_block(lambda: calls.append(1), 4)
    assert len(calls) == 5
    meter = dev.energy_meter()
    meter.start()
    dev.advance(2.0)
    r = meter.stop()
    assert r.energy_j == pytest.approx(200.0) and r.method == "fake" and r.window_s == pytest.approx(2.0)
    with pytest.raises(DeviceError):
        get_device("null", samples=[0.0])


def test_cpu_memory_peak_reads_rss():
    dev = get_device("cpu")
    dev.reset_peak_memory()
    x = torch.ones(8 * 2**20)  # 32 MiB
    x += 1
    peak = dev.peak_memory()
    assert peak.allocated_bytes is None and peak.reserved_bytes is None
    assert peak.rss_bytes is not None and peak.rss_bytes > 32 * 2**20


def test_environment_is_complete_and_serialisable():
    env = collect_environment()
    d = json.loads(json.dumps(env.to_dict()))
    for key in ("accelscope_version", "python_version", "torch_version", "cuda_version", "cudnn_version",
                "cpu_model", "physical_cores", "logical_cores", "gpus", "gpu_driver", "memory_bytes", "os",
                "hostname", "timestamp"):
        assert key in d
    assert d["torch_version"] == torch.__version__
    assert 1 <= physical_cores() <= logical_cores()
    assert d["timestamp"].endswith("+00:00")
    assert type(env).from_dict(d) == env
