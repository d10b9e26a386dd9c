#!/usr/bin/env bash
# Outside validators of the image layer's output: umoci unpack (diffIDs, sizes, the root file
# system), oci-image-tool validate, skopeo copy oci->oci and oci->docker-archive, and skopeo reading
# our own docker-archive. All are installed by scripts/bootstrap; a missing one is a failure.
# Usage: image_validators.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
source "$SRC/tests/sh/image_common.bash"
for t in umoci skopeo oci-image-tool python3; do
  command -v "$t" >/dev/null || { echo "FAIL: $t is not installed (run scripts/bootstrap)"; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/ga-image-validators-XXXXXX")
trap 'rm -rf "$T"' EXIT
tool=$(image_tool_build "$BUILD" "$SRC" "$T")
step() { echo "--- $*"; }
# skopeo wants a signature policy; an explicit accept-anything policy in the test dir keeps the
# host's /etc/containers out of it.
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$T/policy.json"
SKOPEO=(skopeo --policy "$T/policy.json")

# A base image and an application image on top of it, with every entry type.
mkdir -p "$T/base/etc" "$T/app/usr/share/zoneinfo/Asia" "$T/app/etc/ssl/certs" "$T/app/srv/data"
echo "base-os" > "$T/base/etc/os-release"
cp /usr/share/zoneinfo/Asia/Shanghai "$T/app/usr/share/zoneinfo/Asia/"
ln -s Asia/Shanghai "$T/app/usr/share/zoneinfo/PRC"
cp /etc/ssl/certs/ca-certificates.crt "$T/app/etc/ssl/certs/"
printf '#!/bin/sh\necho hi\n' > "$T/app/app"; chmod 0755 "$T/app/app"
ln "$T/app/app" "$T/app/app-hardlink"
long=$(printf 'x%.0s' $(seq 1 150))
echo "long" > "$T/app/srv/data/$long"
mkfifo "$T/app/srv/fifo"

step "build base and app images"
"$tool" build --out "$T/oci" --ref base --epoch 1700000000 --layer "$T/base" --env PATH=/bin \
  --platform linux/amd64 > "$T/base.json"
"$tool" build --out "$T/oci" --ref app --base "$T/oci:base" --epoch 1700000000 \
  --layer "$T/app" --entrypoint /app --env TZ=Asia/Shanghai --workdir /srv --user 65532 \
  --label org.opencontainers.image.title=app --port 8080/tcp \
  --docker-archive "$T/ours.tar=goaccel.test/app:v1" > "$T/app.json"
[ "$(json_get "$T/app.json" 'len(j["layers"])')" = 2 ]
[ "$(json_get "$T/app.json" 'j["layers"][0]["from_base"]')" = 1 ]

step "oci-image-tool validate --type image"
oci-image-tool validate --type image --ref name=app "$T/oci"
oci-image-tool validate --type image --ref name=base "$T/oci"

step "umoci unpack (checks diffIDs and sizes) gives the input tree"
umoci unpack --image "$T/oci:app" "$T/bundle" >/dev/null
rootfs="$T/bundle/rootfs"
diff -r --no-dereference "$T/app/usr" "$rootfs/usr"
diff -r --no-dereference "$T/app/etc/ssl" "$rootfs/etc/ssl"
cmp "$T/base/etc/os-release" "$rootfs/etc/os-release"
[ "$(readlink "$rootfs/usr/share/zoneinfo/PRC")" = "Asia/Shanghai" ]
[ "$(stat -c %i "$rootfs/app")" = "$(stat -c %i "$rootfs/app-hardlink")" ]
[ -p "$rootfs/srv/fifo" ]
[ "$(stat -c %a "$rootfs/app")" = 755 ]
[ -f "$rootfs/srv/data/$long" ]
json_get "$T/bundle/config.json" '"TZ=Asia/Shanghai" in j["process"]["env"] and "PATH=/bin" in j["process"]["env"]' | grep -qx True
json_get "$T/bundle/config.json" 'j["process"]["args"]' | grep -qx "\['/app'\]"
json_get "$T/bundle/config.json" 'j["process"]["cwd"]' | grep -qx /srv

step "skopeo copy oci: -> oci:"
"${SKOPEO[@]}" copy -q "oci:$T/oci:app" "oci:$T/copy:app"
umoci unpack --image "$T/copy:app" "$T/bundle2" >/dev/null
diff -r --no-dereference -x fifo "$rootfs" "$T/bundle2/rootfs"

step "skopeo copy oci: -> docker-archive:"
"${SKOPEO[@]}" copy -q "oci:$T/oci:app" "docker-archive:$T/skopeo.tar:goaccel.test/app:v1"
"${SKOPEO[@]}" inspect "docker-archive:$T/skopeo.tar" > "$T/skopeo-inspect.json"
[ "$(json_get "$T/skopeo-inspect.json" 'len(j["Layers"])')" = 2 ]

step "our docker-archive is read by skopeo and round-trips to the same layers"
"${SKOPEO[@]}" inspect "docker-archive:$T/ours.tar" > "$T/ours-inspect.json"
json_get "$T/ours-inspect.json" 'j["Env"]' | grep -q 'TZ=Asia/Shanghai'
"${SKOPEO[@]}" copy -q "docker-archive:$T/ours.tar" "oci:$T/fromarchive:x"
umoci unpack --image "$T/fromarchive:x" "$T/bundle3" >/dev/null
diff -r --no-dereference -x fifo "$rootfs" "$T/bundle3/rootfs"
# the diff_ids survive the round trip
python3 - "$T/oci" "$T/fromarchive" <<'PY'
import json, sys, os
def diff_ids(layout, ref=None):
    idx = json.load(open(os.path.join(layout, "index.json")))
    m = [x for x in idx["manifests"] if ref is None or x.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
    man = json.load(open(os.path.join(layout, "blobs/sha256", m["digest"][7:])))
    cfg = json.load(open(os.path.join(layout, "blobs/sha256", man["config"]["digest"][7:])))
    return cfg["rootfs"]["diff_ids"]
a, b = diff_ids(sys.argv[1], "app"), diff_ids(sys.argv[2])
assert a == b, (a, b)
PY

step "an unchanged rebuild is byte-identical"
m1=$(json_get "$T/app.json" 'j["manifest"]')
"$tool" build --out "$T/oci2" --ref app --base "$T/oci:base" --epoch 1700000000 \
  --layer "$T/app" --entrypoint /app --env TZ=Asia/Shanghai --workdir /srv --user 65532 \
  --label org.opencontainers.image.title=app --port 8080/tcp \
  --docker-archive "$T/ours2.tar=goaccel.test/app:v1" > "$T/app2.json"
[ "$(json_get "$T/app2.json" 'j["manifest"]')" = "$m1" ]
cmp "$T/ours.tar" "$T/ours2.tar"
echo "image validators: all passed"
