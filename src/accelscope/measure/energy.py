"""Energy from hardware counters, each reading labelled with its method, scope and confidence.

A meter is started before a measurement window and stopped after it; ``stop`` returns an
:class:`EnergyReading`. When nothing can be read the reading's ``energy_j`` is ``None``,
its method ``"unavailable"`` and its ``note`` says why and what to do: never a 0.

Methods, best first:

* ``nvml-energy-counter`` (confidence ``high``): NVML's ``nvmlDeviceGetTotalEnergyConsumption``,
  the board's energy in millijoules since the driver was loaded (Volta and newer). The
  counter is refreshed every 20-100 ms, so windows of at least a second keep the
  quantisation error to a few percent; accelscope's runner extends short windows to 1 s.
* ``nvml-power-sampling`` (confidence ``low``): older GPUs without the counter. A thread reads
  ``nvmlDeviceGetPowerUsage`` (milliwatts; on many boards an average over the last second)
  every 20 ms and integrates with the trapezoidal rule.
* ``rapl`` (confidence ``high``, scope: whole CPU packages, every process on them): the
  Linux powercap sysfs files ``/sys/class/powercap/intel-rapl:N/energy_uj`` (microjoules,
  package domains ``package-N``) plus their ``dram`` subzones where present. The platform
  domain ``psys`` is skipped because it overlaps the packages, and so are the
  ``intel-rapl-mmio`` duplicates. Each counter wraps at ``max_energy_range_uj``; a
  decrease between two reads is one wrap, so the delta is ``after + range - before`` (the
  arithmetic of the kernel's powercap documentation and of tools such as turbostat).
  Meters are polled after every timing sample so no window spans two wraps. Since Linux
  5.10 ``energy_uj`` is readable by root only (CVE-2020-8694, "Platypus").
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_POWERCAP_ROOT = Path("/sys/class/powercap")
#: Windows shorter than this are extended by the runner before energy is read.
MIN_ENERGY_WINDOW_S = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyReading:
    """Energy over one window. ``energy_j is None`` means it could not be read (``note`` says why)."""

    energy_j: float | None
    window_s: float
    method: str        #: nvml-energy-counter | nvml-power-sampling | rapl | fake | unavailable
    scope: str         #: what the figure covers, e.g. "gpu board cuda:0 (NVIDIA H100)"
    confidence: str    #: high | low | none
    note: str = ""

    @property
    def mean_power_w(self) -> float | None:
        if self.energy_j is None or self.window_s <= 0:
            return None
        return self.energy_j / self.window_s

    def to_dict(self) -> dict:
        return {"energy_j": self.energy_j, "window_s": self.window_s, "method": self.method,
                "scope": self.scope, "confidence": self.confidence, "note": self.note,
                "mean_power_w": self.mean_power_w}


class EnergyMeter:
    """Base class: ``start()``, optional ``poll()`` during the window, ``stop() -> EnergyReading``."""

    method = "unavailable"
    scope = ""
    confidence = "none"

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self._t0: float | None = None

    @property
    def available(self) -> bool:
        return True

    def start(self) -> None:
        self._t0 = self.clock()

    def poll(self) -> None:
        """Read the counters mid-window (catches counter wraps); cheap, optional."""

    def stop(self) -> EnergyReading:
        raise NotImplementedError

    def close(self) -> None:
        """Release the counter's resources (NVML handles, threads)."""

    def _window(self) -> float:
        if self._t0 is None:
            raise RuntimeError("EnergyMeter.stop() called before start()")
        return self.clock() - self._t0


class UnavailableMeter(EnergyMeter):
    """A meter that reads nothing and says why."""

    def __init__(self, reason: str, clock: Callable[[], float] = time.perf_counter):
        super().__init__(clock)
        self.reason = reason

    @property
    def available(self) -> bool:
        return False

    def stop(self) -> EnergyReading:
        window = self._window() if self._t0 is not None else 0.0
        return EnergyReading(energy_j=None, window_s=window, method="unavailable", scope="",
                             confidence="none", note=self.reason)


# -- RAPL ------------------------------------------------------------------------------------


def rapl_delta_uj(before: int, after: int, max_range_uj: int) -> int:
    """Microjoules between two reads of a RAPL counter that wraps at ``max_range_uj``.

    A read lower than the previous one means the counter wrapped once (callers poll often
    enough that it cannot wrap twice): ``after + max_range_uj - before``.
    """
    if after >= before:
        return after - before
    if max_range_uj <= 0:
        raise ValueError("counter went backwards and max_energy_range_uj is unknown")
    return after + max_range_uj - before


@dataclass(frozen=True, slots=True)
class RaplZone:
    path: Path
    name: str          #: "package-0", "dram", ...
    max_range_uj: int

    def read_uj(self) -> int:
        return int((self.path / "energy_uj").read_text().strip())


