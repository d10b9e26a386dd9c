"""Store, cache mounts (across processes), actions, refs, stats, prune, verify, export/import."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import goaccel

from conftest import needs, write

pytestmark = needs("store")

HOLDER = """
import sys, goaccel
store = goaccel.Store(sys.argv[1])
with store.mount("gomod", sharing="locked") as path:
    (path / "holder.txt").write_text("held")
    print("held", flush=True)
    sys.stdin.readline()      # hold the mount until the test says so
print("released", flush=True)
"""


@pytest.fixture
def store(tmp_path: Path) -> goaccel.Store:
    return goaccel.Store(tmp_path / "store")


def test_open_close_and_context_manager(tmp_path: Path) -> None:
    with goaccel.Store(tmp_path / "s") as s:
        assert s.path == (tmp_path / "s").resolve() and not s.closed
        d = s.blob_put(b"x")
    assert s.closed
    with pytest.raises(ValueError):
        s.blob_get(d)
    with pytest.raises(goaccel.NotFound):
        goaccel.Store(tmp_path / "missing", create=False)
    write(tmp_path, "file", "not a dir")
    with pytest.raises(goaccel.Error):
        goaccel.Store(tmp_path / "file")


def test_blobs(store: goaccel.Store, tmp_path: Path) -> None:
    d = store.blob_put(b"hello")
    assert d == goaccel.digest_bytes(b"hello")
    assert store.blob_get(d) == b"hello" and store.blob_get(str(d)) == b"hello"
    assert store.blob_exists(d) and not store.blob_exists(goaccel.digest_bytes(b"other"))
    f = write(tmp_path, "in.bin", b"\x00\x01" * 1000)
    assert store.blob_put_file(f) == goaccel.digest_file(f)
    store.blob_copy(d, tmp_path / "out.txt", 0o600)
    assert (tmp_path / "out.txt").read_bytes() == b"hello"
    assert store.blob_path(d).read_bytes() == b"hello"
    with pytest.raises(goaccel.NotFound):
        store.blob_get(goaccel.digest_bytes(b"absent"))
    with pytest.raises(goaccel.LimitExceeded):
        store.blob_get(store.blob_put(b"x" * 100), max_size=10)


def test_actions_refs_and_stats(store: goaccel.Store, tmp_path: Path) -> None:
    key = goaccel.digest_bytes(b"step key")
    assert store.lookup(key, "gobuild") is None  # a miss is None, not an exception
    binary = write(tmp_path, "bin/app", b"\x7fELF...", mode=0o755)
    store.action_put(key, "gobuild", [("app", binary),
                                      goaccel.ActionOutput("notes.txt", data=b"notes", mode=0o644)],
                     duration=1.5, info='{"go": "1.22"}')
    action = store.lookup(key, "gobuild")
    assert action is not None
    with action:
        assert action.key == key and action.kind == "gobuild" and action.info == '{"go": "1.22"}'
        assert action.duration_ns == 1_500_000_000
        names = {name: (mode, size) for name, mode, size, _ in action.outputs}
        assert names == {"app": (0o755, 7), "notes.txt": (0o644, 5)}
        action.restore(tmp_path / "restored")
    assert (tmp_path / "restored" / "app").read_bytes() == b"\x7fELF..."
    assert (tmp_path / "restored" / "app").stat().st_mode & 0o777 == 0o755
    with pytest.raises(ValueError):
        action.restore(tmp_path / "again")  # closed

    stats = store.stats("gobuild")
    assert (stats.hits, stats.misses, stats.puts) == (1, 1, 1)
    assert stats.hit_rate == 0.5 and stats.time_saved == pytest.approx(1.5)
    assert store.stats().hits == 1
    assert '"gobuild"' in store.stats_json()
    assert store.usage().blobs >= 2

    # A ref names a blob that is in the store (the store refuses a ref that would dangle).
    with pytest.raises(goaccel.NotFound):
        store.ref_set("target:app", key)
    state = store.blob_put(b"previous build of app")
    store.ref_set("target:app", state)
    assert store.ref_get("target:app") == state
    store.ref_remove("target:app")
    assert store.ref_get("target:app") is None
    store.action_remove(key)
    assert store.lookup(key) is None
    store.stats_reset()
    assert store.stats().hits == 0


def _put_app(store: goaccel.Store, tmp_path: Path, key: goaccel.Digest) -> goaccel.Digest:
    """Records an action with two outputs under key; returns the digest of its "app" blob."""
    binary = write(tmp_path, "src/app", b"\x7fELF fetch me", mode=0o755)
    store.action_put(key, "gobuild", [("app", binary), goaccel.ActionOutput("notes.txt", data=b"n")],
                     duration=2.0)
    return goaccel.digest_file(binary)


def _corrupt(store: goaccel.Store, blob: goaccel.Digest) -> None:
    p = store.blob_path(blob)
    p.chmod(0o644)
    p.write_bytes(b"\x7fELF fetch mE")  # same size, other content


def test_lookup_peek_counts_and_touches_nothing(store: goaccel.Store, tmp_path: Path) -> None:
    key = goaccel.digest_bytes(b"peek key")
    assert store.lookup(key, "gobuild", peek=True) is None
    assert store.stats("gobuild").misses == 0  # a peeked miss is not counted
    blob = _put_app(store, tmp_path, key)
    with store.lookup(key, peek=True) as action:  # type: ignore[union-attr]
        assert action.kind == "gobuild" and len(action.outputs) == 2
        last_used = action.last_used_ns
    time.sleep(0.01)
    with store.lookup(key, peek=True) as again:  # type: ignore[union-attr]
        assert again.last_used_ns == last_used  # peek left last-used as it was
    assert (store.stats("gobuild").hits, store.stats("gobuild").misses) == (0, 0)
    with store.lookup(key) as counted:  # type: ignore[union-attr]
        assert counted.last_used_ns == last_used
    assert store.stats("gobuild").hits == 1
    with store.lookup(key, peek=True) as after:  # type: ignore[union-attr]
        assert after.last_used_ns > last_used  # the ordinary lookup touched it

    # A damaged entry: peek answers a miss and leaves it; an ordinary lookup then removes it.
    _corrupt(store, blob)
    assert store.lookup(key, peek=True) is None
    assert store.blob_exists(blob) and store.stats("gobuild").corrupt == 0
    assert store.lookup(key) is None
    assert not store.blob_exists(blob) and store.stats("gobuild").corrupt == 1


def test_fetch_restores_on_a_hit_and_leaves_nothing_on_a_miss(store: goaccel.Store, tmp_path: Path) -> None:
    key = goaccel.digest_bytes(b"fetch key")
    dest = tmp_path / "deep" / "out"
    assert store.fetch(key, dest, "gobuild") is None
    assert not dest.exists() and store.stats("gobuild").misses == 1
    blob = _put_app(store, tmp_path, key)

    action = store.fetch(key, dest, "gobuild")
    assert action is not None
    with action:
        assert action.key == key and {o[0] for o in action.outputs} == {"app", "notes.txt"}
    assert (dest / "app").read_bytes() == b"\x7fELF fetch me"
    assert (dest / "app").stat().st_mode & 0o777 == 0o755 and (dest / "notes.txt").read_bytes() == b"n"
    stats = store.stats("gobuild")
    assert stats.hits == 1 and stats.bytes_restored == 14 and stats.time_saved == pytest.approx(2.0)

    (dest / "notes.txt").chmod(0o644)
    (dest / "notes.txt").write_bytes(b"mine")
    with pytest.raises(goaccel.Exists):  # no_overwrite: an output exists, nothing restored
        store.fetch(key, dest, no_overwrite=True)
    assert (dest / "notes.txt").read_bytes() == b"mine"
    assert store.stats("gobuild").hits == 1  # and not counted

    # A blob damaged in the store never reaches dest: a miss, the record removed, dest untouched.
    _corrupt(store, blob)
    fresh = tmp_path / "fresh"
    assert store.fetch(key, fresh, "gobuild") is None
    assert not fresh.exists()
    assert store.stats("gobuild").corrupt == 1 and store.lookup(key, peek=True) is None


def test_actions_and_refs_are_listed_without_touching_anything(store: goaccel.Store,
                                                                tmp_path: Path) -> None:
    assert store.actions() == [] and store.actions().skipped == 0 and store.refs() == []
    keys = [goaccel.digest_bytes(b"list %d" % i) for i in range(3)]
    _put_app(store, tmp_path, keys[0])
    store.action_put(keys[1], "gomod", [goaccel.ActionOutput("deps.json", data=b"{}")], info="i")
    store.action_put(keys[2], "gobuild", [goaccel.ActionOutput("x", data=b"xyz")])
    time.sleep(0.01)
    with store.lookup(keys[0]):  # type: ignore[union-attr]  # keys[0] is now the most recently used
        pass
    before = store.stats()

    listed = store.actions()
    assert [e.key for e in listed] == sorted(keys, key=lambda k: k.hex())
    first = next(e for e in listed if e.key == keys[0])
    assert first.kind == "gobuild" and first.duration_ns == 2_000_000_000 and first.info is None
    assert [(o[0], o[1] & 0o777, o[2]) for o in first.outputs] == [("app", 0o755, 13), ("notes.txt", 0o644, 1)]
    assert first.total_size == 14 and first.record_bytes > 0 and first.last_used_ns > first.created_ns
    assert first.outputs[0][3] == goaccel.digest_bytes(b"\x7fELF fetch me")
    assert {e.key for e in store.actions("gobuild")} == {keys[0], keys[2]}
    [mod] = store.actions(glob=f"gomod/{keys[1].hex()[:8]}*")
    assert mod.key == keys[1] and mod.info == "i" and mod.total_size == 2
    assert store.actions(by_last_used=True)[-1].key == keys[0]  # prune's order: LRU first
    with pytest.raises(goaccel.InvalidInput):
        store.actions("bad kind!")
    assert store.stats() == before  # nothing counted

    a, b = store.blob_put(b"state a"), store.blob_put(b"state b")
    store.ref_set("target:b", b)
    store.ref_set("target:a", a)
    refs = store.refs()
    assert [(r.name, r.blob) for r in refs] == [("target:a", a), ("target:b", b)]
    assert all(r.last_used_ns > 0 for r in refs)


def test_mount_is_a_context_manager_yielding_a_path(store: goaccel.Store) -> None:
    with store.mount("gobuild", sharing=goaccel.Sharing.SHARED) as path:
        assert isinstance(path, Path) and path.is_dir()
        (path / "x").write_text("cached")
    m = store.mount("gobuild")
    assert (m.path / "x").read_text() == "cached"
    assert m.id == "gobuild" and m.instance == 0 and m.sharing == "shared" and m.store is store
    m.release()
    assert m.released
    with pytest.raises(ValueError):
        m.path
    # A private mount while the main instance is held gets an extra instance.
    with store.mount("gobuild", "private") as main_path, store.mount("gobuild", "private") as other:
        assert main_path != other
    info = {(i.id, i.instance) for i in store.mounts()}
    assert ("gobuild", 0) in info
    with pytest.raises(ValueError):
        store.mount("gobuild", sharing="exclusive")
    with pytest.raises(goaccel.InvalidInput):
        store.mount("../escape")


def test_store_closes_only_after_its_mounts(tmp_path: Path) -> None:
    s = goaccel.Store(tmp_path / "s")
    m = s.mount("m")
    s.close()
    assert s.closed and m.path.is_dir()  # the mount keeps the handle alive
    with pytest.raises(ValueError):
        s.mount("other")
    m.release()


def test_locked_mount_blocks_another_process(tmp_path: Path) -> None:
    root = tmp_path / "store"
    goaccel.Store(root).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        with goaccel.Store(root) as store:
            with pytest.raises(goaccel.Locked) as info:
                store.mount("gomod", sharing="locked", timeout=0.2)
            assert info.value.code_name == "GOACCEL_ELOCKED"
            # SHARED waits for a LOCKED holder too.
            with pytest.raises(goaccel.Locked):
                store.mount("gomod", sharing="shared", timeout=0)

            # A thread waits (without the GIL) while this thread keeps running Python code.
            got: list[str] = []

            def waiter() -> None:
                with store.mount("gomod", sharing="locked", timeout=60) as path:
                    got.append((path / "holder.txt").read_text())

            t = threading.Thread(target=waiter)
            t.start()
            spins = 0
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                spins += 1  # would stall if the waiting thread held the GIL
            assert t.is_alive() and not got and spins > 1000
            holder.stdin.write("go\n")
            holder.stdin.flush()
            t.join(60)
            assert not t.is_alive() and got == ["held"]
        assert holder.stdout.readline().strip() == "released"
    finally:
        holder.kill()
        holder.wait()


def test_prune_callback_exception_propagates_unchanged(store: goaccel.Store) -> None:
    store.blob_put(b"unreferenced 1")
    store.blob_put(b"unreferenced 2")
    seen: list[goaccel.PruneEvent] = []
    result = store.prune(dry_run=True, blob_grace=None, callback=seen.append)
    assert result.blobs == 2 and len(seen) == 2 and seen[0].kind is goaccel.EntryKind.BLOB

    class Stop(Exception):
        pass

    raised = Stop("from the callback")

    def callback(event: goaccel.PruneEvent) -> None:
        raise raised

    with pytest.raises(Stop) as info:
        store.prune(blob_grace=None, callback=callback)
    assert info.value is raised  # the very object, not a goaccel.Cancelled
    assert info.traceback[-1].name == "callback"
    # prune stopped at the first entry: one blob is still there
    assert store.usage().blobs >= 1
    assert store.prune(blob_grace=None).blobs >= 1
    assert store.usage().blobs == 0


def test_verify_finds_and_repairs_a_corrupt_blob(store: goaccel.Store) -> None:
    d = store.blob_put(b"precious")
    assert store.verify().ok
    p = store.blob_path(d)
    p.chmod(0o644)
    p.write_bytes(b"tampered")
    events: list[goaccel.VerifyEvent] = []
    result = store.verify(callback=events.append)
    assert not result.ok and result.corrupt_blobs == 1
    assert events[0].problem is goaccel.VerifyProblem.CORRUPT_BLOB
    assert store.verify(repair=True).repaired == 1
    assert store.verify().ok


def test_export_import_round_trip(tmp_path: Path) -> None:
    src = goaccel.Store(tmp_path / "src")
    key = goaccel.digest_bytes(b"k")
    src.action_put(key, "gobuild", [goaccel.ActionOutput("app", data=b"binary", mode=0o755)])
    src.ref_set("target", src.blob_put(b"previous key json"))
    with src.mount("gomod") as modcache:
        write(modcache, "cache/download/example.com/m/@v/v1.0.0.mod", "module example.com/m\n")
    full = tmp_path / "full.tar.zst"
    manifest = tmp_path / "full.manifest"
    r = src.export(full, mounts=["gomod"], actions=True, refs=True, manifest_out=manifest)
    assert r.actions == 1 and r.mounts == 1 and r.refs == 1 and full.exists()

    with goaccel.Store(tmp_path / "dst") as dst:
        assert dst.lookup(key) is None
        got = dst.import_(full)
        assert got.actions == 1
        action = dst.lookup(key, "gobuild")
        assert action is not None
        action.restore(tmp_path / "out")
        action.close()
        assert (tmp_path / "out" / "app").read_bytes() == b"binary"
        assert dst.ref_get("target") == goaccel.digest_bytes(b"previous key json")
        with dst.mount("gomod") as m:
            assert (m / "cache/download/example.com/m/@v/v1.0.0.mod").read_text() == "module example.com/m\n"

    # A delta against the first export carries only what changed.
    src.action_put(goaccel.digest_bytes(b"k2"), "gobuild", [goaccel.ActionOutput("b", data=b"2")])
    delta = src.export(tmp_path / "delta.tar.zst", mounts=["gomod"], actions=True, refs=True,
                       base=manifest)
    assert delta.actions == 1 and delta.unchanged >= 2
    src.close()

    bad = write(tmp_path, "bad.tar.zst", b"not an archive")
    with goaccel.Store(tmp_path / "dst2") as dst2, pytest.raises(goaccel.Error):
        dst2.import_(bad)
