"""The cache store and its mounts (goaccel/store.h, goaccel/mount.h)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, TypeVar, Union

from . import _goaccel
from ._goaccel import Digest
from ._types import DigestLike, StrPath, seconds_to_ns


class Sharing(str, enum.Enum):
    """How a cache mount is shared (BuildKit's sharing=shared|private|locked)."""

    SHARED = "shared"
    PRIVATE = "private"
    LOCKED = "locked"


class EntryKind(enum.IntFlag):
    """What an entry reported by prune is; also the mask of kinds prune may remove."""

    BLOB = 1
    ACTION = 2
    MOUNT = 4
    REF = 8
    TEMP = 16


class VerifyProblem(enum.IntEnum):
    """A problem found by Store.verify()."""

    CORRUPT_BLOB = 1
    BAD_RECORD = 2
    DANGLING_RECORD = 3
    DANGLING_REF = 4
    TEMP_FILE = 5
    STRAY = 6


@dataclass(frozen=True)
class Counters:
    """Statistics of one step kind (or of all kinds)."""

    hits: int
    misses: int
    corrupt: int
    bytes_restored: int
    time_saved_ns: int
    puts: int
    bytes_put: int

    @property
    def hit_rate(self) -> float | None:
        """hits / (hits + misses), or None before any lookup."""
        n = self.hits + self.misses
        return self.hits / n if n else None

    @property
    def time_saved(self) -> float:
        """Seconds saved by hits."""
        return self.time_saved_ns / 1e9


@dataclass(frozen=True)
class Usage:
    """What the store holds (apparent sizes)."""

    blobs: int
    blob_bytes: int
    actions: int
    action_bytes: int
    refs: int
    mounts: int
    mount_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class PruneEvent:
    """An entry prune removes (or would remove, in a dry run)."""

    kind: EntryKind
    id: str
    bytes: int
    last_used_ns: int
    reason: str


@dataclass(frozen=True)
class PruneResult:
    """What prune removed (or would remove)."""

    blobs: int
    actions: int
    mounts: int
    refs: int
    bytes_freed: int
    bytes_before: int
    bytes_after: int
    mounts_in_use: int


@dataclass(frozen=True)
class VerifyEvent:
    """One problem found by verify."""

    problem: VerifyProblem
    path: str
    detail: str
    repaired: bool


@dataclass(frozen=True)
class VerifyResult:
    """What verify checked and found; ok when no problem remains."""

    blobs: int
    actions: int
    refs: int
    corrupt_blobs: int
    bad_records: int
    dangling_records: int
    dangling_refs: int
    temp_files: int
    stray: int
    problems: int
    repaired: int

    @property
    def ok(self) -> bool:
        return self.problems == self.repaired


@dataclass(frozen=True)
class TransferResult:
    """Counts for an export or an import."""

    blobs: int
    actions: int
    refs: int
    mounts: int
    files: int
    bytes: int
    unchanged: int
    skipped: int


@dataclass(frozen=True)
class MountInfo:
    """One mount instance as listed by Store.mounts()."""

    id: str
    instance: int
    path: Path
    bytes: int
    files: int
    last_used_ns: int
    in_use: bool


@dataclass(frozen=True)
class ActionOutput:
    """One output to record with Store.action_put(): from a file (path) or from bytes (data).
    mode None keeps the source file's permission bits."""

    name: str
    path: Optional[StrPath] = None
    data: Optional[bytes] = None
    mode: Optional[int] = None


@dataclass(frozen=True)
class ActionEntry:
    """One action record as listed by Store.actions(): read from the record alone (its blobs
    are not checked, so a listed record may still miss; Store.verify() checks)."""

    key: Digest
    kind: str
    created_ns: int
    last_used_ns: int  # its last hit, or its creation if it never had one
    duration_ns: int
    info: Optional[str]
    outputs: list[tuple[str, int, int, Digest]]  # (name, mode, size, digest) in name order
    total_size: int
    record_bytes: int


class ActionList(list[ActionEntry]):
    """The records Store.actions() found; skipped counts those that could not be read."""

    skipped: int = 0


@dataclass(frozen=True)
class RefEntry:
    """One named ref as listed by Store.refs()."""

    name: str
    blob: Digest
    last_used_ns: int


T = TypeVar("T")


def _make(cls: Callable[..., T], raw: Mapping[str, int]) -> T:
    return cls(**raw)


class Store(_goaccel.Store):
    """An open cache store: blobs, action records, refs, statistics, cache mounts,
    prune/verify, export/import (docs/store.md).

    >>> with Store(cache_dir) as store:
    ...     with store.mount("gomod", sharing="locked") as gomodcache:
    ...         ...   # a pathlib.Path

    ``Store()`` with no path opens the default root ($GOACCEL_CACHE, $XDG_CACHE_HOME/goaccel,
    ~/.cache/goaccel). Thread-safe; close() (or the end of the with block) closes it once no
    mount or action from it is still held.
    """

    # -- actions -------------------------------------------------------------------------

    def action_put(self, key: DigestLike, kind: str,
                   outputs: Iterable[Union[ActionOutput, tuple[str, StrPath]]], *,
                   duration: float = 0.0, info: str | None = None) -> None:
        """Records the outputs of a step under its key (replacing an earlier record).
        outputs: ActionOutput values or (name, path) pairs. duration (seconds) is what a
        later hit counts as time saved."""
        raw: list[tuple[str, StrPath | None, int, bytes | None]] = []
        for o in outputs:
            if not isinstance(o, ActionOutput):
                o = ActionOutput(o[0], path=o[1])
            if (o.path is None) == (o.data is None):
                raise ValueError(f"output {o.name!r}: give exactly one of path and data")
            raw.append((o.name, o.path, -1 if o.mode is None else o.mode, o.data))
        self._action_put(key, kind, raw, duration_ns=seconds_to_ns(duration), info=info)

    def actions(self, kind: str | None = None, *, glob: str | None = None,
                by_last_used: bool = False) -> ActionList:
        """The store's action records (of one step kind, and/or whose "<kind>/<key hex>" matches
        the fnmatch glob), by key or least recently used first (prune's order). A cheap
        snapshot: nothing is counted, no last-used time changes, blobs are not read."""
        raw, skipped = self._actions(kind, glob=glob, by_last_used=by_last_used)
        result = ActionList(ActionEntry(*t) for t in raw)
        result.skipped = skipped
        return result

    # -- refs ----------------------------------------------------------------------------

    def refs(self) -> list[RefEntry]:
        """Every readable named ref, sorted by name; nothing is touched."""
        return sorted((RefEntry(*t) for t in self._refs()), key=lambda r: r.name)

    # -- statistics ----------------------------------------------------------------------

    def stats(self, kind: str | None = None) -> Counters:
        """The persistent counters of kind, or their sum over all kinds."""
        return _make(Counters, self._stats(kind))

    def usage(self) -> Usage:
        """What the store holds, measured by walking it."""
        return _make(Usage, self._usage())

    # -- maintenance ---------------------------------------------------------------------

    def prune(self, *, max_bytes: int = 0, keep: float | None = None,
              kinds: EntryKind | int = 0, id_glob: str | None = None, dry_run: bool = False,
              blob_grace: float | None = 600.0,
              callback: Callable[[PruneEvent], object] | None = None) -> PruneResult:
        """Removes entries: unreferenced blobs (older than blob_grace seconds), entries unused
        for longer than keep seconds, then least recently used ones while the store is larger
        than max_bytes. Held mounts are never touched. An exception raised by callback stops
        prune and propagates unchanged."""
        cb = None
        if callback is not None:
            user_cb = callback

            def cb(raw: tuple[int, str, int, int, str]) -> None:
                k, id_, n, last, reason = raw
                user_cb(PruneEvent(EntryKind(k), id_, n, last, reason))
        raw = self._prune(max_bytes=max_bytes, keep_duration_ns=seconds_to_ns(keep),
                          kinds=int(kinds), id_glob=id_glob, dry_run=dry_run,
                          blob_grace_ns=-1 if blob_grace is None else seconds_to_ns(blob_grace),
                          callback=cb)
        return _make(PruneResult, raw)

    def verify(self, *, repair: bool = False,
               callback: Callable[[VerifyEvent], object] | None = None) -> VerifyResult:
        """Checks every blob (rehashing it), record and ref; with repair, removes what is
        damaged. Problems are reported in the result (ok is False while some remain), not
        raised."""
        cb = None
        if callback is not None:
            user_cb = callback

            def cb(raw: tuple[int, str, str, bool]) -> None:
                p, path, detail, repaired = raw
                user_cb(VerifyEvent(VerifyProblem(p), path, detail, repaired))
        return _make(VerifyResult, self._verify(repair=repair, callback=cb))

    def export(self, path: StrPath, *, mounts: Iterable[str] = (), all_mounts: bool = False,
               actions: bool = False, actions_glob: str | None = None, refs: bool = False,
               base: StrPath | None = None, manifest_out: StrPath | None = None,
               compression_level: int = 0, threads: int = 0,
               lock_timeout: float | None = 600.0) -> TransferResult:
        """Writes the selected mounts, actions (with their blobs) and refs into one tar+zstd
        archive. base: an earlier export (archive or manifest) to write only what changed
        since; manifest_out: also write the manifest there, for a later delta."""
        raw = self._export(path, mounts=list(mounts), all_mounts=all_mounts, actions=actions,
                           actions_glob=actions_glob, refs=refs, base=base,
                           manifest_out=manifest_out, compression_level=compression_level,
                           threads=threads, lock_timeout=lock_timeout)
        return _make(TransferResult, raw)

    def import_(self, path: StrPath, *, max_entry_size: int = 0, max_total_size: int = 0,
                max_entries: int = 0, lock_timeout: float | None = 600.0) -> TransferResult:
        """Merges an archive written by export() into the store. The archive is treated as
        hostile (Unsafe, LimitExceeded, Corrupt); nothing half-written becomes visible."""
        raw = self._import(path, max_entry_size=max_entry_size, max_total_size=max_total_size,
                           max_entries=max_entries, lock_timeout=lock_timeout)
        return _make(TransferResult, raw)

    # -- mounts --------------------------------------------------------------------------

    def mounts(self, *, with_sizes: bool = False) -> list[MountInfo]:
        """The mount instances of the store, sorted by id then instance."""
        return [MountInfo(*t) for t in self._mounts(with_sizes=with_sizes)]


def default_store_root() -> Path:
    """The store root Store() opens when given no path."""
    return _goaccel.store_default_root()


__all__ = [
    "ActionEntry", "ActionList", "ActionOutput", "Counters", "EntryKind", "MountInfo", "PruneEvent", "PruneResult", "Sharing",
    "RefEntry", "Store", "TransferResult", "Usage", "VerifyEvent", "VerifyProblem",
    "VerifyResult", "default_store_root",
]
