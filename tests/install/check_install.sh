#!/usr/bin/env bash
# Installs the build into a temporary prefix, then links two consumers against it:
# a CMake project using find_package(goaccel) and a C file compiled with pkg-config.
set -euo pipefail
build=$1; here=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -n1)

cmake -S "$here/cmake_consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
out=$(LD_LIBRARY_PATH="$libdir" "$work/consumer/consumer")
echo "cmake consumer: $out"
[[ "$out" == "goaccel "* ]]
out=$(LD_LIBRARY_PATH="$libdir" "$work/consumer/consumer_static")
echo "cmake static consumer: $out"
[[ "$out" == "goaccel "* ]]

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -o "$work/pc_consumer" "$here/consumer.c" $(pkg-config --cflags --libs goaccel)
out=$(LD_LIBRARY_PATH="$libdir" "$work/pc_consumer")
echo "pkg-config consumer: $out"
[[ "$out" == "goaccel "* ]]
# libgoaccel linked statically, its dependencies (Requires.private) from the system's shared libs.
cc -o "$work/pc_static" "$here/consumer.c" $(pkg-config --cflags goaccel) "$libdir/libgoaccel.a" \
  $(pkg-config --libs $(pkg-config --print-requires-private goaccel | awk '{print $1}')) -lpthread
out=$("$work/pc_static")
echo "pkg-config static consumer: $out"
[[ "$out" == "goaccel "* ]]
