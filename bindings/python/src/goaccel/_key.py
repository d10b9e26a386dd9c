"""Step keys (goaccel/key.h)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from . import _goaccel


class KeyChangeKind(enum.IntEnum):
    """How a field changed from an old key to a new one."""

    ADDED = 1
    REMOVED = 2
    CHANGED = 3


@dataclass(frozen=True)
class KeyChange:
    """One field that differs between two keys ("@kind" and "@parent" stand for those).
    Values are as text (digests as hex); None on the side that lacks the field."""

    name: str
    change: KeyChangeKind
    old: Optional[str]
    new: Optional[str]


class Key(_goaccel.Key):
    """A step key under construction (docs/keys.md).

    >>> k = Key("go-build").add("env:GOFLAGS", "-trimpath").add("inputs:.", tree_digest)
    >>> k.finish()

    Fields are str, bytes or Digest values; the order of add() calls never matters.
    ``old.diff(new)`` names the fields that differ — "why did this miss?".
    """

    def diff(self, new: _goaccel.Key) -> list[KeyChange]:
        """The fields that differ from this (old) key to new, in name order."""
        return [KeyChange(name, KeyChangeKind(change), old, nw)
                for name, change, old, nw in self._diff(new)]
