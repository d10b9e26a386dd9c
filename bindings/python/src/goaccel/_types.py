"""Type aliases shared by the pure-Python modules."""

from __future__ import annotations

import os
from typing import Union

#: A filesystem path: str, bytes or any os.PathLike.
StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def seconds_to_ns(seconds: float | None) -> int:
    """Converts seconds (None = 0) to integer nanoseconds."""
    return 0 if seconds is None else int(round(seconds * 1e9))
