#!/usr/bin/env bash
# ctest for examples/c: ci-build on a copy of examples/app misses, then hits, and the binary runs.
set -euo pipefail
tool=$1
examples=$(cd "$2" && pwd)
proxy=$("$examples/gen-proxy" | tail -1)
work=$(mktemp -d "${TMPDIR:-/tmp}/ga-example-c.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$examples/app" "$work/app"
export GOPROXY="file://$proxy" GOSUMDB=off GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0
first=$("$tool" "$work/app" "$work/out1" "$work/cache")
echo "$first"
grep -q '^miss ' <<<"$first" || { echo "FAIL: the first build should miss"; exit 1; }
second=$("$tool" "$work/app" "$work/out2" "$work/cache")
echo "$second"
grep -q '^hit ' <<<"$second" || { echo "FAIL: the second build should hit"; exit 1; }
[ "$(head -1 <<<"$first" | cut -d' ' -f2)" = "$(head -1 <<<"$second" | cut -d' ' -f2)" ] ||
  { echo "FAIL: keys differ"; exit 1; }
"$work/out2/orders" --version | grep -q '^orders dev' || { echo "FAIL: binary does not run"; exit 1; }
cmp "$work/out1/orders" "$work/out2/orders"
# an edit to a file go build reads misses; a README edit does not
echo "// touched" >> "$work/app/README.md"
"$tool" "$work/app" "$work/out3" "$work/cache" | grep -q '^hit ' || { echo "FAIL: README edit missed"; exit 1; }
echo "// touched" >> "$work/app/main.go"
"$tool" "$work/app" "$work/out4" "$work/cache" | grep -q '^miss ' || { echo "FAIL: main.go edit hit"; exit 1; }
echo "examples/c: ok"
