#!/usr/bin/env bash
# `goaccel cache ls` reads the store's own listing (goaccel_store_action_list_get): one line per
# action record, least recently used first, as many as `cache du` counts; --kind / --glob /
# --actions filter; listing counts nothing (the statistics stay as they were). `cache stats`
# prints the kinds counted (goaccel_store_stats_kinds).
# Usage: store_cli_ls.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
GA=$build/cli/goaccel
worker=$build/tests/test_store
[ -x "$GA" ] || { echo "store_cli_ls: no $GA (CLI not built)"; exit 77; }
[ -x "$worker" ] || { echo "no $worker"; exit 1; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "store_cli_ls: FAIL: $*" >&2; exit 1; }
export GOACCEL_CACHE=$work/store

# A stress worker fills the store with records of kind "stress" (a second at a time, until it
# has put a few: on a loaded machine one second may not be enough).
for seed in 7 8 9 10 11 12 13 14 15 16; do
  "$worker" --worker "$work/store" 1 $seed "$work/worker.out" >/dev/null
  [ "$("$GA" cache du | awk '$1 == "actions" {print $2}')" -ge 3 ] && break
done
"$GA" cache stats --json > "$work/stats.before"
"$GA" cache ls > "$work/ls"
"$GA" cache du > "$work/du"
n=$(grep -c '^action ' "$work/ls" || true)
want=$(awk '$1 == "actions" {print $2}' "$work/du")
[ "$n" -gt 0 ] && [ "$n" = "$want" ] || fail "ls lists $n actions, du counts $want"
# every action line ends with KIND/KEY
grep '^action ' "$work/ls" | awk '{print $NF}' | grep -Evq '^stress/[0-9a-f]{64}$' && fail "bad id column"
# least recently used first: the ages ("used X ago") never increase down the list
grep '^action ' "$work/ls" | sed -n 's/.*used *\([0-9.]*\)\(ms\|s\|m\|h\|d\) ago.*/\1 \2/p' |
  awk '{m = ($2 == "ms") ? 0.001 : ($2 == "s") ? 1 : ($2 == "m") ? 60 : ($2 == "h") ? 3600 : 86400;
        a = $1 * m; if (NR > 1 && a > prev + 0.011) { exit 1 } prev = a }' ||
  fail "not least recently used first"
# as many mount lines as du counts instances (the worker may or may not have made some)
[ "$(grep -c '^mount ' "$work/ls" || true)" = "$(awk '$1 == "mounts" {print $2}' "$work/du")" ] ||
  fail "ls and du disagree on mounts"
# filters
"$GA" cache ls --kind stress > "$work/ls.kind"
[ "$(grep -c '^action ' "$work/ls.kind")" = "$n" ] || fail "--kind stress"
! grep -qv '^action ' "$work/ls.kind" || fail "--kind lists more than actions"
"$GA" cache ls --kind other > "$work/ls.none"
[ ! -s "$work/ls.none" ] || fail "--kind other"
key=$(grep '^action ' "$work/ls" | head -n 1 | awk '{print $NF}')
"$GA" cache ls --glob "$key" > "$work/ls.glob"
[ "$(wc -l < "$work/ls.glob")" = 1 ] || fail "--glob"
"$GA" cache ls --actions > "$work/ls.actions"
[ "$(grep -c '^action ' "$work/ls.actions")" = "$n" ] || fail "--actions"
set +e
"$GA" cache ls --bogus >/dev/null 2>&1; rc=$?
set -e
[ $rc = 2 ] || fail "a bad argument exits $rc, not 2"
"$GA" cache ls --help | grep -q '^usage: goaccel cache' || fail "cache ls --help"
# cache stats: a line per kind counted (here "stress"), then the total
"$GA" cache stats > "$work/stats.txt"
grep -q '^stress ' "$work/stats.txt" && grep -q '^total ' "$work/stats.txt" || { cat "$work/stats.txt"; fail "cache stats"; }
! grep -q '^go-build ' "$work/stats.txt" || fail "cache stats lists a kind never counted"
"$GA" cache stats --json > "$work/stats.after"
cmp -s "$work/stats.before" "$work/stats.after" || fail "listing changed the statistics"
echo "store_cli_ls: $n actions listed; filters, order and statistics checked"
