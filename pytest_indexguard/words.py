"""How a count reads in a message: "1 test needs", "2 tests need", "1 entry", "3 entries"."""

from __future__ import annotations


def count_of(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` and the noun in the form it takes, thousands separated."""
    noun = singular if number == 1 else (plural or singular + "s")
    return f"{number:,} {noun}"


def need(number: int, noun: str = "test") -> str:
    """ "1 test needs" or "2 tests need"."""
    return count_of(number, noun) + (" needs" if number == 1 else " need")
