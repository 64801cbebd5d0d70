import sys
import time
import types

import pytest

from accelscope.measure import energy
from accelscope.measure.energy import (EnergyReading, NvmlEnergyMeter, NvmlPowerSampler, RaplMeter, RaplZone,
                                       UnavailableMeter, find_rapl_zones, integrate_power, open_nvml_meter,
                                       open_rapl_meter, rapl_delta_uj)


# -- RAPL ------------------------------------------------------------------------------------

def test_rapl_delta_without_and_with_wraparound():
    assert rapl_delta_uj(1_000, 5_000, 2**32) == 4_000
    assert rapl_delta_uj(2**32 - 100, 50, 2**32) == 150                 # 32-bit counter wrapped
    rng = 262_143_328_850                                               # a real max_energy_range_uj
    assert rapl_delta_uj(rng - 850, 1_000, rng) == 1_850
    assert rapl_delta_uj(7, 7, rng) == 0
    with pytest.raises(ValueError):
        rapl_delta_uj(10, 5, 0)


def _zone(root, dirname, name, uj, max_range=2**32):
    d = root / dirname
    d.mkdir()
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_range}\n")
    return d


@pytest.fixture
def powercap(tmp_path):
    root = tmp_path / "powercap"
    root.mkdir()
    z = {
        "pkg0": _zone(root, "intel-rapl:0", "package-0", 4_294_000_000),
        "core": _zone(root, "intel-rapl:0:0", "core", 10),
        "dram": _zone(root, "intel-rapl:0:1", "dram", 1_000_000),
        "pkg1": _zone(root, "intel-rapl:1", "package-1", 2_000_000),
        "psys": _zone(root, "intel-rapl:2", "psys", 5),
        "mmio": _zone(root, "intel-rapl-mmio:0", "package-0", 5),
    }
    return root, z


def _set(d, uj):
    (d / "energy_uj").write_text(f"{uj}\n")


def test_rapl_zones_skip_overlapping_domains(powercap):
    root, _ = powercap
    zones, note = find_rapl_zones(root)
    assert sorted(z.name for z in zones) == ["dram", "package-0", "package-1"]
    assert "psys" in note


def test_rapl_meter_sums_packages_and_dram_across_a_wrap(powercap):
    root, z = powercap
    t = iter([0.0, 2.0])
    meter = open_rapl_meter(root, clock=lambda: next(t))
    assert isinstance(meter, RaplMeter) and meter.available
    meter.start()
    _set(z["pkg0"], 967_296 - 1)          # wrapped: 2**32 - 4_294_000_000 + 967_295 = 1_934_591 uJ
    meter.poll()
    _set(z["pkg0"], 2_967_295)            # +2_000_000 uJ after the wrap
    _set(z["dram"], 1_500_000)            # +500_000
    _set(z["pkg1"], 3_000_000)            # +1_000_000
    _set(z["core"], 10**9)                # core is inside the package figure: ignored
    r = meter.stop()
    expected_uj = (2**32 - 4_294_000_000 + 967_295) + 2_000_000 + 500_000 + 1_000_000
    assert r.energy_j == pytest.approx(expected_uj / 1e6)
    assert r.window_s == 2.0 and r.mean_power_w == pytest.approx(expected_uj / 1e6 / 2.0)
    assert r.method == "rapl" and r.confidence == "high" and "package-0" in r.scope and "dram" in r.scope


def test_rapl_permission_error_is_reported_not_zero(powercap, monkeypatch):
    root, _ = powercap

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self.path / "energy_uj"))

    monkeypatch.setattr(RaplZone, "read_uj", denied)
    meter = open_rapl_meter(root)
    assert isinstance(meter, UnavailableMeter) and not meter.available
    meter.start()
    r = meter.stop()
    assert r.energy_j is None and r.method == "unavailable" and r.confidence == "none"
    assert "root" in r.note and "chmod" in r.note


def test_rapl_missing_directory(tmp_path):
    r = open_rapl_meter(tmp_path / "nope")
    assert isinstance(r, UnavailableMeter) and "does not exist" in r.reason


def test_rapl_directory_without_packages(tmp_path):
    _zone(tmp_path, "intel-rapl:0", "psys", 1)
    r = open_rapl_meter(tmp_path)
    assert isinstance(r, UnavailableMeter) and "no RAPL package zone" in r.reason


# -- NVML against a fake pynvml ---------------------------------------------------------------

class _NVMLError(Exception):
    pass


