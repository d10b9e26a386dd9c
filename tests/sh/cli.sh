#!/usr/bin/env bash
# The goaccel command without a build: usage and exit codes, hash, gomod, explain (a dry run:
# only `go env` runs), and every cache subcommand on a small store. Args: BUILD_DIR SOURCE_DIR.
set -euo pipefail
BUILD=$1 SRC=$2
GA=$BUILD/cli/goaccel
work=$(mktemp -d "${TMPDIR:-/tmp}/ga-cli.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOACCEL_CACHE=$work/cache GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { local want=$1; shift; set +e; "$@" >"$work/out" 2>"$work/err"; local rc=$?; set -e
  [ $rc = "$want" ] || { cat "$work/out" "$work/err"; fail "$* exited $rc, want $want"; }; }

expect_rc 2 "$GA"
expect_rc 0 "$GA" --help
grep -q '^  3    go build or go mod download failed' "$work/out" || fail "--help lacks exit codes"
expect_rc 2 "$GA" frobnicate
expect_rc 2 "$GA" build --bogus
expect_rc 2 "$GA" build --env NOEQUALS
expect_rc 2 "$GA" build --copy nocolon
expect_rc 2 "$GA" build --base x:y
expect_rc 0 "$GA" build --help
grep -q -- '--ldflags' "$work/out" || fail "build --help"
expect_rc 2 "$GA" cache frob
expect_rc 2 "$GA" gomod frob
ok "usage errors exit 2; --help documents the exit codes"

mkdir -p "$work/m/sub" "$work/m/testdata"
printf 'module example.com/m\n\ngo 1.22\n' > "$work/m/go.mod"
printf 'package main\n\nfunc main() {}\n' > "$work/m/main.go"
printf 'package main\n' > "$work/m/main_test.go"
echo docs > "$work/m/README.md"
echo data > "$work/m/testdata/x"
expect_rc 0 "$GA" gomod inputs "$work/m"
[ "$(grep -v '^#' "$work/out" | tr '\n' ' ')" = "go.mod main.go " ] || { cat "$work/out"; fail "gomod inputs"; }
expect_rc 0 "$GA" hash "$work/m" --go-inputs
d1=$(cut -d' ' -f1 "$work/out")
echo more >> "$work/m/README.md"
expect_rc 0 "$GA" hash "$work/m" --go-inputs
[ "$(cut -d' ' -f1 "$work/out")" = "$d1" ] || fail "README changed the go-inputs digest"
expect_rc 0 "$GA" hash "$work/m" --exclude README.md --exclude '*_test.go' --exclude testdata --manifest
grep -q 'main.go' "$work/out" && ! grep -q README "$work/out" || fail "hash --exclude"
expect_rc 1 "$GA" hash "$work/nonexistent"
grep -q nonexistent "$work/err" || fail "missing path not named"
ok "gomod inputs, hash --go-inputs (README-insensitive), hash --exclude, errors name the path"

expect_rc 0 "$GA" gomod h1 --mod "$work/m/go.mod"
grep -q '^h1:' "$work/out" || fail "gomod h1"
printf 'example.com/x v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' > "$work/go.sum"
mkdir -p "$work/modcache"
expect_rc 4 "$GA" gomod verify "$work/go.sum" --modcache "$work/modcache"
grep -q '1 problem' "$work/out" || fail "gomod verify should report the missing module"
expect_rc 0 "$GA" gomod verify "$work/go.sum" --modcache "$work/modcache" --ignore-missing
ok "gomod h1; gomod verify exits 4 on a problem, 0 with --ignore-missing"

expect_rc 0 "$GA" explain "$work/m"
grep -q '^build: would miss' "$work/out" || { cat "$work/out"; fail "explain"; }
expect_rc 0 "$GA" explain "$work/m" --json
[ "$(jq -r '.dry_run' "$work/out")" = true ] && [ "$(jq -r '.steps[2].changes[0].kind' "$work/out")" = first ] ||
  fail "explain --json"
ok "explain: would miss, first build; --json document; records nothing"

expect_rc 0 "$GA" cache ls
! grep -q '^action' "$work/out" || fail "explain (a dry run) recorded something"
expect_rc 0 "$GA" build "$work/m"
grep -q '^build: miss' "$work/out" || { cat "$work/out"; fail "build"; }
expect_rc 0 "$GA" cache du
grep -q '^total' "$work/out" || fail "cache du"
expect_rc 0 "$GA" cache stats
grep -q '^go-toolchain' "$work/out" || fail "cache stats"
expect_rc 0 "$GA" cache stats --json
jq -e '.total' "$work/out" >/dev/null || fail "cache stats --json"
expect_rc 0 "$GA" cache ls
grep -q '^action .* go-toolchain/' "$work/out" || { cat "$work/out"; fail "cache ls lacks the toolchain record"; }
expect_rc 0 "$GA" cache verify
expect_rc 0 "$GA" cache prune --dry-run --max-size 1 -v
grep -q '^would remove' "$work/out" || fail "cache prune --dry-run"
expect_rc 2 "$GA" cache prune --max-size lots
expect_rc 0 "$GA" cache export "$work/c.tar.zst"
expect_rc 0 "$GA" cache import "$work/c.tar.zst" --cache "$work/cache2"
expect_rc 0 "$GA" cache ls --cache "$work/cache2"
grep -q 'go-toolchain/' "$work/out" || fail "import did not bring the record"
expect_rc 1 "$GA" cache import "$work/m/go.mod" --cache "$work/cache3"
ok "cache du/stats/ls/verify/prune/export/import; a bad archive fails with 1"
echo "cli.sh: $n passed, 0 failed"
