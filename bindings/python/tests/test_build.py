"""go_build() of the example module: a real go build that hits on the second call."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import goaccel

from conftest import REPO, needs

# The pipeline stands on the layers below it.
pytestmark = [needs("build"), needs("hash"), needs("gomod"), needs("key"), needs("store"),
              pytest.mark.slow]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for the module's builds: Go's build cache (a mount in it) compiles the standard
    library once, not once per test. Each test uses its own flags, so its first build misses.
    scripts/test passes $GOACCEL_TEST_GO_SEED, an export of another suite's Go module and build
    caches (mounts only, no action records: the store stays cold for goaccel), to start from."""
    path = tmp_path_factory.mktemp("build") / "cache"
    seed = os.environ.get("GOACCEL_TEST_GO_SEED", "")
    if seed and os.path.isfile(seed):
        with goaccel.Store(path) as store:
            store.import_(seed)
    return path


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


def _oci_config(layout: Path) -> dict[str, Any]:
    """The "config" object of the only image in an OCI layout (index → manifest → config)."""
    def blob(digest: str) -> Any:
        return json.loads((layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_text())
    [entry] = json.loads((layout / "index.json").read_text())["manifests"]
    config: dict[str, Any] = blob(blob(entry["digest"])["config"]["digest"]).get("config", {})
    return config


def test_image_configuration(app: Path, go_env: dict[str, str], tmp_path: Path, cache: Path) -> None:
    """ENV, ENTRYPOINT, CMD, WORKDIR, USER and LABEL of the image; entrypoint=[] clears it, none
    makes it the binary. None of it is in a key: the later builds hit and still write theirs."""
    layout = tmp_path / "oci"
    common: dict[str, Any] = dict(cache_dir=cache, environ=go_env, image_dir=layout, tags="musl")
    goaccel.go_build(app, image_env={"TZ": "Asia/Shanghai", "MODE": "prod"},
                     entrypoint=["/orders", "--serve"], cmd=["--port", "8080"], workdir="/srv",
                     user="65534:65534", labels={"org.opencontainers.image.title": "orders"}, **common)
    c = _oci_config(layout)
    assert {"TZ=Asia/Shanghai", "MODE=prod"} <= set(c["Env"])
    assert (c["Entrypoint"], c["Cmd"]) == (["/orders", "--serve"], ["--port", "8080"])
    assert (c["WorkingDir"], c["User"]) == ("/srv", "65534:65534")
    assert c["Labels"] == {"org.opencontainers.image.title": "orders"}

    cleared = goaccel.go_build(app, entrypoint=[], cmd=["/orders"], **common)
    assert cleared.build.hit
    c = _oci_config(layout)
    assert not c.get("Entrypoint") and c["Cmd"] == ["/orders"] and "MODE=prod" not in c.get("Env", [])
    assert not c.get("WorkingDir") and not c.get("User") and not c.get("Labels")

    goaccel.go_build(app, **common)
    c = _oci_config(layout)
    assert c["Entrypoint"] == ["/orders"] and not c.get("Cmd")
    with pytest.raises(TypeError):  # a lone string is not an argv
        goaccel.go_build(app, entrypoint="/orders", **common)


def _go_build_children() -> list[int]:
    """The pids of this process's child processes running `go build` (from /proc)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
        if ppid == me and len(argv) > 1 and os.path.basename(argv[0]) == b"go" and argv[1] == b"build":
            found.append(int(entry))
    return found


def _live_group_members(pgid: int) -> list[int]:
    """Processes (not zombies) in process group pgid: go and the compilers it started."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                members.append(int(entry))
    return members


class _SignalWhenGoBuilds:
    """A thread that sends this process SIGINT once a child `go build` is running (seen in
    /proc, so no progress callback is needed to know it), never after the build returned."""

    def __init__(self) -> None:
        self.go_pid: int | None = None
        self.sent = threading.Event()
        self._done = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            pids = _go_build_children()
            with self._lock:
                if self._done:
                    return
                if pids:
                    self.go_pid = pids[0]
                    os.kill(os.getpid(), signal.SIGINT)
                    self.sent.set()
                    return
            time.sleep(0.02)

    def __enter__(self) -> _SignalWhenGoBuilds:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._thread.join()


@pytest.fixture
def sigint_handler() -> Iterator[Callable[[Any], None]]:
    """Sets SIGINT's disposition for one test and restores it. The test must not depend on the
    one it inherited: a process started with SIGINT ignored (a background job of a
    non-interactive shell, e.g. `bash .ci/run &`) keeps it ignored — Python then installs no
    KeyboardInterrupt handler and Ctrl-C rightly cancels nothing."""
    old = signal.getsignal(signal.SIGINT)

    def set_handler(handler: Any) -> None:
        signal.signal(signal.SIGINT, handler)

    yield set_handler
    signal.signal(signal.SIGINT, old)


@pytest.mark.parametrize("with_progress", [False, True], ids=["no-callback", "callback"])
def test_ctrl_c_cancels_a_running_build(app: Path, go_env: dict[str, str], tmp_path: Path,
                                        sigint_handler: Callable[[Any], None], with_progress: bool) -> None:
    """SIGINT while go runs (the GIL released) raises KeyboardInterrupt, even with no progress
    callback: the library's ticks let the binding run Python's signal handlers. go and the
    compilers it started are stopped, and nothing is written."""
    sigint_handler(signal.default_int_handler)
    events: list[goaccel.BuildEvent] = []
    with _SignalWhenGoBuilds() as interrupter:
        with pytest.raises(KeyboardInterrupt):
            # A cold store: go compiles the standard library, far longer than finding its pid.
            goaccel.go_build(app, cache_dir=tmp_path / "cold", environ=go_env, tags="ctrl_c",
                             output_dir=tmp_path / "out",
                             progress=events.append if with_progress else None)
    assert interrupter.sent.is_set() and interrupter.go_pid is not None
    # Cancelled, not merely interrupted after the build returned: go was stopped (its process
    # group, compilers included, is gone once they are reaped) and nothing was written.
    deadline = time.monotonic() + 30
    while _live_group_members(interrupter.go_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _live_group_members(interrupter.go_pid)
    assert not (tmp_path / "out" / "orders").exists()
    if with_progress:
        assert any(e.type is goaccel.EventType.COMMAND and e.step is goaccel.Step.BUILD for e in events)
        assert not any(e.type is goaccel.EventType.STEP_END and e.step is goaccel.Step.BUILD for e in events)


def test_ignored_sigint_does_not_cancel(app: Path, go_env: dict[str, str], tmp_path: Path,
                                        sigint_handler: Callable[[Any], None]) -> None:
    """With SIGINT ignored (signal.SIG_IGN), a SIGINT during go_build changes nothing: the
    build goes on (ticks keep coming) until the progress callback stops it itself."""
    sigint_handler(signal.SIG_IGN)

    class Stop(Exception):
        pass

    ticks_after = 0
    with _SignalWhenGoBuilds() as interrupter:
        def progress(event: goaccel.BuildEvent) -> None:
            nonlocal ticks_after
            if interrupter.sent.is_set() and event.type is goaccel.EventType.TICK:
                ticks_after += 1
                if ticks_after == 3:
                    raise Stop()

        with pytest.raises(Stop):
            goaccel.go_build(app, cache_dir=tmp_path / "cold", environ=go_env, tags="ctrl_c",
                             output_dir=tmp_path / "out", progress=progress)
    assert interrupter.sent.is_set() and ticks_after == 3
