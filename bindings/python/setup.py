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
    library_dirs = [a[2:] for a in pkg_config("--libs-only-L")]
    libraries = [a[2:] for a in pkg_config("--libs-only-l")]
    libdir = " ".join(pkg_config("--variable=libdir"))
    version = " ".join(pkg_config("--modversion"))
    runtime = [libdir] if libdir and os.path.realpath(libdir) not in SYSTEM_LIBDIRS else []
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

sources = sorted(str(p.relative_to(HERE)) for p in (HERE / "c-ext").glob("*.c"))
headers = sorted(str(p.relative_to(HERE)) for p in (HERE / "c-ext").glob("*.h"))


class BuildExt(build_ext):
    """Always recompiles: the library the extension is built against may have changed without
    any of the binding's own files changing (another GOACCEL_BUILD_DIR, a rebuilt library)."""

    def initialize_options(self) -> None:
        super().initialize_options()
        self.force = True


ext = Extension(
    "goaccel._goaccel",
    sources=sources,
    depends=headers + list(cfg["depends"]),  # type: ignore[call-overload]
    include_dirs=["c-ext", *cfg["include_dirs"]],  # type: ignore[misc]
    library_dirs=list(cfg["library_dirs"]),  # type: ignore[call-overload]
    runtime_library_dirs=list(cfg["runtime_library_dirs"]),  # type: ignore[call-overload]
    libraries=list(cfg["libraries"]) + ["dl"],  # type: ignore[call-overload]
    extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                        "-Wno-missing-field-initializers", "-fvisibility=hidden"],
)

setup(
    version=str(cfg["version"]),
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExt},
)
