"""Medians and spreads for the benchmark's output.

The machine this runs on is shared and noisy, so every figure is a median over interleaved
rounds with its spread (lowest to highest round) next to it: a reader sees at once whether a
difference is larger than the noise.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def format(self, digits: int = 1, unit: str = "") -> str:
        return f"{self.median:,.{digits}f}{unit} [{self.low:,.{digits}f}..{self.high:,.{digits}f}]"

    def to_json(self) -> dict[str, float]:
        return {"median": self.median, "low": self.low, "high": self.high, "n": self.n}
