#!/usr/bin/env python3
"""A CI build step in Python with goaccel: restore the cache, build, save the delta, report.

    ci_build.py MODULE_DIR [--cache-archive PATH] [--out DIR] [--image DIR] [--store DIR]

1. If the cache archive from earlier CI runs exists (restored by the CI system from its artifact
   storage), import it and the deltas exported after it into the store: the Go module cache and
   build cache mounts and the step records come back, so an unchanged build does no Go work.
2. Build the module (`go mod download` + `go build`, each cached), write the binaries to --out
   and optionally an OCI image to --image, printing progress and, for each step that missed,
   why.
3. Export what changed since the last export (a delta, next to the archive; the whole cache on
   a cold start), for the CI system to upload with the updated manifest that makes the next
   delta possible.
4. Print the store's statistics.

Ephemeral CI machines lose BuildKit's cache mounts between runs (moby/buildkit#1512); this
carries them in one file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import goaccel


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


def on_progress(event: goaccel.BuildEvent) -> None:
    if event.type is goaccel.EventType.STEP_START:
        print(f"==> {event.step.name.lower()}: {event.message or ''}", flush=True)
    elif event.type is goaccel.EventType.STEP_END:
        print(f"    {event.step.name.lower()}: {event.status.value} "
              f"({event.elapsed_ns / 1e9:.2f}s) {event.message or ''}", flush=True)
    elif event.type is goaccel.EventType.OUTPUT and event.data:
        sys.stdout.write("    | " + event.data.decode(errors="replace"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("module_dir", type=Path)
    ap.add_argument("--cache-archive", type=Path, default=Path("goaccel-cache.tar.zst"),
                    help="the archive carried between CI runs (imported if present)")
    ap.add_argument("--store", type=Path, default=None,
                    help="the store directory (default: a fresh temporary one, as on a CI runner)")
    ap.add_argument("--out", type=Path, default=Path("out"), help="where the binaries go")
    ap.add_argument("--image", type=Path, default=None, help="also write an OCI image layout here")
    args = ap.parse_args(argv)

    tmp = None
    if args.store is None:
        tmp = tempfile.TemporaryDirectory(prefix="goaccel-ci-")
        args.store = Path(tmp.name) / "store"
    archive: Path = args.cache_archive
    stem = archive.name.removesuffix(".tar.zst")
    manifest = archive.with_name(stem + ".manifest")
    deltas = sorted(archive.parent.glob(stem + ".delta-*.tar.zst"))

    with goaccel.Store(args.store) as store:
        if archive.exists():
            for path in [archive, *deltas]:
                imported = store.import_(path)
                print(f"cache: imported {path} ({imported.actions} step records, "
                      f"{imported.mounts} mounts, {human(imported.bytes)})")
        else:
            print(f"cache: no archive at {archive}, starting cold")

        try:
            result = goaccel.go_build(args.module_dir, cache_dir=store.path, output_dir=args.out,
                                      image_dir=args.image, progress=on_progress)
        except goaccel.BuildFailed as e:
            print(f"build failed:\n{e.message}", file=sys.stderr)
            return 1

        for step in (result.deps, result.build):
            line = f"{step.step.name.lower():>6}: {step.status.value:<7} {step.duration:6.2f}s"
            if step.hit:
                line += f"  (saved {step.saved:.2f}s)"
            elif step.miss:
                line += f"  because {step.explanation}"
            print(line)
        for o in result.outputs:
            print(f"binary: {o.path} {human(o.size)} {o.digest}")
        if result.image_digest is not None:
            print(f"image:  {args.image} {result.image_digest}")

        # What changed since the last export (everything, on a cold start), and the manifest of
        # the whole state, against which the next run exports its delta.
        base = manifest if archive.exists() and manifest.exists() else None
        target = archive if base is None else archive.with_name(
            f"{stem}.delta-{len(deltas) + 1:06d}.tar.zst")
        sent = store.export(target, all_mounts=True, actions=True, refs=True, base=base,
                            manifest_out=manifest)
        print(f"cache: exported {target} ({sent.actions} step records, {sent.unchanged} unchanged, "
              f"{human(sent.bytes)})")

        total = store.stats()
        rate = "n/a" if total.hit_rate is None else f"{total.hit_rate:.0%}"
        print(f"stats: {total.hits} hits, {total.misses} misses (hit rate {rate}), "
              f"{total.time_saved:.1f}s saved, {human(total.bytes_restored)} restored")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
