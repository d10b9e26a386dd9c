"""Builds goaccel._goaccel against libgoaccel.

Where the library comes from (exactly one of):

* ``GOACCEL_BUILD_DIR`` set: a CMake build directory of libgoaccel (the in-tree build). Headers
  come from the source tree named in its CMakeCache.txt and from the build directory (for the
  generated version.h); the extension links that directory's libgoaccel.so and records it as its
  run-time search path, so no LD_LIBRARY_PATH is needed.
* otherwise: the installed library, found with ``pkg-config goaccel`` (set PKG_CONFIG_PATH for a
  non-standard prefix); its libdir is recorded as run-time search path when it is not a system
  directory.

The package version is the version of the library it is built against.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
SYSTEM_LIBDIRS = {"/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/lib/x86_64-linux-gnu",
                  "/usr/lib/aarch64-linux-gnu"}


def fail(message: str) -> NoReturn:
    sys.stderr.write(f"goaccel setup: {message}\n")
    raise SystemExit(1)


def header_version(include_dirs: list[str]) -> str:
    for d in include_dirs:
        p = Path(d) / "goaccel" / "version.h"
        if p.is_file():
            m = re.search(r'#define GOACCEL_VERSION "([^"]+)"', p.read_text())
            if m:
                return m.group(1)
    fail(f"goaccel/version.h not found in {include_dirs}")


def from_build_dir(build_dir: str) -> dict[str, object]:
    build = Path(build_dir).resolve()
    cache = build / "CMakeCache.txt"
    if not cache.is_file():
        fail(f"GOACCEL_BUILD_DIR={build_dir} is not a CMake build directory (no CMakeCache.txt)")
    m = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", cache.read_text(), re.M)
    if not m:
        fail(f"{cache} does not name the source directory (CMAKE_HOME_DIRECTORY)")
    source = Path(m.group(1))
    if not (build / "libgoaccel.so").exists():
        fail(f"{build}/libgoaccel.so does not exist: build libgoaccel first "
             f"(cmake --build {build})")
    include_dirs = [str(source / "include"), str(build / "include")]
    return {
        "include_dirs": include_dirs,
        "library_dirs": [str(build)],
        "runtime_library_dirs": [str(build)],
        "libraries": ["goaccel"],
        "version": header_version(include_dirs),
        "depends": [str(build / "libgoaccel.so")],
    }


def pkg_config(*args: str) -> list[str]:
    try:
        out = subprocess.run(["pkg-config", *args, "goaccel"], check=True, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    except FileNotFoundError:
        fail("pkg-config is not installed, and GOACCEL_BUILD_DIR is not set")
    except subprocess.CalledProcessError as e:
        fail("libgoaccel not found by pkg-config (set PKG_CONFIG_PATH to its lib/pkgconfig, or "
             f"GOACCEL_BUILD_DIR to a CMake build directory): {e.stderr.strip()}")
    return shlex.split(out)


def from_pkg_config() -> dict[str, object]:
    include_dirs = [a[2:] for a in pkg_config("--cflags-only-I")]
    library_dirs = [os.path.realpath(a[2:]) for a in pkg_config("--libs-only-L")]
    libraries = [a[2:] for a in pkg_config("--libs-only-l")]
    libdir = os.path.realpath(" ".join(pkg_config("--variable=libdir")))
    version = " ".join(pkg_config("--modversion"))
    runtime = [libdir] if libdir not in SYSTEM_LIBDIRS else []
    if not include_dirs:
        include_dirs = [" ".join(pkg_config("--variable=includedir"))]
    return {
        "include_dirs": include_dirs,
        "library_dirs": library_dirs,
        "runtime_library_dirs": runtime,
        "libraries": libraries or ["goaccel"],
        "version": version,
        "depends": [],
    }


build_dir = os.environ.get("GOACCEL_BUILD_DIR")
cfg = from_build_dir(build_dir) if build_dir else from_pkg_config()

# The wrapper files of each layer of libgoaccel. A layer is compiled in only when the library
# exports every goaccel_* function its files call, so the binding builds against a library that
# lacks a layer (an older install, or a tree where that layer is still being written); the
# module's LAYERS attribute says which layers are in.
LAYERS = {
    "hash": ["hash.c"],
    "key": ["key.c"],
    "gomod": ["gomod.c"],
    "store": ["store.c", "mount.c", "action.c"],
    "extract": ["extract.c"],
    "image": ["image.c"],
    "build": ["build.c"],
}
CORE = ["module.c", "errors.c", "callback.c", "digest.c"]
# Layers whose wrappers use another layer's wrapper (an Image can keep its layer cache in a Store).
NEEDS = {"image": ["store"]}


def exported_symbols(library: str) -> set[str]:
    try:
        out = subprocess.run(["nm", "-D", "--defined-only", library], check=True, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        fail(f"cannot list the symbols of {library} with nm (binutils): {e}")
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def called_functions(path: Path) -> set[str]:
    text = path.read_text()
    # goaccel_* names followed by "(" are calls (macros such as GOACCEL_*_INIT are upper case);
    # one after "," "{" or "=" and before "," "}" or ")" is a function passed as a value (tables
    # of accessors, setters handed to a shared helper). Types never stand alone there.
    return set(re.findall(r"\b(goaccel_[a-z0-9_]+)\s*\(", text)) | set(
        re.findall(r"[,{=]\s*(goaccel_[a-z0-9_]+)(?=\s*[,})])", text))


def find_library(library_dirs: list[str]) -> str:
    for d in library_dirs + sorted(SYSTEM_LIBDIRS):
        p = Path(d) / "libgoaccel.so"
        if p.exists():
            return str(p.resolve())
    fail(f"libgoaccel.so not found in {library_dirs}")


symbols = exported_symbols(find_library(list(cfg["library_dirs"])))  # type: ignore[call-overload]
layers = []
sources = [f"c-ext/{f}" for f in CORE]
for layer, files in LAYERS.items():
    missing = sorted(set().union(*(called_functions(HERE / "c-ext" / f) for f in files)) - symbols)
    missing += [f"the {dep} layer" for dep in NEEDS.get(layer, []) if dep not in layers]
    if missing:
        sys.stderr.write(f"goaccel setup: layer {layer} left out: the library lacks "
                         f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}\n")
        continue
    layers.append(layer)
    sources += [f"c-ext/{f}" for f in files]
headers = sorted(str(p.relative_to(HERE)) for p in (HERE / "c-ext").glob("*.h"))


class BuildExt(build_ext):
    """Always recompiles: the library the extension is built against may have changed without
    any of the binding's own files changing (another GOACCEL_BUILD_DIR, a rebuilt library)."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.force = True


ext = Extension(
    "goaccel._goaccel",
    sources=sources,
    depends=headers + list(cfg["depends"]),  # type: ignore[call-overload]
    include_dirs=["c-ext", *cfg["include_dirs"]],  # type: ignore[misc]
    library_dirs=list(cfg["library_dirs"]),  # type: ignore[call-overload]
    runtime_library_dirs=list(cfg["runtime_library_dirs"]),  # type: ignore[call-overload]
    libraries=list(cfg["libraries"]) + ["dl"],  # type: ignore[call-overload]
    define_macros=[(f"GA_PY_LAYER_{layer.upper()}", "1") for layer in layers]
    + [("GA_PY_LAYERS", '"' + ",".join(layers) + '"')],
    extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                        "-Wno-missing-field-initializers", "-fvisibility=hidden"],
)

setup(
    version=str(cfg["version"]),
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExt},
)
