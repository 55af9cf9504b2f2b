#!/usr/bin/env bash
# One command for the browser demo: builds the sframe-wasm package if needed, then serves
# the demo on http://localhost:${PORT:-8080}/ .   bash examples/browser/run.sh [port]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || [ "${REBUILD:-0}" = 1 ]; then
  bash sframe-wasm/scripts/build.sh
fi
exec node examples/browser/serve.mjs "${1:-${PORT:-8080}}"
