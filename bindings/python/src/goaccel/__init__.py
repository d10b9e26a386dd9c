"""goaccel — BuildKit-style caching for Go builds, from Python.

The Python binding of libgoaccel: content-hashed step keys, persistent cache mounts, a
content-addressed store with export/import, deterministic OCI images and the Go build pipeline.
Everything comes from the C extension ``goaccel._goaccel``; this package adds Pythonic helpers.

Every failure raises a subclass of :class:`goaccel.Error` carrying the library's message and code.
"""

from __future__ import annotations

try:
    from . import _goaccel
except ImportError as e:  # pragma: no cover - exercised by tests in a subprocess
    msg = str(e)
    if "libgoaccel" in msg and "cannot open shared object" in msg:
        raise ImportError(
            f"goaccel: the libgoaccel shared library could not be loaded ({msg}); install "
            "libgoaccel, or rebuild the binding with GOACCEL_BUILD_DIR pointing at a built "
            "CMake build directory"
        ) from e
    raise

from ._goaccel import (
    COMPILED_VERSION,
    DIGEST_SIZE,
    Changed,
    Cancelled,
    BuildFailed,
    Corrupt,
    Digest,
    Error,
    Exists,
    Hasher,
    InvalidInput,
    LimitExceeded,
    Locked,
    Mismatch,
    NotFound,
    Unsafe,
    UnsupportedVersion,
    digest_bytes,
    digest_file,
    error_code_name,
    library_path,
    library_version,
)

#: The libgoaccel version this package was built against (the import checked that the library
#: loaded at run time is the same version).
__version__: str = COMPILED_VERSION

__all__ = [
    "__version__",
    "COMPILED_VERSION",
    "DIGEST_SIZE",
    "BuildFailed",
    "Cancelled",
    "Changed",
    "Corrupt",
    "Digest",
    "Error",
    "Exists",
    "Hasher",
    "InvalidInput",
    "LimitExceeded",
    "Locked",
    "Mismatch",
    "NotFound",
    "Unsafe",
    "UnsupportedVersion",
    "digest_bytes",
    "digest_file",
    "error_code_name",
    "library_path",
    "library_version",
]
