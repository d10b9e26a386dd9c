"""hash_tree, hash_paths, Manifest and its diff, against real trees on disk."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import goaccel

from conftest import needs, write

pytestmark = needs("hash")


def test_digest_ignores_mtime_and_location(tree: Path, tmp_path: Path) -> None:
    d1 = goaccel.hash_tree(tree)
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tree, copy, symlinks=True)
    os.utime(copy / "a.txt", (1, 1))
    assert goaccel.hash_tree(copy) == d1
    assert goaccel.hash_tree(str(tree)) == d1 == goaccel.hash_tree(os.fsencode(tree))
    assert isinstance(d1, goaccel.Digest)


def test_digest_covers_content_mode_and_links(tree: Path) -> None:
    base = goaccel.hash_tree(tree)
    (tree / "a.txt").write_text("alpha!\n")
    changed = goaccel.hash_tree(tree)
    assert changed != base
    (tree / "dir" / "b.txt").chmod(0o755)
    assert goaccel.hash_tree(tree) != changed
    (tree / "link").unlink()
    (tree / "link").symlink_to("dir/b.txt")
    assert len({base, changed, goaccel.hash_tree(tree)}) == 3


def test_exclude_patterns_and_git_dir(tree: Path) -> None:
    base = goaccel.hash_tree(tree)
    write(tree, "debug.log", "noise")
    assert goaccel.hash_tree(tree) != base
    assert goaccel.hash_tree(tree, exclude=["*.log"]) == base
    write(tree, ".git/HEAD", "ref: refs/heads/main\n")  # .git is never part of a digest
    assert goaccel.hash_tree(tree, exclude=["*.log"]) == base
    ignore = write(tree.parent, "ignore", "*.log\n")
    assert goaccel.hash_tree(tree, ignore_file=ignore) == base


def test_hash_paths_matches_hash_tree(tree: Path) -> None:
    m = goaccel.Manifest.of_tree(tree)
    assert goaccel.hash_paths(tree, m.paths()) == goaccel.hash_tree(tree) == m.digest
    assert goaccel.hash_paths(tree, ["a.txt"]) != m.digest


def test_manifest_entries(tree: Path) -> None:
    m = goaccel.Manifest.of_tree(tree)
    assert m.paths() == ["a.txt", "dir/b.txt", "link", "run.sh"]
    assert len(m) == 4 and m[0] == m.get("a.txt") and m[-1].path == "run.sh"
    a = m.get("a.txt")
    assert a is not None
    assert a.type is goaccel.EntryType.FILE and a.size == 6 and not a.exec
    assert a.digest == goaccel.digest_bytes(b"alpha\n")
    link = m.get("link")
    assert link is not None and link.type is goaccel.EntryType.SYMLINK and link.link_target == "a.txt"
    run = m.get("run.sh")
    assert run is not None and run.exec
    assert m.get("missing") is None
    assert [e.path for e in m[1:3]] == ["dir/b.txt", "link"]


def test_manifest_json_and_files_round_trip(tree: Path, tmp_path: Path) -> None:
    m = goaccel.Manifest.of_tree(tree)
    again = goaccel.Manifest.from_json(m.to_json())
    assert again == m and list(again) == list(m)
    m.save(tmp_path / "m.json")
    assert goaccel.Manifest.load(tmp_path / "m.json") == m
    with pytest.raises(goaccel.NotFound):
        goaccel.Manifest.load(tmp_path / "nope.json")
    with pytest.raises(goaccel.InvalidInput):
        goaccel.Manifest.from_json("{not json")


def test_manifest_diff(tree: Path) -> None:
    old = goaccel.Manifest.of_tree(tree)
    (tree / "a.txt").write_text("changed\n")
    (tree / "run.sh").chmod(0o644)
    (tree / "dir" / "b.txt").unlink()
    write(tree, "new.go", "package main\n")
    new = goaccel.Manifest.of_tree(tree)
    diff = old.diff(new)
    by_path = {c.path: c for c in diff}
    assert set(by_path) == {"a.txt", "run.sh", "dir/b.txt", "new.go"}
    assert by_path["a.txt"].change & goaccel.Change.CONTENT
    assert by_path["run.sh"].change == goaccel.Change.MODE
    assert by_path["dir/b.txt"].change == goaccel.Change.REMOVED and by_path["dir/b.txt"].new is None
    assert by_path["new.go"].change == goaccel.Change.ADDED and by_path["new.go"].old is None
    assert diff.paths(goaccel.Change.ADDED) == ["new.go"]
    assert "new.go" in diff.text and "a.txt" in str(diff)
    assert len(old.diff(old)) == 0


def test_stat_cache_spares_rehashing(tree: Path, tmp_path: Path) -> None:
    # The racy rule (docs/hashing.md) re-reads files whose ctime is not older than the cache's
    # stamp in whole seconds: let the fixture's files age past that first.
    time.sleep(1.1)
    cache = tmp_path / "statcache"
    first = goaccel.Manifest.of_tree(tree, stat_cache=cache)
    assert first.stats is not None and first.stats.files_hashed > 0 and first.stats.cache_written
    assert cache.exists()
    warm = goaccel.Manifest.of_tree(tree, stat_cache=cache)
    assert warm.digest == first.digest
    assert warm.stats is not None and warm.stats.cache_hits == 3 and warm.stats.bytes_hashed == 0


def test_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(goaccel.NotFound) as info:
        goaccel.hash_tree(tmp_path / "absent")
    assert "absent" in str(info.value)
    with pytest.raises(goaccel.InvalidInput):
        goaccel.hash_paths(tmp_path, ["../escape"])
    with pytest.raises(TypeError):
        goaccel.hash_tree(tmp_path, exclude="*.log")  # a lone string is refused
