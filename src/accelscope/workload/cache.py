"""An on-disk cache of traced profiles, so a second ``predict`` of a workload needs no trace.

Where: ``$ACCELSCOPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/accelscope/profiles`` (default
``~/.cache/accelscope/profiles``). One JSON file per profile, named by its key: a SHA-256 of
the resolved :class:`~accelscope.workload.spec.WorkloadSpec`, the torch and torchvision
versions, accelscope's version and a fingerprint of the counting code (the workload
package's own source files), so a profile traced by other code is never reused.

What is cached: zoo presets and ``torchvision:`` models, whose code is accelscope's or
torchvision's and so covered by the key. User factories (``package.module:callable``) are
traced every time: their code can change under the same name.

Safety: each entry records its key material and a SHA-256 of its payload; an entry that
does not parse, does not match, or fails to rebuild a Profile is deleted and traced again,
never trusted. Writes go to a temporary file renamed into place (atomic on POSIX and
Windows). The cache is capped (``$ACCELSCOPE_CACHE_MAX_BYTES``, default 256 MB): after a
write, least recently used entries are removed until it fits.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from accelscope.errors import ProfileError
from accelscope.paths import user_path
from accelscope.workload.profile import Profile
from accelscope.workload.spec import WorkloadSpec

DIR_ENV = "ACCELSCOPE_CACHE_DIR"
MAX_BYTES_ENV = "ACCELSCOPE_CACHE_MAX_BYTES"
DEFAULT_MAX_BYTES = 256 * 10**6
FORMAT = 1


def cache_dir() -> Path:
    return user_path(DIR_ENV, "cache", "profiles")


def max_bytes() -> int:
    raw = os.environ.get(MAX_BYTES_ENV)
    try:
        return int(float(raw)) if raw else DEFAULT_MAX_BYTES
    except ValueError:
        return DEFAULT_MAX_BYTES


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 over the source files of ``accelscope.workload`` (the trace and its rules)."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cacheable(spec: WorkloadSpec) -> bool:
    """Zoo presets and torchvision models (see the module docstring)."""
    return not spec.is_user_model and spec.inputs is None and not spec.is_onnx


def key_material(spec: WorkloadSpec) -> dict:
    from accelscope._version import __version__

    return {"format": FORMAT, "spec": spec.to_dict(), "torch": _version("torch"),
            "torchvision": _version("torchvision"), "accelscope": __version__, "code": code_fingerprint()}


def _key(material: dict) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:40]


def _digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def load(spec: WorkloadSpec) -> Profile | None:
    """The cached profile of a resolved spec, or None (a bad entry is removed)."""
    material = key_material(spec)
    path = cache_dir() / f"{_key(material)}.json"
    try:
        text = path.read_text()
    except OSError:
        return None
    try:
        entry = json.loads(text)
        if entry.get("key") != material or entry.get("sha256") != _digest(entry["profile"]):
            raise ProfileError("key or checksum mismatch")
        profile = Profile.from_dict(entry["profile"])
    except (ValueError, KeyError, TypeError, AttributeError, ProfileError):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # least recently used goes first
    return profile


def save(profile: Profile) -> Path | None:
    """Store ``profile`` under its spec's key; None when the cache directory is not writable."""
    material = key_material(profile.spec)
    payload = profile.to_dict(include_ops=True)
    entry = {"key": material, "sha256": _digest(payload), "profile": payload}
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(entry, fh)
        path = directory / f"{_key(material)}.json"
        os.replace(tmp, path)
    except OSError:
        return None
    prune(max_bytes())
    return path


def prune(limit: int) -> None:
    """Remove least recently used entries until the cache holds at most ``limit`` bytes."""
    directory = cache_dir()
    try:
        entries = [(p.stat().st_mtime, p.stat().st_size, p) for p in directory.glob("*.json")]
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        with contextlib.suppress(OSError):
            path.unlink()
            total -= size
