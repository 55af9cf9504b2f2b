#!/usr/bin/env bash
# Builds the sframe-wasm JS package: sframe-wasm/pkg/ (wasm-bindgen --target web output).
#   bash sframe-wasm/scripts/build.sh            # installs what is missing, then builds
# Installs, if missing: the wasm32-unknown-unknown target and wasm-bindgen-cli of exactly the
# wasm-bindgen version in Cargo.lock (the glue and the crate must match).
# Release settings are passed as CARGO_PROFILE_RELEASE_* (the workspace profile is not ours):
# LTO, one codegen unit, panic=abort, and opt-level 3 by default. SFRAME_WASM_OPT_LEVEL=z
# gives a ~30% smaller module but software AES/SHA run ~3.5x slower (see README, "Size").
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
[ -n "$want" ] || { echo "wasm-bindgen not found in Cargo.lock" >&2; exit 1; }
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "installing wasm-bindgen-cli $want (found: ${have:-none})"
  # Not --locked: the CLI's own lockfile pins webpki-roots 1.0.11, which the crates.io index
  # reachable here does not offer (`--locked` fails to resolve); the CLI version itself is exact.
  # --no-default-features drops rustls (the test runner's WebDriver client; we run under Node),
  # which roughly halves the install time.
  cargo install wasm-bindgen-cli --version "=$want" --no-default-features
fi

target_dir="${CARGO_TARGET_DIR:-$root/target}"
CARGO_PROFILE_RELEASE_OPT_LEVEL=${SFRAME_WASM_OPT_LEVEL:-3} \
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_PANIC=abort \
CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo build -p sframe-wasm --target wasm32-unknown-unknown --release

rm -rf "$here/pkg"
wasm-bindgen --target web --out-dir "$here/pkg" --out-name sframe_wasm \
  "$target_dir/wasm32-unknown-unknown/release/sframe_wasm.wasm"

wasm="$here/pkg/sframe_wasm_bg.wasm"
# Optional: wasm-opt from the npm `binaryen` package if sframe-wasm's devDependencies are
# installed (npm ci). Never downloaded here.
if [ -x "$here/node_modules/.bin/wasm-opt" ]; then
  "$here/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$wasm" -o "$wasm.opt" && mv "$wasm.opt" "$wasm"
fi
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "sframe_wasm_bg.wasm: $raw bytes raw, $gz bytes gzip -9"
