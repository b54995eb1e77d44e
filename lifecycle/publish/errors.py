"""The one error of ``lifecycle publish``."""

from __future__ import annotations


class PublishError(Exception):
    """The publish was refused or failed; the serving file is untouched."""
