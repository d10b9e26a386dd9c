#!/usr/bin/env bash
# The store's multi-process stress test at full length: 8 processes putting, looking up,
# restoring, acquiring mounts (SHARED/LOCKED/PRIVATE), pruning and setting refs on one store for
# GOACCEL_STRESS_SECONDS (default 30; 10 in a sanitizer build, to keep the suite short), then
# the statistics must match what the workers saw and verify must find nothing wrong.
# Usage: store_stress.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
bin=$build/tests/test_store
[ -x "$bin" ] || { echo "no $bin"; exit 1; }
default=30
if grep -q '^GOACCEL_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  default=10
fi
seconds=${GOACCEL_STRESS_SECONDS:-$default}
start=$(date +%s%N)
"$bin" --stress "$seconds"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "store stress: ${seconds} s requested, $((ms / 1000)).$(( (ms % 1000) / 100 )) s wall"
