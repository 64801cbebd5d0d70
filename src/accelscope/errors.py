"""The exception tree. Library code raises these; only the CLI prints and picks exit codes.

Every message says what was wrong, what was expected, and what to do next.
"""

from __future__ import annotations


class AccelscopeError(Exception):
    """Base class of every error accelscope raises on purpose."""


class UnknownNameError(AccelscopeError, KeyError):
    """A name (model, device, hardware) that no registry knows."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        import difflib

        self.kind, self.name, self.valid = kind, name, sorted(valid)
        close = difflib.get_close_matches(name, self.valid, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(
            f"unknown {kind} {name!r}.{hint} Valid {kind} names: {', '.join(self.valid)}."
        )

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0])


class DuplicateNameError(AccelscopeError, ValueError):
    """A registry was asked to register a name twice."""


class WorkloadError(AccelscopeError):
    """A model could not be built, or its inputs do not fit it."""


class ProfileError(AccelscopeError):
    """Tracing a workload failed."""


class ConfigError(AccelscopeError, ValueError):
    """An option value is invalid (bad precision, negative batch size, ...)."""


class CatalogError(AccelscopeError, ValueError):
    """A hardware catalog file is invalid (the message names the file and the field)."""


class PredictionError(AccelscopeError):
    """A performance model cannot predict this workload on this hardware: the catalog entry
    lacks a figure the model needs, or the model does not handle the workload (the message
    says which, and what to do)."""


class MeasurementError(AccelscopeError):
    """A measurement could not be made: the launched processes failed or did not finish (the
    message says which and shows the end of their output)."""
