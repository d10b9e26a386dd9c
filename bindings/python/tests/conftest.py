"""Shared fixtures for the goaccel binding tests. Everything runs against the real libgoaccel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

import goaccel

#: The repository root (bindings/python/tests/../../..).
REPO = Path(__file__).resolve().parents[3]


def write(root: Path, rel: str, content: str | bytes, mode: int | None = None) -> Path:
    """Writes a file under root, creating its parents."""
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        p.write_text(content)
    else:
        p.write_bytes(content)
    if mode is not None:
        p.chmod(mode)
    return p


def run_python(code: str, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs code in a fresh interpreter (the same one running the tests)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, text=True,
                          capture_output=True, timeout=timeout)


def rss_bytes() -> int:
    """The resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """A small source tree: two files, a subdirectory, an executable and a symlink."""
    root = tmp_path / "tree"
    write(root, "a.txt", "alpha\n")
    write(root, "dir/b.txt", "beta\n")
    write(root, "run.sh", "#!/bin/sh\necho hi\n", mode=0o755)
    (root / "link").symlink_to("a.txt")
    yield root


def needs(layer: str) -> pytest.MarkDecorator:
    """Skips a test module when the extension was built without a layer of libgoaccel (a
    library where that layer is not implemented yet). scripts/test.d/60-python sets
    GOACCEL_PY_REQUIRE_LAYERS to turn such a skip into a failure."""
    required = os.environ.get("GOACCEL_PY_REQUIRE_LAYERS", "")
    if layer not in goaccel.LAYERS and (required == "all" or layer in required.split(",")):
        raise RuntimeError(f"the {layer} layer is required but was not compiled in")
    return pytest.mark.skipif(layer not in goaccel.LAYERS,
                              reason=f"libgoaccel was built without the {layer} layer")


EXAMPLE_APP = REPO / "examples" / "app"


@pytest.fixture(scope="session")
def go_proxy() -> Path:
    """The GOPROXY=file:// tree of the example module, made by examples/gen-proxy (idempotent;
    the first run fetches the modules once from the Go module proxy)."""
    gen = REPO / "examples" / "gen-proxy"
    if not gen.exists() or shutil.which("go") is None:
        pytest.skip("needs examples/gen-proxy and the go command")
    out = subprocess.run(["bash", str(gen)], check=True, text=True, stdout=subprocess.PIPE,
                         timeout=600).stdout
    return Path(out.strip().splitlines()[-1])


@pytest.fixture
def go_env(go_proxy: Path, tmp_path: Path) -> dict[str, str]:
    """An environment in which go builds the example hermetically from the local proxy."""
    env = dict(os.environ)
    env.update(GOPROXY=f"file://{go_proxy}", GOSUMDB="off", GOTOOLCHAIN="local", GOWORK="off",
               GOFLAGS="-modcacherw", HOME=str(tmp_path / "home"))
    env.pop("GOMODCACHE", None)
    env.pop("GOCACHE", None)
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A private copy of examples/app (tests edit it)."""
    if not EXAMPLE_APP.is_dir():
        pytest.skip("examples/app is not in the tree yet")
    dst = tmp_path / "app"
    shutil.copytree(EXAMPLE_APP, dst, symlinks=True)
    return dst
