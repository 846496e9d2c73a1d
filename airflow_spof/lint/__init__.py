"""Static DAG linter for single points of failure (never imports or runs DAG code)."""

from __future__ import annotations

__version__ = "0.1.0"
