#!/usr/bin/env bash
# Reproducibility: the same inputs copied into two different directories, under different umasks,
# created in a different order, with different mtimes, owners, locale and TZ — extracted, layered
# and written (one without a layer cache, one with) — give identical manifest digests and
# byte-identical docker archives.
# Usage: image_reproducible.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
source "$SRC/tests/sh/image_common.bash"
T=$(mktemp -d "${TMPDIR:-/tmp}/ga-image-repro-XXXXXX")
trap 'rm -rf "$T"' EXIT
tool=$(image_tool_build "$BUILD" "$SRC" "$T")

# The inputs: a "binary", a slice of zoneinfo with its links, the CA bundle.
mkdir -p "$T/inputs/out" "$T/inputs/usr/share/zoneinfo" "$T/inputs/etc/ssl/certs"
head -c 300000 /dev/urandom > "$T/inputs/out/app"; chmod 0755 "$T/inputs/out/app"
cp -a /usr/share/zoneinfo/Asia /usr/share/zoneinfo/Europe "$T/inputs/usr/share/zoneinfo/"
ln -s Asia/Shanghai "$T/inputs/usr/share/zoneinfo/PRC"
cp /etc/ssl/certs/ca-certificates.crt "$T/inputs/etc/ssl/certs/"

# Copy A: umask 022, tar order. Copy B: umask 077, deeper path, reverse creation order, other
# mtimes, other owners.
(umask 022; mkdir -p "$T/a/stage" && cp -r "$T/inputs/." "$T/a/stage/")
(umask 077; mkdir -p "$T/b/some/deeper/stage"
 cd "$T/inputs" && find . -mindepth 1 | sort -r | while read -r p; do
   if [ -d "$p" ] && [ ! -L "$p" ]; then mkdir -p "$T/b/some/deeper/stage/$p"
   else mkdir -p "$T/b/some/deeper/stage/$(dirname "$p")"; cp -P "$p" "$T/b/some/deeper/stage/$p"; fi
 done)
find "$T/b" -exec touch -h -d '2011-11-11 11:11:11' {} +
if [ "$(id -u)" = 0 ]; then chown -R -h 1234:5678 "$T/b/some/deeper/stage"; fi
[ "$(stat -c %a "$T/b/some/deeper/stage/etc/ssl/certs/ca-certificates.crt")" = 600 ]

build_one() { # DIR STAGE_ROOT EXTRA_ARGS...
  local dir=$1 stage=$2; shift 2
  mkdir -p "$dir/final"
  "$tool" extract --epoch 1700000000 "$dir/final" "$stage" \
    /out/app:/app /usr/share/zoneinfo:/usr/share/zoneinfo \
    /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/
  "$tool" build --out "$dir/oci" --ref app --epoch 1700000000 --layer "$dir/final" \
    --env TZ=Asia/Shanghai --entrypoint /app --docker-archive "$dir/img.tar=goaccel.test/app:1" "$@"
}
(umask 022; LC_ALL=C TZ=UTC build_one "$T/a" "$T/a/stage") > "$T/a.json"
(umask 077; LC_ALL=C.UTF-8 TZ=Asia/Tokyo build_one "$T/b/x" "$T/b/some/deeper/stage" --cache "$T/b/cache") > "$T/b.json"
ma=$(json_get "$T/a.json" 'j["manifest"]')
mb=$(json_get "$T/b.json" 'j["manifest"]')
echo "A: $ma"
echo "B: $mb"
[ "$ma" = "$mb" ] || { echo "FAIL: manifest digests differ"; diff <(tar tvf "$T/a/img.tar") <(tar tvf "$T/b/x/img.tar") || true; exit 1; }
cmp "$T/a/img.tar" "$T/b/x/img.tar"
# and again from B's layer cache: a hit with the same digest
(umask 077; build_one "$T/b/y" "$T/b/some/deeper/stage" --cache "$T/b/cache") > "$T/c.json"
[ "$(json_get "$T/c.json" 'j["manifest"]')" = "$ma" ]
echo "reproducible: passed"
