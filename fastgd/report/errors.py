"""The one exception type of the report package."""

from __future__ import annotations

__all__ = ["ReportError"]


class ReportError(RuntimeError):
    """The inputs of a report are missing or unusable (no points, a bad benchmark JSON, ...)."""
