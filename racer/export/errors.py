"""The exporter's one error type: what the command line reports as ``error: ...``."""

from __future__ import annotations


class ExportError(ValueError):
    """A model cannot be exported as asked, or an exported file failed its parity check."""
