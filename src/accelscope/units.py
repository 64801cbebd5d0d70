"""SI constants and display formatting.

Everything inside accelscope is SI: seconds, joules, watts, bytes, FLOPs. Decimal and
binary prefixes are spelled out (``GB = 1e9``, ``GiB = 2**30``) so that nobody has to guess.
Convert only for display, with the helpers below.
"""

from __future__ import annotations

KB = 10**3
MB = 10**6
GB = 10**9
TB = 10**12
KiB = 2**10
MiB = 2**20
GiB = 2**30
TiB = 2**40

KILO = 1e3
MEGA = 1e6
GIGA = 1e9
TERA = 1e12
PETA = 1e15

_SI_PREFIXES = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def si(value: float | int | None, unit: str = "", digits: int = 3) -> str:
    """Format ``value`` with a decimal SI prefix: ``si(8.18e9, "FLOP") == "8.18 GFLOP"``."""
    if value is None:
        return "-"
    magnitude = abs(value)
    for scale, prefix in _SI_PREFIXES:
        if magnitude >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}".rstrip()


def fmt_bytes(n: float | int | None, digits: int = 3) -> str:
    """Format a byte count with decimal prefixes (GB = 1e9 bytes)."""
    return si(n, "B", digits)


def fmt_seconds(t: float | None, digits: int = 3) -> str:
    """Format a duration in s, ms, us or ns."""
    if t is None:
        return "-"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if abs(t) >= scale:
            return f"{t / scale:.{digits}g} {unit}"
    return f"{t / 1e-9:.{digits}g} ns"
