# Sourced by tests/sh/image_*.sh and bench/image/run (not a test itself: not *.sh).
# image_tool_build BUILD_DIR SOURCE_DIR OUT_DIR: compiles tests/sh/image_tool.c against the build's
# static library with the build's compiler and sanitizer flags; prints the program's path.
image_tool_build() {
  local build=$1 src=$2 out=$3 cc flags=()
  cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
  [ -n "$cc" ] || cc=cc
  if grep -q '^GOACCEL_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer)
  fi
  "$cc" -std=c11 -O2 -D_GNU_SOURCE "${flags[@]}" -I"$src/include" -I"$build/include" \
    "$src/tests/sh/image_tool.c" "$build/libgoaccel.a" \
    $(pkg-config --libs libgit2 libcrypto jansson libarchive zlib sqlite3) -lpthread \
    -o "$out/image_tool" >&2
  echo "$out/image_tool"
}

# json_get FILE_OR_- EXPR: evaluates a Python expression on the parsed JSON (as j).
json_get() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1]) if sys.argv[1]!="-" else sys.stdin); print(eval(sys.argv[2]))' "$@"
}