_TOP_ZONE = re.compile(r"^intel-rapl:(\d+)$")
_SUB_ZONE = re.compile(r"^intel-rapl:(\d+):(\d+)$")


def find_rapl_zones(root: Path | str = DEFAULT_POWERCAP_ROOT) -> tuple[list[RaplZone], str]:
    """Package zones (and their ``dram`` subzones) under ``root``, and a note on what was skipped.

    Raises ``PermissionError`` when a counter exists but cannot be read.
    """
    root = Path(root)
    if not root.is_dir():
        return [], f"{root} does not exist (no powercap driver: not Linux, or RAPL not exposed, e.g. in a VM)"
    zones: list[RaplZone] = []
    skipped: list[str] = []
    for entry in sorted(root.iterdir()):
        top, sub = _TOP_ZONE.match(entry.name), _SUB_ZONE.match(entry.name)
        if not (top or sub):
            continue
        try:
            name = (entry / "name").read_text().strip()
        except OSError:
            continue
        if top and not name.startswith("package"):
            skipped.append(name)  # psys overlaps the packages
            continue
        if sub and name != "dram":
            continue  # core / uncore are inside the package figure
        try:
            max_range = int((entry / "max_energy_range_uj").read_text().strip())
        except (OSError, ValueError):
            max_range = 0
        zone = RaplZone(entry, name, max_range)
        zone.read_uj()  # PermissionError surfaces here
        zones.append(zone)
    note = f"skipped overlapping zones: {', '.join(skipped)}" if skipped else ""
    return zones, note


class RaplMeter(EnergyMeter):
    """CPU package (+ DRAM) energy from RAPL powercap counters, with wraparound."""

    method = "rapl"
    confidence = "high"

    def __init__(self, zones: list[RaplZone], clock: Callable[[], float] = time.perf_counter):
        super().__init__(clock)
        if not zones:
            raise ValueError("RaplMeter needs at least one zone")
        self.zones = zones
        names = [z.name for z in zones]
        self.scope = f"cpu packages, all processes ({', '.join(names)})"
        self._last: list[int] = []
        self._acc_uj: list[int] = []

    def start(self) -> None:
        self._last = [z.read_uj() for z in self.zones]
        self._acc_uj = [0] * len(self.zones)
        super().start()

    def poll(self) -> None:
        for i, z in enumerate(self.zones):
            now = z.read_uj()
            self._acc_uj[i] += rapl_delta_uj(self._last[i], now, z.max_range_uj)
            self._last[i] = now

    def stop(self) -> EnergyReading:
        self.poll()
        window = self._window()
        return EnergyReading(energy_j=sum(self._acc_uj) / 1e6, window_s=window, method=self.method,
                             scope=self.scope, confidence=self.confidence)


def open_rapl_meter(root: Path | str = DEFAULT_POWERCAP_ROOT,
                    clock: Callable[[], float] = time.perf_counter) -> EnergyMeter:
    """A :class:`RaplMeter`, or an :class:`UnavailableMeter` saying why not."""
    try:
        zones, skipped = find_rapl_zones(root)
    except PermissionError as exc:
        return UnavailableMeter(
            f"RAPL counters exist but are not readable ({exc.filename or exc}): since Linux 5.10 "
            "energy_uj is root-only. Run as root, or grant read access: "
            "sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj", clock)
    except (OSError, ValueError) as exc:
        return UnavailableMeter(f"RAPL counters could not be read: {exc}", clock)
    if not zones:
        why = skipped if "does not exist" in skipped else f"no RAPL package zone under {root}" + (
            f" ({skipped})" if skipped else "")
        return UnavailableMeter(f"no CPU energy counter: {why}", clock)
    return RaplMeter(zones, clock)


# -- NVML ------------------------------------------------------------------------------------


def _import_pynvml():
    try:
        import pynvml  # nvidia-ml-py
    except ImportError:
        return None
    return pynvml


class NvmlEnergyMeter(EnergyMeter):
    """GPU board energy from NVML's total-energy counter (millijoules)."""

    method = "nvml-energy-counter"
    confidence = "high"

    def __init__(self, nvml, handle, scope: str, clock: Callable[[], float] = time.perf_counter):
        super().__init__(clock)
        self.nvml, self.handle, self.scope = nvml, handle, scope
        self._mj0 = 0

    def start(self) -> None:
        self._mj0 = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
        super().start()

    def stop(self) -> EnergyReading:
        mj = self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
        window = self._window()
        return EnergyReading(energy_j=(mj - self._mj0) / 1e3, window_s=window, method=self.method,
                             scope=self.scope, confidence=self.confidence)

    def close(self) -> None:
        try:
            self.nvml.nvmlShutdown()
        except Exception:
            pass


