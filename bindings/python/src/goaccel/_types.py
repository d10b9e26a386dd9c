"""Type aliases shared by the pure-Python modules."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from ._goaccel import Digest

#: A filesystem path: str, bytes or any os.PathLike.
StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

#: A digest: a Digest, its hex form ("sha256:" optional) or its 32 bytes.
DigestLike = Union["Digest", str, bytes]


def seconds_to_ns(seconds: float | None) -> int:
    """Converts seconds (None = 0) to integer nanoseconds."""
    return 0 if seconds is None else int(round(seconds * 1e9))
