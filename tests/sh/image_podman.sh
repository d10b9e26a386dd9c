#!/usr/bin/env bash
# `podman load` of the docker-archive the image layer writes. podman is installed by
# scripts/bootstrap.d/image; when it cannot work on this machine (not installed, no usable
# storage), the test says why and exits 77 (skipped) — it never pretends.
# Usage: image_podman.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1 SRC=$2
source "$SRC/tests/sh/image_common.bash"
if ! command -v podman >/dev/null; then
  echo "SKIP: podman is not installed (scripts/bootstrap.d/image installs it)"; exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/ga-image-podman-XXXXXX")
# podman's storage (vfs: no overlay mount needed) lives in the test directory only.
P=(podman --root "$T/storage" --runroot "$T/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend none)
cleanup() { "${P[@]}" system reset -f >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
if ! "${P[@]}" info > "$T/info.log" 2>&1; then
  echo "SKIP: podman cannot run here: $(tail -3 "$T/info.log")"; exit 77
fi
tool=$(image_tool_build "$BUILD" "$SRC" "$T")
mkdir -p "$T/root/etc"
echo hello > "$T/root/etc/greeting"
"$tool" build --epoch 0 --layer "$T/root" --env TZ=Asia/Shanghai --entrypoint /bin/app \
  --docker-archive "$T/img.tar=goaccel.test/podman:v1" > "$T/build.json"
"${P[@]}" load -i "$T/img.tar"
"${P[@]}" images --format '{{.Repository}}:{{.Tag}}' | grep -qx 'goaccel.test/podman:v1'
"${P[@]}" image inspect goaccel.test/podman:v1 > "$T/inspect.json"
json_get "$T/inspect.json" 'j[0]["Config"]["Env"]' | grep -q 'TZ=Asia/Shanghai'
# the loaded image keeps our diff_id
want=$(json_get "$T/build.json" 'j["layers"][0]["diff_id"]')
json_get "$T/inspect.json" 'j[0]["RootFS"]["Layers"]' | grep -q "$want"
echo "podman load: passed"
