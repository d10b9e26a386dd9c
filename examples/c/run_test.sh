#!/usr/bin/env bash
# ctest for examples/c: ci-build on a small generated module (standard library only, so a cold
# build costs seconds, not the minute examples/app's net/http takes): a miss, then a hit with the
# same key, the binary runs, a README edit hits, a .go edit misses.
# Args: CI_BUILD_BINARY EXAMPLES_DIR
set -euo pipefail
tool=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ga-example-c.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
app=$work/hello
mkdir -p "$app/greet"
printf 'module example.com/hello\n\ngo 1.22\n' > "$app/go.mod"
printf 'package main\n\nimport (\n\t"os"\n\n\t"example.com/hello/greet"\n)\n\nfunc main() { os.Stdout.WriteString(greet.Line() + "\\n") }\n' > "$app/main.go"
printf 'package greet\n\n// Line is what hello prints.\nfunc Line() string { return "hello from ci-build" }\n' > "$app/greet/greet.go"
echo "# hello" > "$app/README.md"
export GOPROXY=off GOSUMDB=off GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0
first=$("$tool" "$app" "$work/out1" "$work/cache")
echo "$first"
grep -q '^miss ' <<<"$first" || { echo "FAIL: the first build should miss"; exit 1; }
second=$("$tool" "$app" "$work/out2" "$work/cache")
echo "$second"
grep -q '^hit ' <<<"$second" || { echo "FAIL: the second build should hit"; exit 1; }
[ "$(head -1 <<<"$first" | cut -d' ' -f2)" = "$(head -1 <<<"$second" | cut -d' ' -f2)" ] ||
  { echo "FAIL: keys differ"; exit 1; }
[ "$("$work/out2/hello")" = "hello from ci-build" ] || { echo "FAIL: binary does not run"; exit 1; }
cmp "$work/out1/hello" "$work/out2/hello"
echo "more" >> "$app/README.md"
"$tool" "$app" "$work/out3" "$work/cache" | grep -q '^hit ' || { echo "FAIL: README edit missed"; exit 1; }
sed -i 's/hello from ci-build/hello again/' "$app/greet/greet.go"
"$tool" "$app" "$work/out4" "$work/cache" | grep -q '^miss ' || { echo "FAIL: greet.go edit hit"; exit 1; }
[ "$("$work/out4/hello")" = "hello again" ] || { echo "FAIL: rebuilt binary"; exit 1; }
echo "examples/c: ok"