def _fake_nvml(*, energy=True, power_mw=200_000, init_error=False, uuid_ok=True):
    m = types.ModuleType("pynvml")
    state = {"mj": 1_000_000, "init": 0, "shutdown": 0}
    m.NVMLError = _NVMLError

    def init():
        if init_error:
            raise _NVMLError("Driver Not Loaded")
        state["init"] += 1

    def by_uuid(u):
        if not uuid_ok:
            raise _NVMLError("Not Found")
        return ("handle", u)

    def energy_counter(h):
        if not energy:
            raise _NVMLError("Not Supported")
        state["mj"] += 125_000  # each read: +125 J since the last one
        return state["mj"]

    m.nvmlInit = init
    m.nvmlShutdown = lambda: state.__setitem__("shutdown", state["shutdown"] + 1)
    m.nvmlDeviceGetHandleByUUID = by_uuid
    m.nvmlDeviceGetHandleByIndex = lambda i: ("handle", i)
    m.nvmlDeviceGetName = lambda h: b"NVIDIA Fake100"
    m.nvmlDeviceGetTotalEnergyConsumption = energy_counter
    m.nvmlDeviceGetPowerUsage = lambda h: power_mw
    m.nvmlSystemGetDriverVersion = lambda: "555.42"
    m.state = state
    return m


def test_nvml_energy_counter(monkeypatch):
    fake = _fake_nvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    t = iter([10.0, 12.5])
    meter = open_nvml_meter(uuid="GPU-1234", nvml_index=0, label="cuda:0", clock=lambda: next(t))
    assert isinstance(meter, NvmlEnergyMeter)
    meter.start()
    r = meter.stop()
    assert r.energy_j == pytest.approx(125.0)  # (counter after - counter before) mJ / 1000
    assert r.window_s == 2.5 and r.mean_power_w == pytest.approx(50.0)
    assert r.method == "nvml-energy-counter" and r.confidence == "high"
    assert r.scope == "gpu board cuda:0 (NVIDIA Fake100)"
    meter.close()
    assert fake.state["shutdown"] == 1


def test_nvml_falls_back_to_index_when_uuid_unknown(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(uuid_ok=False))
    meter = open_nvml_meter(uuid="GPU-x", nvml_index=3, label="cuda:0")
    assert isinstance(meter, NvmlEnergyMeter) and meter.handle == ("handle", 3)


def test_nvml_power_sampling_fallback_is_low_confidence(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(energy=False, power_mw=200_000))
    meter = open_nvml_meter(uuid="GPU-1", label="cuda:0")
    assert isinstance(meter, NvmlPowerSampler)
    meter.interval_s = 0.005
    meter.start()
    time.sleep(0.1)
    r = meter.stop()
    assert r.method == "nvml-power-sampling" and r.confidence == "low"
    assert len(meter._samples) >= 3
    assert r.energy_j == pytest.approx(200.0 * r.window_s, rel=1e-9)  # constant 200 W
    assert "every 5 ms" in r.note


def test_nvml_missing_or_broken_is_unavailable_with_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    r = open_nvml_meter(uuid="GPU-1", label="cuda:0")
    assert isinstance(r, UnavailableMeter) and "nvidia-ml-py" in r.reason
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(init_error=True))
    r = open_nvml_meter(uuid="GPU-1", label="cuda:0")
    assert isinstance(r, UnavailableMeter) and "Driver Not Loaded" in r.reason
    r.start()
    reading = r.stop()
    assert reading.energy_j is None and reading.method == "unavailable" and reading.mean_power_w is None


def test_nvml_driver_version(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml())
    assert energy.nvml_driver_version() == ("555.42", "nvml")
    monkeypatch.setitem(sys.modules, "pynvml", None)
    v, why = energy.nvml_driver_version()
    assert v is None and "not installed" in why


def test_integrate_power_trapezoid_and_edges():
    assert integrate_power([(0.0, 100.0), (1.0, 200.0), (2.0, 100.0)], 0.0, 2.0) == pytest.approx(300.0)
    # the window is wider than the samples: edges held at the nearest sample
    assert integrate_power([(1.0, 100.0), (2.0, 100.0)], 0.0, 3.0) == pytest.approx(300.0)


def test_reading_power():
    r = EnergyReading(energy_j=30.0, window_s=1.5, method="rapl", scope="x", confidence="high")
    assert r.mean_power_w == pytest.approx(20.0) and r.to_dict()["mean_power_w"] == pytest.approx(20.0)