class NvmlPowerSampler(EnergyMeter):
    """Energy integrated from NVML power readings sampled by a thread: low confidence."""

    method = "nvml-power-sampling"
    confidence = "low"

    def __init__(self, nvml, handle, scope: str, interval_s: float = 0.02,
                 clock: Callable[[], float] = time.perf_counter):
        super().__init__(clock)
        self.nvml, self.handle, self.scope, self.interval_s = nvml, handle, scope, interval_s
        self._samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: str | None = None

    def _sample(self) -> None:
        try:
            w = self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1e3
        except Exception as exc:  # a failing read ends the sampling, and is reported
            self._error = f"{type(exc).__name__}: {exc}"
            self._stop.set()
            return
        self._samples.append((self.clock(), w))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def start(self) -> None:
        self._samples, self._error = [], None
        self._stop.clear()
        super().start()
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="accelscope-nvml-power", daemon=True)
        self._thread.start()

    def stop(self) -> EnergyReading:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error is None:
            self._sample()
        window = self._window()
        energy = integrate_power(self._samples, self._t0, self._t0 + window) if len(self._samples) >= 2 else None
        if energy is None:
            return EnergyReading(energy_j=None, window_s=window, method="unavailable", scope=self.scope,
                                 confidence="none",
                                 note=f"NVML power sampling failed: {self._error or 'fewer than 2 samples'}")
        return EnergyReading(energy_j=energy, window_s=window, method=self.method, scope=self.scope,
                             confidence=self.confidence,
                             note="integrated from power samples every "
                                  f"{self.interval_s * 1e3:.0f} ms (the GPU has no energy counter)")

    def close(self) -> None:
        try:
            self.nvml.nvmlShutdown()
        except Exception:
            pass


def integrate_power(samples: list[tuple[float, float]], t0: float, t1: float) -> float:
    """Joules from (time_s, power_w) samples over [t0, t1], trapezoidal; edges held at the nearest sample."""
    pts = sorted(samples)
    if not pts:
        raise ValueError("no power samples")
    pts = [(t0, pts[0][1])] + [p for p in pts if t0 < p[0] < t1] + [(t1, pts[-1][1])]
    return float(sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(pts, pts[1:])))


def open_nvml_meter(*, uuid: str | None = None, nvml_index: int | None = None, label: str = "gpu",
                    clock: Callable[[], float] = time.perf_counter) -> EnergyMeter:
    """An NVML meter for one GPU, found by UUID (``GPU-...``) or NVML index.

    Falls back to power sampling (labelled low confidence) when the GPU has no energy
    counter, and to an :class:`UnavailableMeter` with the reason when NVML is missing.
    """
    nvml = _import_pynvml()
    if nvml is None:
        return UnavailableMeter("nvidia-ml-py is not installed (GPU energy needs NVML): "
                                "pip install 'accelscope[gpu]' or pip install nvidia-ml-py", clock)
    try:
        nvml.nvmlInit()
    except Exception as exc:
        return UnavailableMeter(f"NVML could not be initialised ({type(exc).__name__}: {exc}); "
                                "is the NVIDIA driver loaded?", clock)
    handle, how = None, ""
    errors = []
    if uuid is not None:
        try:
            handle, how = nvml.nvmlDeviceGetHandleByUUID(uuid), f"uuid {uuid}"
        except Exception as exc:
            errors.append(f"by uuid: {exc}")
    if handle is None and nvml_index is not None:
        try:
            handle, how = nvml.nvmlDeviceGetHandleByIndex(nvml_index), f"nvml index {nvml_index}"
        except Exception as exc:
            errors.append(f"by index: {exc}")
    if handle is None:
        return UnavailableMeter(f"NVML has no handle for {label} ({'; '.join(errors) or 'no uuid or index'})", clock)
    try:
        name = nvml.nvmlDeviceGetName(handle)
        name = name.decode() if isinstance(name, bytes) else str(name)
    except Exception:
        name = "unknown GPU"
    scope = f"gpu board {label} ({name})"
    try:
        nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        return NvmlEnergyMeter(nvml, handle, scope, clock)
    except Exception as counter_exc:
        try:
            nvml.nvmlDeviceGetPowerUsage(handle)
            return NvmlPowerSampler(nvml, handle, scope, clock=clock)
        except Exception as power_exc:
            return UnavailableMeter(f"NVML reads neither energy ({counter_exc}) nor power ({power_exc}) "
                                    f"of {label} ({name})", clock)


def nvml_driver_version() -> tuple[str | None, str]:
    """(driver version, note) from NVML; None with the reason when it cannot be read."""
    nvml = _import_pynvml()
    if nvml is None:
        return None, "nvidia-ml-py not installed"
    try:
        nvml.nvmlInit()
        try:
            v = nvml.nvmlSystemGetDriverVersion()
            return (v.decode() if isinstance(v, bytes) else str(v)), "nvml"
        finally:
            nvml.nvmlShutdown()
    except Exception as exc:
        return None, f"NVML: {type(exc).__name__}: {exc}"

