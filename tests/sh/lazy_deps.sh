#!/usr/bin/env bash
# libgit2 and libarchive are loaded at run time, on first use (docs/dependencies.md): neither
# libgoaccel.so nor the goaccel command lists them as DT_NEEDED or leaves one of their symbols
# undefined; a process that does not need them never maps them; the lazy paths work (hash
# --gitignore loads libgit2, cache export/import load libarchive); and when the library is missing
# at run time (hidden in a private mount namespace, where unshare is allowed) the call that needs it
# fails with a message naming the SONAME while everything else still works.
# Args: BUILD_DIR SOURCE_DIR.
set -euo pipefail
BUILD=$1
SRC_DIR=$2
GA=$BUILD/cli/goaccel
LIB=$BUILD/libgoaccel.so
work=$(mktemp -d "${TMPDIR:-/tmp}/ga-lazy.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOACCEL_CACHE=$work/cache
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { echo "FAIL: $*"; exit 1; }
command -v readelf >/dev/null || { echo "readelf (binutils) is not installed"; exit 77; }

for f in "$LIB" "$GA"; do
	readelf -d "$f" >"$work/dyn"
	grep -q NEEDED "$work/dyn" || fail "$f: readelf shows no DT_NEEDED at all"
	if grep -E 'NEEDED.*\[(libgit2|libarchive|libsqlite3)\.' "$work/dyn"; then
		fail "$f links libgit2, libarchive or SQLite"
	fi
done
# A git_*/archive_* call that bypasses the loader's table would be an undefined symbol here.
if nm -D --undefined-only "$LIB" | grep -E ' (git_|archive_|sqlite3_)'; then
	fail "libgoaccel.so has undefined libgit2/libarchive/SQLite symbols (missing from lib/util/dl_*.h)"
fi
ok "libgoaccel.so and goaccel do not link libgit2, libarchive or SQLite"

# Which shared objects a run maps (the dynamic loader's own trace, DT_NEEDED and dlopen alike).
loaded() { LD_DEBUG=files LD_DEBUG_OUTPUT=$work/ld "$@" >"$work/out" 2>"$work/err" || {
	cat "$work/out" "$work/err"; fail "$* failed"; }; cat "$work/ld".* >"$work/ldall"; rm -f "$work/ld".*; }
loaded "$GA" version
if grep -E 'file=lib(git2|archive|sqlite3)\.so' "$work/ldall"; then fail "goaccel version loaded libgit2/libarchive/SQLite"; fi
ok "goaccel version maps none of the three libraries"
loaded "$GA" hash "$SRC_DIR/docs"
if grep -E 'file=lib(git2|archive|sqlite3)\.so' "$work/ldall"; then fail "goaccel hash loaded libgit2/libarchive/SQLite"; fi
ok "goaccel hash (no --gitignore) maps none of the three libraries"

mkdir -p "$work/repo/sub"
git -C "$work/repo" init -q
printf 'ignored.log\n' >"$work/repo/.gitignore"
echo a >"$work/repo/sub/a.txt"
mkdir -p "$work/clean/sub"
cp "$work/repo/.gitignore" "$work/clean/"
cp "$work/repo/sub/a.txt" "$work/clean/sub/"
"$GA" hash "$work/clean" | cut -d' ' -f1 >"$work/want"
echo noise >"$work/repo/sub/ignored.log"
loaded "$GA" hash --gitignore "$work/repo"
grep -q 'file=libgit2\.so' "$work/ldall" || fail "hash --gitignore did not load libgit2"
[ "$(cut -d' ' -f1 "$work/out")" = "$(cat "$work/want")" ] || fail "hash --gitignore did not leave out ignored.log"
"$GA" hash "$work/repo" | cut -d' ' -f1 >"$work/all"
[ "$(cat "$work/all")" != "$(cat "$work/want")" ] || fail "ignored.log is not part of the plain hash"
ok "hash --gitignore loads libgit2 and honours .gitignore"

loaded "$GA" cache export "$work/c.tar.zst"
grep -q 'file=libarchive\.so' "$work/ldall" || fail "cache export did not load libarchive"
[ -s "$work/c.tar.zst" ] || fail "cache export wrote nothing"
loaded "$GA" cache import "$work/c.tar.zst" --cache "$work/cache2"
grep -q 'file=libarchive\.so' "$work/ldall" || fail "cache import did not load libarchive"
ok "cache export/import load libarchive and work"
loaded "$GA" cache stats --cache "$work/cache2"
grep -q 'file=libsqlite3\.so' "$work/ldall" || fail "cache stats did not load SQLite"
grep -q 'hits' "$work/out" || { cat "$work/out"; fail "cache stats printed no counters"; }
ok "cache stats loads SQLite and works"

# The library missing at run time: hide it behind /dev/null in a private mount namespace.
hide() { local so=$1; shift; local real
	real=$(ldconfig -p 2>/dev/null | awk -v so="$so" '$1 == so && /x86-64|x86_64|64bit/ {print $NF; exit}')
	[ -n "$real" ] || real=$(ldconfig -p 2>/dev/null | awk -v so="$so" '$1 == so {print $NF; exit}')
	[ -n "$real" ] || return 2
	real=$(readlink -f "$real")
	unshare --user --map-root-user --mount bash -c 'mount --bind /dev/null "$1" || exit 99; shift; exec "$@"' \
		_ "$real" "$@"; }
if unshare --user --map-root-user --mount true 2>/dev/null; then
	gso=$(readelf -d "$(ldconfig -p | awk '$1 ~ /^libgit2\.so\./ {print $NF; exit}')" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	aso=$(readelf -d "$(ldconfig -p | awk '$1 ~ /^libarchive\.so\./ {print $NF; exit}')" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	set +e
	hide "$gso" "$GA" hash --gitignore "$work/repo" >"$work/out" 2>"$work/err"; rc=$?
	set -e
	[ $rc = 1 ] || { cat "$work/out" "$work/err"; fail "hash --gitignore without $gso exited $rc, want 1"; }
	grep -q "loading $gso" "$work/err" || { cat "$work/err"; fail "the message does not name $gso"; }
	hide "$gso" "$GA" hash "$work/clean" >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "hash without libgit2"; }
	[ "$(cut -d' ' -f1 "$work/out")" = "$(cat "$work/want")" ] || fail "hash without libgit2 gave another digest"
	set +e
	hide "$aso" "$GA" cache export "$work/d.tar.zst" >"$work/out" 2>"$work/err"; rc=$?
	set -e
	[ $rc = 1 ] || { cat "$work/out" "$work/err"; fail "cache export without $aso exited $rc, want 1"; }
	grep -q "loading $aso" "$work/err" || { cat "$work/err"; fail "the message does not name $aso"; }
	sso=$(readelf -d "$(ldconfig -p | awk '$1 ~ /^libsqlite3\.so\./ {print $NF; exit}')" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	set +e
	hide "$sso" "$GA" cache stats --cache "$work/cache2" >"$work/out" 2>"$work/err"; rc=$?
	set -e
	[ $rc = 1 ] || { cat "$work/out" "$work/err"; fail "cache stats without $sso exited $rc, want 1"; }
	grep -q "loading $sso" "$work/err" || { cat "$work/err"; fail "the message does not name $sso"; }
	hide "$sso" "$GA" hash "$work/clean" >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "hash without SQLite"; }
	ok "without $gso / $aso / $sso: the calls that need them fail naming the SONAME, the rest works"
else
	echo "# skipped the missing-library case: unshare --user --mount is not allowed here"
fi
echo "1..$n"
