"""The Go build pipeline (goaccel/build.h): toolchain → deps → build → extract, each cached."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from . import _goaccel
from ._goaccel import Digest
from ._types import StrPath


class Step(enum.IntEnum):
    """The steps of a build, in the order they run."""

    TOOLCHAIN = 0
    DEPS = 1
    BUILD = 2
    EXTRACT = 3


class Status(str, enum.Enum):
    """What happened to a step."""

    NONE = "none"
    HIT = "hit"
    MISS = "miss"
    SKIPPED = "skipped"
    FAILED = "failed"


class EventType(enum.IntEnum):
    """The kinds of progress event."""

    STEP_START = 0
    STEP_END = 1
    OUTPUT = 2
    TICK = 3
    COMMAND = 4


_STATUS_BY_CODE = [Status.NONE, Status.HIT, Status.MISS, Status.SKIPPED, Status.FAILED]


@dataclass(frozen=True)
class BuildEvent:
    """A progress event. OUTPUT events carry go's bytes in data (stream 1 stdout, 2 stderr)."""

    type: EventType
    step: Step
    status: Status
    elapsed_ns: int
    key: Optional[Digest]
    message: Optional[str]
    data: Optional[bytes]
    stream: int


class ChangeKind(enum.IntEnum):
    """How one change between two builds is described."""

    FILE = 0
    FIELD = 1
    TOOLCHAIN = 2
    FIRST = 3


@dataclass(frozen=True)
class BuildChange:
    """One reason a step missed: a file added/removed/modified, a field or toolchain value
    that changed, or FIRST (no previous build of this target is known)."""

    kind: ChangeKind
    name: Optional[str]
    what: Optional[str]
    old: Optional[str]
    new: Optional[str]


@dataclass(frozen=True)
class StepResult:
    """The outcome of one step."""

    step: Step
    status: Status
    key: Optional[Digest]
    duration_ns: int
    saved_ns: int
    explanation: str
    changes: list[BuildChange] = field(default_factory=list)

    @property
    def hit(self) -> bool:
        return self.status is Status.HIT

    @property
    def miss(self) -> bool:
        return self.status is Status.MISS

    @property
    def duration(self) -> float:
        """Seconds the step took in this build."""
        return self.duration_ns / 1e9

    @property
    def saved(self) -> float:
        """For a hit: seconds the step took when it originally ran."""
        return self.saved_ns / 1e9


@dataclass(frozen=True)
class BuildOutput:
    """One binary the build produced."""

    name: str
    path: Optional[Path]
    digest: Digest
    size: int
    mode: int


@dataclass(frozen=True)
class BuildResult:
    """The result of go_build(): one StepResult per step, the binaries, the image digest."""

    steps: dict[Step, StepResult]
    outputs: list[BuildOutput]
    image_digest: Optional[Digest]
    json: str

    def __getitem__(self, step: Step) -> StepResult:
        return self.steps[step]

    @property
    def toolchain(self) -> StepResult:
        return self.steps[Step.TOOLCHAIN]

    @property
    def deps(self) -> StepResult:
        return self.steps[Step.DEPS]

    @property
    def build(self) -> StepResult:
        return self.steps[Step.BUILD]

    @property
    def extract(self) -> StepResult:
        return self.steps[Step.EXTRACT]

    @property
    def all_hit(self) -> bool:
        """True when no step had to run (deps and build hit or had nothing to do)."""
        return all(s.status in (Status.HIT, Status.SKIPPED, Status.NONE)
                   for s in (self.deps, self.build))

    def to_dict(self) -> Any:
        """The `goaccel build --json` document (docs/build.md), parsed."""
        return json.loads(self.json)


