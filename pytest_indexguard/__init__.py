"""pytest-indexguard: fail Django tests whose SQL needs a full scan of a watched table."""

from __future__ import annotations

__version__ = "0.1.0"
