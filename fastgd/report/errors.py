"""The one exception type of the report package."""

from __future__ import annotations

__all__ = ["ReportError", "SeedPictureUnavailable"]


class ReportError(RuntimeError):
    """The inputs of a report are missing or unusable (no records, bad benchmark JSON, ...)."""


class SeedPictureUnavailable(ReportError):
    """A seed picture cannot be computed because a fastgd piece it needs is missing.

    :func:`fastgd.report.write_report` catches this one, leaves the picture out and
    says so in ``REPORT.md``; it never draws a substitute.
    """
