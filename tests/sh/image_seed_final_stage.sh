#!/usr/bin/env bash
# The seed Dockerfile's final stage, without a daemon:
#   FROM scratch
#   COPY --from=build /out/app /app
#   COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
#   COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
#   ENV TZ=Asia/Shanghai
#   ENTRYPOINT ["/app"]
# A statically linked Go binary (CGO_ENABLED=0) is extracted with goaccel_extract (the host is the
# build stage for tzdata and the CA bundle), layered, written as OCI, unpacked by umoci, and run
# under chroot: it must print the Shanghai zone, read from the image's own zoneinfo.
# Usage: image_seed_final_stage.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
source "$SRC/tests/sh/image_common.bash"
GO=$(command -v go || true)
[ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; }
if [ -z "$GO" ]; then echo "SKIP: no Go toolchain on this machine"; exit 77; fi
if [ "$(id -u)" != 0 ]; then echo "SKIP: running the binary under chroot needs root"; exit 77; fi
for f in /usr/share/zoneinfo/Asia/Shanghai /etc/ssl/certs/ca-certificates.crt; do
  [ -e "$f" ] || { echo "FAIL: $f missing (Debian tzdata / ca-certificates, scripts/bootstrap.d/image)"; exit 1; }
done
command -v umoci >/dev/null || { echo "FAIL: umoci missing (scripts/bootstrap)"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ga-image-seed-XXXXXX")
trap 'rm -rf "$T"' EXIT
tool=$(image_tool_build "$BUILD" "$SRC" "$T")

# The build stage: a tiny program that loads $TZ and reports the zone and the CA pool.
mkdir -p "$T/src" "$T/build/out" "$T/final"
cat > "$T/src/go.mod" <<'GO'
module example.com/tzapp

go 1.21
GO
cat > "$T/src/main.go" <<'GO'
package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"
)

func main() {
	loc, err := time.LoadLocation(os.Getenv("TZ"))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	name, offset := time.Now().Zone() // time.Local, loaded from $TZ at start-up
	pool, err := x509.SystemCertPool()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("%s %s %d certs=%d\n", time.Now().In(loc).Location(), name, offset, len(pool.Subjects()))
}
GO
(cd "$T/src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS= "$GO" build -trimpath -o "$T/build/out/app" .)
if readelf -l "$T/build/out/app" | grep -q INTERP; then echo "FAIL: the binary is not static"; exit 1; fi

# COPY --from semantics: the binary from the build stage, tzdata and CA certificates from the host.
"$tool" extract --epoch 1700000000 "$T/final" "$T/build" /out/app:/app
"$tool" extract --epoch 1700000000 "$T/final" / \
  /usr/share/zoneinfo:/usr/share/zoneinfo /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/
[ -x "$T/final/app" ] && [ -f "$T/final/usr/share/zoneinfo/Asia/Shanghai" ] && [ -f "$T/final/etc/ssl/certs/ca-certificates.crt" ]

"$tool" build --out "$T/oci" --ref seed --epoch 1700000000 --layer "$T/final" \
  --env TZ=Asia/Shanghai --entrypoint /app > "$T/build.json"
umoci unpack --image "$T/oci:seed" "$T/bundle" >/dev/null
rootfs="$T/bundle/rootfs"
# nothing but what was copied: the scratch image holds app, etc and usr
[ "$(ls "$rootfs" | tr '\n' ' ')" = "app etc usr " ]
env_tz=$(json_get "$T/bundle/config.json" '[e for e in j["process"]["env"] if e.startswith("TZ=")][0]')
[ "$env_tz" = "TZ=Asia/Shanghai" ]
args=$(json_get "$T/bundle/config.json" '" ".join(j["process"]["args"])')
CHROOT=$(command -v chroot)
out=$(env -i "$env_tz" "$CHROOT" "$rootfs" $args)
echo "chroot $rootfs $args -> $out"
case "$out" in
  "Asia/Shanghai CST 28800 certs="*) ;;
  *) echo "FAIL: expected the Shanghai zone"; exit 1 ;;
esac
certs=${out##*certs=}
[ "$certs" -gt 50 ] || { echo "FAIL: only $certs CA certificates in the image"; exit 1; }
# without the image's zoneinfo the same binary cannot load the zone: the output came from it
rm -rf "$rootfs/usr/share/zoneinfo"
if env -i "$env_tz" "$CHROOT" "$rootfs" $args >/dev/null 2>&1; then
  echo "FAIL: the zone loaded without zoneinfo in the image"; exit 1
fi
echo "seed final stage: passed"
