"""Repeating calls thousands of times — successes and error paths — must not grow memory."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Callable

import goaccel

from conftest import rss_bytes, write

ITERATIONS = int(os.environ.get("GOACCEL_PY_LEAK_ITERATIONS", "10000"))
#: RSS growth allowed over the whole run. A leak of one small object per call (64 bytes) over
#: 10,000 iterations of the calls below would be several MiB.
ALLOWED = 1 << 20


def calls(tmp_path: Path) -> list[Callable[[], object]]:
    f = write(tmp_path, "f.txt", "leak check\n")
    tree = tmp_path / "tree"
    write(tree, "a.go", "package a\n")
    write(tree, "sub/b.go", "package sub\n")
    missing = tmp_path / "missing"

    def error_path() -> None:
        try:
            goaccel.digest_file(missing)
        except goaccel.NotFound:
            pass

    def bad_digest() -> None:
        try:
            goaccel.Digest("xyz")
        except goaccel.InvalidInput:
            pass

    fns: list[Callable[[], object]] = [
        lambda: goaccel.digest_bytes(b"abc"),
        lambda: goaccel.digest_file(f),
        lambda: str(goaccel.Hasher(b"x").finish()),
        error_path,
        bad_digest,
    ]
    if "hash" in goaccel.LAYERS:
        m = goaccel.Manifest.of_tree(tree)
        fns += [lambda: goaccel.hash_tree(tree, exclude=["*.txt"], threads=1),
                lambda: list(m), lambda: m.diff(m)]
    if "key" in goaccel.LAYERS:
        old = goaccel.Key("k").add("a", "1")
        fns += [lambda: goaccel.Key("k").add("a", "2").add("b", b"\0").finish(),
                lambda: old.diff(goaccel.Key("k").add("a", "2")), lambda: old.to_json()]
    if "gomod" in goaccel.LAYERS:
        def bad_gomod() -> None:
            try:
                goaccel.gomod.parse("module a\nbogus\n")
            except goaccel.InvalidInput:
                pass
        fns += [lambda: goaccel.gomod.parse("module a\n\nrequire b.c/d v1.0.0\n"), bad_gomod]
    if "store" in goaccel.LAYERS:
        store = goaccel.Store(tmp_path / "store")
        blob = store.blob_put(b"blob")
        absent = goaccel.digest_bytes(b"absent")

        def missing_blob() -> None:
            try:
                store.blob_get(absent)
            except goaccel.NotFound:
                pass

        def mount() -> None:
            with store.mount("m"):
                pass
        key = goaccel.digest_bytes(b"leak key")
        store.action_put(key, "leak", [goaccel.ActionOutput("out", data=b"leak")])

        def peek() -> None:
            action = store.lookup(key, peek=True)
            assert action is not None
            action.close()

        def fetch() -> None:
            with store.fetch(key, tmp_path / "fetched") as action:  # type: ignore[union-attr]
                assert action.outputs
        fns += [lambda: store.blob_get(blob), missing_blob, lambda: store.blob_exists(blob), mount,
                peek, lambda: store.lookup(absent, peek=True), fetch, lambda: store.fetch(absent, tmp_path / "no")]
        store.ref_set("leak", blob)
        fns += [lambda: store.actions(), lambda: store.actions("leak", glob="*", by_last_used=True),
                lambda: store.refs()]
    return fns


def run(fns: list[Callable[[], object]], n: int) -> None:
    for _ in range(n):
        for fn in fns:
            fn()


def test_repeated_calls_keep_memory_stable(tmp_path: Path) -> None:
    fns = calls(tmp_path)
    run(fns, max(ITERATIONS // 10, 100))  # warm up: caches, arenas, first-use allocations
    gc.collect()
    before = rss_bytes()
    run(fns, ITERATIONS)
    gc.collect()
    grown = rss_bytes() - before
    assert grown < ALLOWED, f"RSS grew by {grown} bytes over {ITERATIONS} iterations of {len(fns)} calls"
