#!/usr/bin/env bash
# The interpreter tests need Debian's wabt (wast2json, spectest-interp, wasm-validate, wasm2wat).
set -euo pipefail
command -v spectest-interp >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wabt
else
  echo "test/support/ensure-wabt.sh: Debian's wabt is missing; run as root or: sudo apt-get install wabt" >&2
  exit 1
fi
