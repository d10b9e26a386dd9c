"""Shared fixtures for the goaccel binding tests. Everything runs against the real libgoaccel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

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
