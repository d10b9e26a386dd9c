#!/usr/bin/env bash
# Fails when the shared library exports a symbol that does not start with goaccel_.
set -euo pipefail
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
[ -n "$syms" ] || { echo "no exported symbols found in $lib"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^goaccel_' || true)
if [ -n "$bad" ]; then
  echo "symbols exported without the goaccel_ prefix:"; printf '  %s\n' $bad; exit 1
fi
echo "$(printf '%s\n' "$syms" | wc -l) exported symbols, all goaccel_*"
