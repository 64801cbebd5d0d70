"""Which catalog entry a reported device name is (``match_catalog``).

``accelscope.measure.detect`` lists this machine's devices (the CPU, every CUDA GPU, an
Apple MPS device) and matches each through this module, by the model name the driver or
the OS reports; ``None`` when the catalog has no such part. Matching is by name tokens: the catalog entry's own model token (``h100``,
``a100``, ``t4``, ...) must appear in the reported name; among candidates the one sharing
most tokens wins (``NVIDIA H100 PCIe`` -> ``h100-pcie``, ``NVIDIA H100 80GB HBM3`` ->
``h100-sxm``); a generic name (``AMD EPYC``) matches nothing rather than a wrong part.
"""

from __future__ import annotations

import re

from accelscope.hardware.catalog import list_hardware
from accelscope.hardware.schema import HardwareSpec

_NOISE = {"nvidia", "tesla", "geforce", "amd", "intel", "r", "tm", "cpu", "processor", "core", "with",
          "radeon", "instinct", "gpu", "graphics", "apple", "google", "aws", "gb", "hbm3", "hbm2", "hbm2e"}


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t and t not in _NOISE}


def _model_token(spec: HardwareSpec) -> str:
    """The part number in a catalog name: its token with the most digits, the first of equals
    (h100 in h100-sxm, a100 in a100-sxm4-80gb, 1185g7 in core-i7-1185g7, 7950x)."""
    parts = [t for t in re.split(r"[^a-z0-9]+", spec.name.lower()) if t]
    digits = [sum(c.isdigit() for c in t) for t in parts]
    return parts[digits.index(max(digits))] if max(digits) else parts[0]


def _names_model(words: set[str], model: str) -> bool:
    if model in words:
        return True
    # "8480+" reports as 8480 where the catalog says 8480plus (but 8380H is not an 8380)
    return any(len(w) >= 4 and any(c.isdigit() for c in w) and w in model for w in words)


def match_catalog(reported_name: str, kind: str | None = None) -> HardwareSpec | None:
    """The catalog spec whose model the reported device name names, or None."""
    if not reported_name:
        return None
    words = _tokens(reported_name)
    best, best_score = None, 0
    for spec in list_hardware(kind):
        if not _names_model(words, _model_token(spec)):
            continue
        names = _tokens(" ".join((spec.name, spec.display_name, *spec.aliases)))
        # PCIe cards report "PCIe" in their names; the SXM part is the default otherwise.
        score = len(words & names) - (0.5 if "pcie" in spec.name and "pcie" not in words else 0)
        if score > best_score:
            best, best_score = spec, score
    return best