def _result(raw: _goaccel._BuildDict) -> BuildResult:
    steps: dict[Step, StepResult] = {}
    for i, (_name, status, key, dur, saved, expl, changes) in enumerate(raw["steps"]):
        steps[Step(i)] = StepResult(
            Step(i), Status(status), key, dur, saved, expl or "",
            [BuildChange(ChangeKind(k), n, w, o, nw) for k, n, w, o, nw in changes])
    outputs = [BuildOutput(name, None if path is None else Path(path), digest, size, mode)
               for name, path, digest, size, mode in raw["outputs"]]
    return BuildResult(steps, outputs, raw["image_digest"], raw["json"])


def go_build(module_dir: StrPath, *, cache_dir: StrPath | None = None,
             packages: Iterable[str] = (), tags: str | None = None, ldflags: str | None = None,
             gcflags: str | None = None, trimpath: bool = True, buildvcs: bool = False,
             cgo: int = 0, goos: str | None = None, goarch: str | None = None,
             env: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
             output_dir: StrPath | None = None, bin_dir: str | None = None,
             copies: Iterable[tuple[str, str]] = (), image_dir: StrPath | None = None,
             image_ref: str | None = None, base_dir: StrPath | None = None,
             base_ref: str | None = None, target: str | None = None, dry_run: bool = False,
             progress: Callable[[BuildEvent], object] | None = None,
             image_env: Mapping[str, str] | None = None, entrypoint: Sequence[str] | None = None,
             cmd: Sequence[str] | None = None, workdir: str | None = None, user: str | None = None,
             labels: Mapping[str, str] | None = None) -> BuildResult:
    """Builds a Go module the way a BuildKit Dockerfile with cache mounts does, with no daemon:
    toolchain identity, `go mod download` (keyed by go.mod/go.sum/toolchain/proxy settings),
    `go build` (keyed by exactly the files go can read, flags and toolchain), then the binaries
    (and copies) into output_dir and/or an OCI image. A rebuild with nothing changed runs no go
    process.

    env: extra variables for go (part of the keys); environ: the environment go starts from
    (None: this process's). progress receives BuildEvent values; an exception it raises
    cancels the build and propagates unchanged; so does the exception of a SIGINT handler
    (Ctrl-C: KeyboardInterrupt), with or without progress, unless SIGINT is ignored. Raises
    BuildFailed with go's output when go fails.

    The image (image_dir, on base_dir's image if given) gets image_env (ENV; not go's env),
    entrypoint (argv; None: the first binary, or with cmd the base's; []: none at all), cmd,
    workdir, user and labels; these replace the base's values and are part of no step key.
    """
    cb = None
    if progress is not None:
        user_cb = progress

        def cb(raw: tuple[int, int, int, int, str | None, str | None, bytes | None, int]) -> None:
            t, step, status, elapsed, key, message, data, stream = raw
            user_cb(BuildEvent(EventType(t), Step(step), _STATUS_BY_CODE[status], elapsed,
                               None if key is None else Digest(key), message, data, stream))

    raw = _goaccel.go_build(
        module_dir, cache_dir=cache_dir, packages=list(packages), tags=tags, ldflags=ldflags,
        gcflags=gcflags, trimpath=trimpath, buildvcs=buildvcs, cgo=cgo, goos=goos, goarch=goarch,
        env=[f"{k}={v}" for k, v in (env or {}).items()],
        envp=None if environ is None else [f"{k}={v}" for k, v in environ.items()],
        output_dir=output_dir, bin_dir=bin_dir, copies=list(copies), image_dir=image_dir,
        image_ref=image_ref, base_dir=base_dir, base_ref=base_ref, target=target,
        dry_run=dry_run, progress=cb,
        image_env=[f"{k}={v}" for k, v in (image_env or {}).items()],
        entrypoint=entrypoint, cmd=cmd,
        workdir=workdir, user=user, labels=[f"{k}={v}" for k, v in (labels or {}).items()])
    return _result(raw)


__all__ = [
    "BuildChange", "BuildEvent", "BuildOutput", "BuildResult", "ChangeKind", "EventType", "Status",
    "Step", "StepResult", "go_build",
]
