"""go.mod / go.work parsing, build inputs, h1: hashes, go.sum verification, toolchain."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import goaccel
from goaccel import gomod

from conftest import EXAMPLE_APP, needs, write

pytestmark = needs("gomod")

GOMOD = """\
module example.com/app

go 1.22.1

toolchain go1.22.3

godebug panicnil=1

require (
\tgithub.com/google/uuid v1.6.0
\tgolang.org/x/text v0.14.0 // indirect
)

exclude golang.org/x/text v0.13.0

replace example.com/lib => ../lib

retract [v1.0.0, v1.0.5] // broken
"""


def test_parse_go_mod() -> None:
    m = gomod.parse(GOMOD, "go.mod")
    assert (m.module, m.go, m.toolchain) == ("example.com/app", "1.22.1", "go1.22.3")
    assert [(r.path, r.version, r.indirect) for r in m.require] == [
        ("github.com/google/uuid", "v1.6.0", False), ("golang.org/x/text", "v0.14.0", True)]
    assert m.require[0].line == 10
    assert m.exclude[0] == gomod.Module("golang.org/x/text", "v0.13.0", False, 14)
    r = m.replace[0]
    assert (r.old_path, r.new_path, r.is_dir, r.new_version) == ("example.com/lib", "../lib", True, None)
    assert (m.retract[0].low, m.retract[0].high) == ("v1.0.0", "v1.0.5")
    assert (m.godebug[0].key, m.godebug[0].value) == ("panicnil", "1")
    assert gomod.parse(GOMOD.encode()) == gomod.parse(GOMOD)


def test_parse_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(goaccel.InvalidInput) as info:
        gomod.parse("module a\n\nfrobnicate x\n", "dir/go.mod")
    assert "dir/go.mod:3" in str(info.value)
    with pytest.raises(goaccel.NotFound):
        gomod.parse_file(tmp_path / "go.mod")
    p = write(tmp_path, "go.mod", GOMOD)
    assert gomod.parse_file(p).module == "example.com/app"


def test_parse_go_work(tmp_path: Path) -> None:
    text = "go 1.22\n\nuse (\n\t./app\n\t./lib\n)\n"
    w = gomod.parse_work(text)
    assert w.go == "1.22" and w.use == ["./app", "./lib"]
    write(tmp_path, "go.work", text)
    write(tmp_path, "app/go.mod", "module example.com/app\n\ngo 1.22\n")
    write(tmp_path, "lib/go.mod", "module example.com/lib\n\ngo 1.22\n")
    assert gomod.parse_work_file(tmp_path / "go.work") == w
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    assert gomod.find_work(tmp_path / "app", env) == (tmp_path / "go.work").resolve()
    roots = gomod.input_roots(tmp_path / "app", env)
    assert roots[0] == (tmp_path / "app").resolve()
    assert set(roots) == {p.resolve() for p in (tmp_path, tmp_path / "app", tmp_path / "lib")}
    assert gomod.find_work(tmp_path / "app", dict(env, GOWORK="off")) is None


@pytest.mark.skipif(not EXAMPLE_APP.is_dir(), reason="examples/app is not in the tree yet")
def test_build_inputs_of_the_example() -> None:
    inputs = gomod.build_inputs(EXAMPLE_APP)
    assert {"go.mod", "go.sum", "main.go", "internal/static/banner.txt"} <= set(inputs)
    assert "README.md" not in inputs and "api/handler_test.go" not in inputs
    assert inputs == sorted(inputs, key=os.fsencode)
    assert "api/handler_test.go" in gomod.build_inputs(EXAMPLE_APP, tests=True)
    # The key of a build hashes exactly these files.
    if "hash" in goaccel.LAYERS:
        d = goaccel.hash_paths(EXAMPLE_APP, inputs)
        assert isinstance(d, goaccel.Digest)


def test_h1_of_go_mod_content() -> None:
    assert gomod.h1_gomod_bytes(b"") == "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY="


def _gosum(path: Path) -> dict[tuple[str, str], str]:
    lines = {}
    for line in path.read_text().splitlines():
        mod, ver, h = line.split()
        lines[(mod, ver)] = h
    return lines


def test_h1_and_gosum_verify_against_real_modules(go_proxy: Path, tmp_path: Path) -> None:
    sums = _gosum(EXAMPLE_APP / "go.sum")
    v = go_proxy / "github.com" / "google" / "uuid" / "@v"
    assert gomod.h1(v / "v1.6.0.zip") == sums[("github.com/google/uuid", "v1.6.0")]
    assert goaccel.h1(v / "v1.6.0.mod") == sums[("github.com/google/uuid", "v1.6.0/go.mod")]
    with pytest.raises(TypeError):
        gomod.h1(tmp_path)  # a directory needs module= and version=

    # A module cache whose cache/download is the proxy tree, as after `go mod download`.
    modcache = tmp_path / "mod"
    shutil.copytree(go_proxy, modcache / "cache" / "download")
    report = goaccel.gosum_verify(modcache, EXAMPLE_APP / "go.sum")
    assert report.ok and report.checked >= 6
    mod = modcache / "cache/download/github.com/spf13/pflag/@v/v1.0.6.mod"
    mod.write_text(mod.read_text() + "// tampered\n")
    report = goaccel.gosum_verify(modcache, EXAMPLE_APP / "go.sum")
    assert not report.ok
    [p] = report.problems
    assert p.kind is gomod.GoSumProblemKind.MISMATCH and p.object is gomod.GoSumObject.GOMOD
    assert p.module_path == "github.com/spf13/pflag" and p.expected != p.actual
    with pytest.raises(goaccel.Mismatch):
        goaccel.gosum_verify(modcache, EXAMPLE_APP / "go.sum", check=True)


@pytest.mark.skipif(shutil.which("go") is None, reason="needs the go command")
def test_toolchain_identity(tmp_path: Path) -> None:
    write(tmp_path, "go.mod", "module example.com/t\n\ngo 1.21\n")
    tc = gomod.toolchain(tmp_path, dict(os.environ, GOTOOLCHAIN="local"))
    assert tc["GOVERSION"].startswith("go") and tc["GOOS"] == "linux"
    assert tc.go.name == "go" and isinstance(tc.digest, goaccel.Digest)
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0")
    assert gomod.toolchain(tmp_path, env).digest == gomod.toolchain(tmp_path, env).digest
    with pytest.raises(goaccel.NotFound):
        gomod.toolchain(tmp_path, {"PATH": str(tmp_path)}, no_cache=True)
