"""goaccel — BuildKit-style caching for Go builds, from Python.

The Python binding of libgoaccel: tree digests and manifests, step keys, go.mod parsing and
``h1:`` hashes, a content-addressed store with cache mounts and export/import, ``COPY --from``
extraction, reproducible OCI images and the Go build pipeline — no daemon, no Dockerfile.

Every failure raises a subclass of :class:`goaccel.Error` carrying the library's message,
``code`` and ``code_name``. Paths may be str, bytes or os.PathLike. The GIL is released around
every library call that does I/O or waits on a lock.
"""

from __future__ import annotations

try:
    from . import _goaccel
except ImportError as e:  # pragma: no cover - exercised by a test in a subprocess
    if "libgoaccel" in str(e) and "cannot open shared object" in str(e):
        raise ImportError(
            f"goaccel: the libgoaccel shared library could not be loaded ({e}); install "
            "libgoaccel, or rebuild the binding with GOACCEL_BUILD_DIR pointing at a built "
            "CMake build directory") from e
    raise

from . import gomod
from ._goaccel import (COMPILED_VERSION, DIGEST_SIZE, LAYERS, BuildFailed, Cancelled, Changed,
                       Corrupt, Digest, Error, Exists, Hasher, InvalidInput, LimitExceeded, Locked,
                       Mismatch, NotFound, Unsafe, UnsupportedVersion, digest_bytes, digest_file,
                       error_code_name, library_path, library_version)
from .gomod import gosum_verify, h1

# Each layer's names exist when the extension was built against a libgoaccel that has it
# (LAYERS); a name of a missing layer raises an AttributeError that says so (__getattr__ below).
if "hash" in LAYERS:
    from ._hashing import (Change, EntryType, HashStats, Manifest, ManifestChange, ManifestDiff,
                           ManifestEntry, hash_paths, hash_tree)
if "key" in LAYERS:
    from ._key import Key, KeyChange, KeyChangeKind
if "store" in LAYERS:
    from ._goaccel import Action, Mount
    from ._store import (ActionEntry, ActionList, ActionOutput, Counters, EntryKind, MountInfo,
                         PruneEvent, PruneResult, RefEntry, Sharing, Store, TransferResult, Usage,
                         VerifyEvent, VerifyProblem, VerifyResult, default_store_root)
if "extract" in LAYERS:
    from ._image import ExtractItem, Mtime, extract
if "image" in LAYERS:
    from ._image import Image, LayerInfo, write_layer_tar
if "build" in LAYERS:
    from ._build import (BuildChange, BuildEvent, BuildOutput, BuildResult, ChangeKind, EventType,
                         Status, Step, StepResult, go_build)

_LAYER_OF = {
    "hash": ["Change", "EntryType", "HashStats", "Manifest", "ManifestChange", "ManifestDiff",
             "ManifestEntry", "hash_paths", "hash_tree"],
    "key": ["Key", "KeyChange", "KeyChangeKind"],
    "store": ["Action", "Mount", "ActionEntry", "ActionList", "ActionOutput", "RefEntry", "Counters",
              "EntryKind", "MountInfo", "PruneEvent", "PruneResult", "Sharing", "Store", "TransferResult", "Usage", "VerifyEvent",
              "VerifyProblem", "VerifyResult", "default_store_root"],
    "extract": ["ExtractItem", "Mtime", "extract"],
    "image": ["Image", "LayerInfo", "write_layer_tar"],
    "build": ["BuildChange", "BuildEvent", "BuildOutput", "BuildResult", "ChangeKind", "EventType",
              "Status", "Step", "StepResult", "go_build"],
}


def __getattr__(name: str) -> object:
    for layer, names in _LAYER_OF.items():
        if name in names:
            raise AttributeError(
                f"goaccel.{name} needs the {layer} layer of libgoaccel, which the library this "
                f"binding was built against ({library_path()}) does not provide")
    raise AttributeError(f"module 'goaccel' has no attribute {name!r}")


#: The libgoaccel version this package was built against (the import checked that the library
#: loaded at run time is the same version).
__version__: str = COMPILED_VERSION

__all__ = [
    "__version__", "COMPILED_VERSION", "DIGEST_SIZE", "LAYERS",
    # errors
    "Error", "NotFound", "Exists", "Locked", "InvalidInput", "BuildFailed", "Cancelled",
    "Corrupt", "Changed", "UnsupportedVersion", "Mismatch", "Unsafe", "LimitExceeded",
    "error_code_name", "library_path", "library_version",
    # digests and hashing
    "Digest", "Hasher", "digest_bytes", "digest_file", "hash_tree", "hash_paths", "Manifest",
    "ManifestEntry", "ManifestChange", "ManifestDiff", "Change", "EntryType", "HashStats",
    # keys and modules
    "Key", "KeyChange", "KeyChangeKind", "gomod", "h1", "gosum_verify",
    # store
    "Store", "Mount", "Action", "ActionEntry", "ActionList", "ActionOutput", "RefEntry", "Sharing", "Counters", "Usage", "EntryKind",
    "PruneEvent", "PruneResult", "VerifyEvent", "VerifyProblem", "VerifyResult",
    "TransferResult", "MountInfo", "default_store_root",
    # extract, image, build
    "extract", "ExtractItem", "Mtime", "Image", "LayerInfo", "write_layer_tar",
    "go_build", "BuildResult", "StepResult", "BuildChange", "BuildOutput", "BuildEvent",
    "ChangeKind", "EventType", "Status", "Step",
]
