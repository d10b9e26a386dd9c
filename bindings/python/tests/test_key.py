"""The step-key builder: canonical order, JSON, diffs."""

from __future__ import annotations

import pytest

import goaccel

from conftest import needs

pytestmark = needs("key")


def test_order_of_fields_does_not_matter() -> None:
    d = goaccel.digest_bytes(b"tree")
    a = goaccel.Key("go-build").add("env:GOFLAGS", "-trimpath").add("inputs:.", d)
    b = goaccel.Key("go-build").add("inputs:.", d).add("env:GOFLAGS", "-trimpath")
    assert a.finish() == b.finish()
    assert a.encode() == b.encode()
    assert goaccel.digest_bytes(a.encode()) == a.finish()
    assert a.kind == "go-build" and len(a) == 2
    assert [name for name, _ in a.fields()] == ["env:GOFLAGS", "inputs:."]
    assert a.get("inputs:.") == d and a.get("env:GOFLAGS") == "-trimpath" and a.get("x") is None


def test_everything_is_in_the_key() -> None:
    base = goaccel.Key("go-build").add("tags", "musl").finish()
    assert goaccel.Key("go-mod-download").add("tags", "musl").finish() != base
    assert goaccel.Key("go-build").add("tags", "").finish() != base
    parent = goaccel.digest_bytes(b"deps")
    k = goaccel.Key("go-build").add("tags", "musl").set_parent(parent)
    assert k.parent == parent and k.finish() != base
    assert k.set_parent(None).finish() == base
    # bytes with a NUL and str are distinct values
    assert goaccel.Key("k").add("v", b"a\x00b").finish() != goaccel.Key("k").add("v", "ab").finish()


def test_json_round_trip_and_diff() -> None:
    old = goaccel.Key("go-build").add("ldflags", "-s -w").add("tags", "musl")
    old.set_parent(goaccel.digest_bytes(b"p"))
    again = goaccel.Key.from_json(old.to_json())
    assert isinstance(again, goaccel.Key)
    assert again.finish() == old.finish()
    new = goaccel.Key("go-build").add("ldflags", "-s").add("gcflags", "-N")
    changes = {c.name: c for c in old.diff(new)}
    assert changes["ldflags"].change is goaccel.KeyChangeKind.CHANGED
    assert (changes["ldflags"].old, changes["ldflags"].new) == ("-s -w", "-s")
    assert changes["tags"].change is goaccel.KeyChangeKind.REMOVED and changes["tags"].new is None
    assert changes["gcflags"].change is goaccel.KeyChangeKind.ADDED
    assert "@parent" in changes
    assert old.diff(again) == []


def test_errors() -> None:
    k = goaccel.Key("go-build").add("a", "1")
    with pytest.raises(goaccel.Exists):
        k.add("a", "2")
    with pytest.raises(goaccel.InvalidInput):
        k.add("@kind", "x")
    with pytest.raises(goaccel.InvalidInput):
        goaccel.Key("")
    with pytest.raises(TypeError):
        k.add("n", 3)  # type: ignore[arg-type]
    with pytest.raises(goaccel.Error):
        goaccel.Key.from_json('{"version": 1}')
