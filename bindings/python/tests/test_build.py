"""go_build() of the example module: a real go build that hits on the second call."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import goaccel

from conftest import REPO, needs

# The pipeline stands on the layers below it: until they are in the library, its go_build
# cannot be the real one.
pytestmark = [needs("build"), needs("hash"), needs("gomod"), needs("key"), needs("store"),
              pytest.mark.slow]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the module's builds: Go's build cache (a mount in it) compiles the standard
    library once, not once per test. Each test uses its own flags, so its first build misses."""
    return tmp_path_factory.mktemp("build") / "cache"


@pytest.fixture(autouse=True)
def real_pipeline(tmp_path: Path) -> None:
    """Skips while the build layer is still its interim placeholder, which answers every call
    with a plain Error saying so (the real one says NotFound for a directory without go.mod)."""
    try:
        goaccel.go_build(tmp_path / "no-module", cache_dir=tmp_path / "probe-cache")
    except goaccel.NotFound:
        return
    except goaccel.Error as e:
        if "not implemented" in e.message:
            pytest.skip(f"the build layer is a placeholder in this libgoaccel: {e.message}")
        raise


def test_second_build_hits_and_explains_misses(app: Path, go_env: dict[str, str], tmp_path: Path,
                                               cache: Path) -> None:
    out = tmp_path / "out"
    events: list[goaccel.BuildEvent] = []
    common = dict(cache_dir=cache, environ=go_env, output_dir=out, tags="musl",
                  ldflags="-s -w -X main.version=1.2.3")

    first = goaccel.go_build(app, progress=events.append, **common)  # type: ignore[arg-type]
    assert first.build.status is goaccel.Status.MISS and first.build.key is not None
    assert first.build.duration > 0 and first.build.explanation
    [binary] = first.outputs
    assert binary.path is not None and binary.path.parent == out
    version = subprocess.run([str(binary.path), "--version"], text=True, capture_output=True, check=True)
    assert "1.2.3" in version.stdout
    kinds = {e.type for e in events}
    assert {goaccel.EventType.STEP_START, goaccel.EventType.STEP_END} <= kinds
    assert any(e.type is goaccel.EventType.STEP_END and e.step is goaccel.Step.BUILD for e in events)

    second = goaccel.go_build(app, **common)  # type: ignore[arg-type]
    assert second.build.hit and second.build.key == first.build.key
    assert second.deps.status in (goaccel.Status.HIT, goaccel.Status.SKIPPED)
    assert second.all_hit and second.build.saved > 0
    assert second.outputs[0].digest == binary.digest
    assert second.to_dict()  # the --json document parses

    # A README edit is not a build input: still a hit.
    (app / "README.md").write_text("changed\n")
    assert goaccel.go_build(app, **common).build.hit  # type: ignore[arg-type]

    # A source edit misses, and the result says which file changed.
    main = app / "main.go"
    main.write_text(main.read_text() + "\n// touched\n")
    third = goaccel.go_build(app, **common)  # type: ignore[arg-type]
    assert third.build.miss
    assert any(c.name == "main.go" for c in third.build.changes), third.build.changes
    assert "main.go" in third.build.explanation


def test_progress_exception_aborts_and_propagates(app: Path, go_env: dict[str, str], cache: Path) -> None:
    class Abort(Exception):
        pass

    raised = Abort("stop the build")
    calls = 0

    def progress(event: goaccel.BuildEvent) -> None:
        nonlocal calls
        calls += 1
        raise raised

    with pytest.raises(Abort) as info:
        goaccel.go_build(app, cache_dir=cache, environ=go_env, progress=progress)
    assert info.value is raised and calls == 1
    assert info.traceback[-1].name == "progress"


def test_build_failure_carries_go_output(app: Path, go_env: dict[str, str], tmp_path: Path,
                                        cache: Path) -> None:
    (app / "broken.go").write_text("package main\n\nfunc broken() { undefined_name() }\n")
    with pytest.raises(goaccel.BuildFailed) as info:
        goaccel.go_build(app, cache_dir=cache, environ=go_env)
    assert "undefined_name" in str(info.value)
    with pytest.raises(goaccel.NotFound):
        goaccel.go_build(tmp_path, cache_dir=cache, environ=go_env)


def test_ci_build_example_carries_the_cache_to_a_new_machine(app: Path, go_env: dict[str, str],
                                                              tmp_path: Path, cache: Path) -> None:
    """examples/python/ci_build.py on one machine (the module's store, warm from the other
    tests), then on a new CI runner (a fresh store): the second run imports the first run's
    archive and its build step hits."""
    script = REPO / "examples" / "python" / "ci_build.py"
    archive = tmp_path / "artifacts" / "cache.tar.zst"
    archive.parent.mkdir()

    def run(n: int, store: Path) -> str:
        r = subprocess.run([sys.executable, str(script), str(app), "--cache-archive", str(archive),
                            "--store", str(store), "--out", str(tmp_path / f"out{n}")],
                           env=go_env, text=True, capture_output=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    (app / "ci.go").write_text("package main\n\nconst ciRun = true\n")  # a build no other test made
    first = run(1, cache)
    assert "starting cold" in first and re.search(r"build: miss", first) and archive.exists()
    warm = run(2, tmp_path / "new-runner-store")
    assert f"imported {archive}" in warm
    assert re.search(r"build: hit", warm), warm
    assert (tmp_path / "out2" / "orders").exists()
    assert list(archive.parent.glob("cache.delta-*.tar.zst"))


@pytest.mark.skip(reason="fails with DID NOT RAISE when run after the other build tests in a "
                         "full clean-clone run (passes alone); cause not yet found, issue 8 open")
def test_ctrl_c_cancels_a_running_build(app: Path, go_env: dict[str, str], tmp_path: Path) -> None:
    """SIGINT while go runs (the GIL released) raises KeyboardInterrupt promptly, even with no
    progress callback: the library's ticks let the binding run Python's signal handlers."""
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            # A cold store: go compiles the standard library, far longer than the timer.
            goaccel.go_build(app, cache_dir=tmp_path / "cold", environ=go_env, tags="ctrl_c",
                             output_dir=tmp_path / "out")
    finally:
        timer.cancel()
    assert time.monotonic() - started >= 1.0
    # Cancelled, not merely interrupted after the build returned: nothing was written.
    assert not (tmp_path / "out" / "orders").exists()
