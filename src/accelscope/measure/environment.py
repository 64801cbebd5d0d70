"""The machine, drivers and libraries a measurement ran on, recorded with every run.

Every field that could not be read is ``None`` and named in ``notes`` with the reason.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import lru_cache


def logical_cores() -> int:
    """CPUs this process may run on (its affinity mask), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat, or None where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def busy_cores(window_s: float = 0.1) -> float | None:
    """How many logical CPUs' worth of work other processes ran over a ``window_s`` window
    (all CPUs' busy time from /proc/stat, less this process's own, e.g. thread pools still
    spinning); None where /proc/stat cannot be read."""
    import time

    before, own_before, t0 = _cpu_times(), time.process_time(), time.perf_counter()
    if before is None:
        return None
    time.sleep(window_s)
    after, own_after, t1 = _cpu_times(), time.process_time(), time.perf_counter()
    if after is None or after[1] <= before[1]:
        return None
    busy = logical_cores() * (after[0] - before[0]) / (after[1] - before[1])
    return max(0.0, busy - (own_after - own_before) / (t1 - t0))


@lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores among the CPUs this process may use (SMT siblings counted once).

    Linux: distinct (package, core) pairs of the allowed CPUs from sysfs topology. Elsewhere,
    or when topology is hidden (some containers), the logical count is returned.
    """
    if sys.platform == "darwin":  # pragma: no cover
        import subprocess

        try:
            return int(subprocess.run(["sysctl", "-n", "hw.physicalcpu"], capture_output=True, text=True,
                                      timeout=5).stdout.strip())
        except Exception:
            return logical_cores()
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = list(range(os.cpu_count() or 1))
    cores = set()
    for c in cpus:
        base = f"/sys/devices/system/cpu/cpu{c}/topology"
        try:
            with open(f"{base}/physical_package_id") as f:
                pkg = f.read().strip()
            with open(f"{base}/core_id") as f:
                core = f.read().strip()
        except OSError:
            return logical_cores()
        cores.add((pkg, core))
    return len(cores) or logical_cores()


@lru_cache(maxsize=1)
def cpu_model() -> str | None:
    """The CPU's marketing name (``/proc/cpuinfo`` model name, sysctl on macOS), else platform.processor()."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":  # pragma: no cover
        import subprocess

        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                 text=True, timeout=5).stdout.strip()
            if out:
                return out
        except Exception:
            pass
    return platform.processor() or None


def total_memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    accelscope_version: str
    python_version: str
    torch_version: str
    cuda_version: str | None          #: the CUDA toolkit torch was built with
    cudnn_version: int | None
    cpu_model: str | None
    physical_cores: int
    logical_cores: int
    torch_threads: int
    memory_bytes: int | None
    gpus: tuple[dict, ...]            #: name, memory_bytes, compute_capability per visible GPU
    gpu_driver: str | None
    os: str
    hostname: str
    timestamp: str                    #: UTC, ISO 8601
    env_vars: dict = field(default_factory=dict)  #: OMP_NUM_THREADS, CUDA_VISIBLE_DEVICES, ...
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["gpus"] = [dict(g) for g in self.gpus]
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Environment":
        # Missing fields (a record from another version, a hand-made one) read as None.
        known = {k: d.get(k) for k in cls.__dataclass_fields__ if k != "env_vars"}
        known["env_vars"] = dict(d.get("env_vars") or {})
        known["gpus"] = tuple(known.get("gpus") or ())
        known["notes"] = tuple(known.get("notes") or ())
        return cls(**known)


_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "PYTORCH_CUDA_ALLOC_CONF",
             "CUBLAS_WORKSPACE_CONFIG")


def collect_environment() -> Environment:
    """Read the environment now (versions, CPU, GPUs and driver, memory, OS, host, UTC time)."""
    import torch

    from accelscope._version import __version__
    from accelscope.measure.energy import nvml_driver_version

    notes: list[str] = []
    gpus: list[dict] = []
    driver = None
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            gpus.append({"index": i, "name": p.name, "memory_bytes": int(p.total_memory),
                         "compute_capability": f"{p.major}.{p.minor}"})
        driver, how = nvml_driver_version()
        if driver is None:
            notes.append(f"gpu driver version unknown: {how}")
    try:
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    except Exception:
        cudnn = None
    mem = total_memory_bytes()
    if mem is None:
        notes.append("total memory unknown: neither /proc/meminfo nor sysconf answered")
    model = cpu_model()
    if model is None:
        notes.append("cpu model unknown")
    return Environment(
        accelscope_version=__version__, python_version=platform.python_version(),
        torch_version=torch.__version__, cuda_version=torch.version.cuda, cudnn_version=cudnn,
        cpu_model=model, physical_cores=physical_cores(), logical_cores=logical_cores(),
        torch_threads=torch.get_num_threads(), memory_bytes=mem, gpus=tuple(gpus), gpu_driver=driver,
        os=platform.platform(), hostname=socket.gethostname(),
        timestamp=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        env_vars={k: os.environ[k] for k in _ENV_VARS if k in os.environ}, notes=tuple(notes),
    )
