"""Go modules (goaccel/gomod.h): go.mod / go.work parsing, the inputs of a build, Go's h1:
hashes, go.sum verification and the toolchain identity.

>>> from goaccel import gomod
>>> mod = gomod.parse_file("go.mod")
>>> [r.path for r in mod.require]
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Union

from . import _goaccel
from ._goaccel import Digest
from ._types import StrPath


@dataclass(frozen=True)
class Module:
    """A module path and version (require, exclude)."""

    path: str
    version: Optional[str]
    indirect: bool = False
    line: int = 0


@dataclass(frozen=True)
class Replace:
    """`replace old [old_version] => new [new_version]`; is_dir for a local directory."""

    old_path: str
    old_version: Optional[str]
    new_path: str
    new_version: Optional[str]
    is_dir: bool
    line: int = 0


@dataclass(frozen=True)
class Retract:
    """A retracted version (low == high) or inclusive interval."""

    low: Optional[str]
    high: Optional[str]
    rationale: Optional[str]
    line: int = 0


@dataclass(frozen=True)
class GoDebug:
    """`godebug key=value`."""

    key: Optional[str]
    value: Optional[str]
    line: int = 0


@dataclass(frozen=True)
class GoMod:
    """A parsed go.mod."""

    module: Optional[str]
    go: Optional[str]
    toolchain: Optional[str]
    require: list[Module] = field(default_factory=list)
    exclude: list[Module] = field(default_factory=list)
    replace: list[Replace] = field(default_factory=list)
    retract: list[Retract] = field(default_factory=list)
    godebug: list[GoDebug] = field(default_factory=list)


@dataclass(frozen=True)
class GoWork:
    """A parsed go.work."""

    go: Optional[str]
    toolchain: Optional[str]
    use: list[str] = field(default_factory=list)
    replace: list[Replace] = field(default_factory=list)
    godebug: list[GoDebug] = field(default_factory=list)


def _gomod(raw: _goaccel._GoModDict) -> GoMod:
    return GoMod(
        module=raw["module"], go=raw["go"], toolchain=raw["toolchain"],
        require=[Module(*t) for t in raw["require"]],
        exclude=[Module(*t) for t in raw["exclude"]],
        replace=[Replace(*t) for t in raw["replace"]],
        retract=[Retract(*t) for t in raw["retract"]],
        godebug=[GoDebug(*t) for t in raw["godebug"]])


def _gowork(raw: _goaccel._GoWorkDict) -> GoWork:
    return GoWork(
        go=raw["go"], toolchain=raw["toolchain"], use=list(raw["use"]),
        replace=[Replace(*t) for t in raw["replace"]],
        godebug=[GoDebug(*t) for t in raw["godebug"]])


def parse(data: Union[str, bytes], path: StrPath | None = None) -> GoMod:
    """Parses go.mod content (Go's own grammar, strict). path is only used in error messages.
    Raises InvalidInput with "file:line: what" for malformed input."""
    if isinstance(data, str):
        data = data.encode()
    return _gomod(_goaccel.gomod_parse(data, path))


def parse_file(path: StrPath) -> GoMod:
    """Reads and parses a go.mod file (NotFound if it does not exist)."""
    return _gomod(_goaccel.gomod_parse_file(path))


def parse_work(data: Union[str, bytes], path: StrPath | None = None) -> GoWork:
    """Parses go.work content."""
    if isinstance(data, str):
        data = data.encode()
    return _gowork(_goaccel.gowork_parse(data, path))


def parse_work_file(path: StrPath) -> GoWork:
    """Reads and parses a go.work file."""
    return _gowork(_goaccel.gowork_parse_file(path))


def _env_list(env: Mapping[str, str] | None) -> list[str] | None:
    return None if env is None else [f"{k}={v}" for k, v in env.items()]


def find_work(module_dir: StrPath, env: Mapping[str, str] | None = None) -> Path | None:
    """The go.work the go command would use in module_dir (GOWORK in env, else the nearest
    one above), or None. env None means this process's environment."""
    p = _goaccel.gomod_find_work(module_dir, _env_list(env))
    return None if p is None else Path(p)


def input_roots(module_dir: StrPath, env: Mapping[str, str] | None = None) -> list[Path]:
    """The directories whose content feeds a build in module_dir: the main module first, then
    go.work members and local replace targets."""
    return [Path(p) for p in _goaccel.gomod_input_roots(module_dir, _env_list(env))]


def build_inputs(root: StrPath, *, tests: bool = False) -> list[str]:
    """The root-relative paths of exactly the files `go build` (tests: `go test`) can read under
    root, bytewise sorted — feed them to goaccel.hash_paths()."""
    return _goaccel.gomod_build_inputs(root, tests=tests)


def h1(path: StrPath, *, module: str | None = None, version: str | None = None) -> str:
    """Go's "h1:" hash, as go.sum records it, of:

    - a directory (an extracted module): needs module and version (dirhash.HashDir);
    - a ``.zip`` file (a module zip): dirhash.HashZip;
    - any other file (a go.mod or a ``.mod``): the go.mod hash ("path version/go.mod" lines).
    """
    p = Path(os.fsdecode(path))
    if p.is_dir():
        if module is None or version is None:
            raise TypeError("h1() of a directory needs module= and version=")
        return _goaccel.h1_dir(p, module, version)
    if p.suffix == ".zip":
        return _goaccel.h1_zip(p)
    return _goaccel.h1_gomod(p)


def h1_gomod_bytes(data: bytes) -> str:
    """Go's "h1:" hash of go.mod content held in memory."""
    return _goaccel.h1_gomod_bytes(data)


class GoSumObject(enum.IntEnum):
    """What a go.sum problem concerns."""

    DIR = 1
    ZIP = 2
    GOMOD = 3


class GoSumProblemKind(enum.IntEnum):
    """What went wrong."""

    MISMATCH = 1
    MISSING = 2
    UNREADABLE = 3


@dataclass(frozen=True)
class GoSumProblem:
    """One go.sum verification problem."""

    kind: GoSumProblemKind
    object: GoSumObject
    module_path: Optional[str]
    version: Optional[str]
    expected: Optional[str]
    actual: Optional[str]
    path: Optional[str]
    detail: Optional[str]


@dataclass(frozen=True)
class GoSumReport:
    """The result of gosum_verify(): ok when no problem was found."""

    checked: int
    problems: list[GoSumProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def gosum_verify(modcache: StrPath, gosum: StrPath, *, ignore_missing_gomod: bool = False,
                 ignore_missing: bool = False, check: bool = False) -> GoSumReport:
    """Checks a module cache (GOMODCACHE layout) against a go.sum, like `go mod verify`, and
    reports every problem. With check=True a problem raises goaccel.Mismatch instead."""
    checked, raw = _goaccel.gosum_verify(modcache, gosum, ignore_missing_gomod=ignore_missing_gomod,
                                         ignore_missing=ignore_missing)
    report = GoSumReport(checked, [
        GoSumProblem(GoSumProblemKind(k), GoSumObject(o), *rest) for k, o, *rest in raw])
    if check and not report.ok:
        first = report.problems[0]
        raise _goaccel.Mismatch(f"{len(report.problems)} go.sum problem(s), first: {first.detail}")
    return report


@dataclass(frozen=True)
class Toolchain:
    """What the go command hashes into its action IDs (GOVERSION, GOOS, GOARCH, ...)."""

    fields: dict[str, str]
    go: Path
    digest: Digest

    def __getitem__(self, name: str) -> str:
        return self.fields[name]


def toolchain(module_dir: StrPath | None = None, env: Mapping[str, str] | None = None, *,
              go: StrPath | None = None, no_cache: bool = False) -> Toolchain:
    """The identity of the go toolchain a build in module_dir uses (runs `go env -json` once;
    cached in the process). NotFound when there is no go command."""
    fields, go_path, digest = _goaccel.go_toolchain(module_dir, _env_list(env), go=go, no_cache=no_cache)
    return Toolchain(dict(fields), Path(go_path), digest)


def toolchain_cache_clear() -> None:
    """Empties the in-process toolchain cache."""
    _goaccel.toolchain_cache_clear()


__all__ = [
    "GoDebug", "GoMod", "GoSumObject", "GoSumProblem", "GoSumProblemKind", "GoSumReport", "GoWork",
    "Module", "Replace", "Retract", "Toolchain", "build_inputs", "find_work", "gosum_verify", "h1",
    "h1_gomod_bytes", "input_roots", "parse", "parse_file", "parse_work", "parse_work_file", "toolchain",
    "toolchain_cache_clear",
]
