"""Tree digests, manifests and their diffs (goaccel/hash.h)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence, Union, overload

from . import _goaccel
from ._goaccel import Digest
from ._types import StrPath


def _patterns(exclude: Iterable[str]) -> list[str]:
    # A lone string would iterate as characters: refuse it.
    if isinstance(exclude, (str, bytes)):
        raise TypeError("exclude must be an iterable of patterns, not a single string")
    return list(exclude)


class EntryType(enum.IntEnum):
    """The type of a hashed entry (directories appear only through their content)."""

    FILE = 1
    SYMLINK = 2


class Change(enum.IntFlag):
    """What changed for one path between two manifests. CONTENT and MODE may be combined."""

    ADDED = 1 << 0
    REMOVED = 1 << 1
    CONTENT = 1 << 2
    MODE = 1 << 3
    TYPE = 1 << 4


@dataclass(frozen=True)
class ManifestEntry:
    """One entry of a manifest."""

    path: str
    type: EntryType
    exec: bool
    size: int
    digest: Digest
    link_target: Optional[str]

    @classmethod
    def _from_raw(cls, raw: tuple[str, int, bool, int, Digest, str | None]) -> ManifestEntry:
        path, type_, exec_, size, digest, link = raw
        return cls(path, EntryType(type_), exec_, size, digest, link)


@dataclass(frozen=True)
class ManifestChange:
    """One changed path: the change flags and the old and new entries (None where absent)."""

    path: str
    change: Change
    old: Optional[ManifestEntry]
    new: Optional[ManifestEntry]


class ManifestDiff(Sequence[ManifestChange]):
    """The changes between two manifests, in path order, with a human-readable summary."""

    def __init__(self, changes: list[ManifestChange], text: str) -> None:
        self._changes = changes
        self.text = text

    @overload
    def __getitem__(self, i: int) -> ManifestChange: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[ManifestChange]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[ManifestChange, Sequence[ManifestChange]]:
        return self._changes[i]

    def __len__(self) -> int:
        return len(self._changes)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<goaccel.ManifestDiff {len(self)} changes>"

    def paths(self, change: Change | None = None) -> list[str]:
        """The changed paths, or only those whose flags include change."""
        return [c.path for c in self._changes if change is None or c.change & change]


@dataclass(frozen=True)
class HashStats:
    """Counters of one hash call: did the stat cache spare reading files?"""

    entries: int
    dirs: int
    excluded: int
    files_hashed: int
    bytes_hashed: int
    cache_hits: int
    cache_racy: int
    cache_loaded: bool
    cache_rejected: bool
    cache_written: bool


def _stats(raw: dict[str, int]) -> HashStats:
    return HashStats(
        entries=raw["entries"], dirs=raw["dirs"], excluded=raw["excluded"],
        files_hashed=raw["files_hashed"], bytes_hashed=raw["bytes_hashed"],
        cache_hits=raw["cache_hits"], cache_racy=raw["cache_racy"],
        cache_loaded=bool(raw["cache_loaded"]), cache_rejected=bool(raw["cache_rejected"]),
        cache_written=bool(raw["cache_written"]))


class Manifest(Sequence[ManifestEntry]):
    """The per-entry list behind a tree digest (immutable).

    Make one with :meth:`of_tree`, :meth:`of_paths`, :meth:`from_json` or :meth:`load`;
    compare two with :meth:`diff` to learn which paths changed and how.
    """

    __slots__ = ("_m", "stats")

    def __init__(self, raw: _goaccel.Manifest, stats: HashStats | None = None) -> None:
        self._m = raw
        #: The counters of the hash call that made it (None when loaded or parsed).
        self.stats = stats

    # -- construction --------------------------------------------------------------------

    @classmethod
    def of_tree(cls, path: StrPath, *, exclude: Iterable[str] = (), ignore_file: StrPath | None = None,
                gitignore: bool = False, git_global_excludes: bool = False,
                stat_cache: StrPath | None = None, threads: int = 0,
                follow_symlinks: bool = False) -> Manifest:
        """Hashes a tree like :func:`hash_tree` and returns its manifest (``.digest`` is the
        tree digest)."""
        _, m, stats = _goaccel.hash(
            path, None, exclude=_patterns(exclude), ignore_file=ignore_file, gitignore=gitignore,
            git_global_excludes=git_global_excludes, stat_cache=stat_cache, threads=threads,
            follow_symlinks=follow_symlinks, manifest=True)
        assert m is not None
        return cls(m, _stats(stats))

    @classmethod
    def of_paths(cls, root: StrPath, relpaths: Iterable[StrPath], *, stat_cache: StrPath | None = None,
                 threads: int = 0, follow_symlinks: bool = False) -> Manifest:
        """Hashes exactly the listed files like :func:`hash_paths` and returns the manifest."""
        _, m, stats = _goaccel.hash(root, list(relpaths), stat_cache=stat_cache, threads=threads,
                                    follow_symlinks=follow_symlinks, manifest=True)
        assert m is not None
        return cls(m, _stats(stats))

    @classmethod
    def from_json(cls, json: str | bytes) -> Manifest:
        """Parses and validates the JSON form (docs/hashing.md)."""
        return cls(_goaccel.Manifest.from_json(json))

    @classmethod
    def load(cls, path: StrPath) -> Manifest:
        """Reads a manifest written by :meth:`save`."""
        return cls(_goaccel.Manifest.load(path))

    # -- access --------------------------------------------------------------------------

    @property
    def digest(self) -> Digest:
        """The tree digest of the entries."""
        d = self._m.digest
        assert d is not None
        return d

    def __len__(self) -> int:
        return len(self._m)

    @overload
    def __getitem__(self, i: int) -> ManifestEntry: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[ManifestEntry]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[ManifestEntry, Sequence[ManifestEntry]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return ManifestEntry._from_raw(self._m.entry(i))

    def __iter__(self) -> Iterator[ManifestEntry]:
        for i in range(len(self)):
            yield ManifestEntry._from_raw(self._m.entry(i))

    def get(self, path: StrPath) -> ManifestEntry | None:
        """The entry with that path, or None."""
        raw = self._m.find(path)
        return None if raw is None else ManifestEntry._from_raw(raw)

    def paths(self) -> list[str]:
        """Every path, in order."""
        return [e.path for e in self]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Manifest) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"<goaccel.Manifest {self.digest} entries={len(self)}>"

    # -- output --------------------------------------------------------------------------

    def to_json(self) -> str:
        """The JSON form (docs/hashing.md)."""
        return self._m.to_json()

    def save(self, path: StrPath) -> None:
        """Writes the JSON form to path atomically."""
        self._m.save(path)

    def diff(self, new: Manifest, *, text_limit: int = 0) -> ManifestDiff:
        """What changed from this (old) manifest to new: added, removed, content, mode, type.
        text_limit caps the lines of the summary (0 = all)."""
        raw, text = self._m._diff(new._m, text_limit)
        changes = [ManifestChange(path, Change(flags),
                                  None if old is None else ManifestEntry._from_raw(old),
                                  None if nw is None else ManifestEntry._from_raw(nw))
                   for path, flags, old, nw in raw]
        return ManifestDiff(changes, text)


def hash_tree(path: StrPath, *, exclude: Iterable[str] = (), ignore_file: StrPath | None = None,
              gitignore: bool = False, git_global_excludes: bool = False,
              stat_cache: StrPath | None = None, threads: int = 0,
              follow_symlinks: bool = False) -> Digest:
    """The tree digest of a file or directory (docs/hashing.md).

    exclude: .dockerignore-syntax patterns; ignore_file: a .dockerignore-syntax file;
    gitignore: leave out what git ignores; stat_cache: a file for the persistent stat cache
    (its directory must exist); threads: 0 = all cores. The GIL is released while hashing.
    """
    digest, _, _ = _goaccel.hash(
        path, None, exclude=_patterns(exclude), ignore_file=ignore_file, gitignore=gitignore,
        git_global_excludes=git_global_excludes, stat_cache=stat_cache, threads=threads,
        follow_symlinks=follow_symlinks, manifest=False)
    return digest


def hash_paths(root: StrPath, relpaths: Iterable[StrPath], *, stat_cache: StrPath | None = None,
               threads: int = 0, follow_symlinks: bool = False) -> Digest:
    """The digest of exactly the listed files (relative to root, '/'-separated), with the same
    encoding as :func:`hash_tree`: listing every file hash_tree selects gives the same digest."""
    digest, _, _ = _goaccel.hash(root, list(relpaths), stat_cache=stat_cache, threads=threads,
                                 follow_symlinks=follow_symlinks, manifest=False)
    return digest
