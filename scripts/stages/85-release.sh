#!/usr/bin/env bash
# Release readiness. Checks that what would be published is complete and works
# from the published form, not from the repository:
#   1. licenses and metadata: LICENSE-MIT / LICENSE-APACHE (the crates' links resolve to them,
#      sframe-wasm's copies are identical), complete crate metadata, one version everywhere;
#   2. crates: `cargo publish --dry-run -p sframe-core -p sframe-ffi -p sframe-cli` — stable
#      cargo packages the three together and verifies sframe-ffi and sframe-cli against the
#      *packaged* sframe-core (a temporary local registry), so path dependencies are no excuse;
#      each package holds only sources, README, licenses (and, for sframe-ffi, build script,
#      header, examples, .pc templates);
#   3. docs.rs: the core's documentation builds as docs.rs builds it (all features, --cfg
#      docsrs, unstable features allowed, warnings denied), and feature-gated items say which
#      feature they need;
#   4. public API: sframe-core's public API (cargo-public-api over rustdoc JSON) equals the
#      committed snapshot sframe-core/public-api.txt;
#   5. C library: install.sh lays out libsframe.so.<version> -> libsframe.so.0 -> libsframe.so,
#      the SONAME is libsframe.so.0, programs record NEEDED libsframe.so.0 and run from the
#      install with LD_LIBRARY_PATH only, pkg-config versions match, DESTDIR staging works
#      (stage 30 covers the rpath / static / sanitizer runs of the same install);
#   6. npm: `npm pack` ships exactly the package's files (every module the JS imports is in it),
#      and the tarball installed into an empty project works when imported by name: Sender /
#      Receiver round trips in three suites, installPolyfill, the worker files, and tsc resolves
#      the package's types by name.
#
# After an intended change of sframe-core's public API:
#   bash scripts/stages/85-release.sh update-api    # rewrites sframe-core/public-api.txt
# then review `git diff sframe-core/public-api.txt` and note the change in CHANGELOG.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

# cargo-public-api 0.52 reads rustdoc JSON format 57: what this machine's Rust 1.95 emits.
# rustdoc JSON is unstable, so stable rustdoc needs RUSTC_BOOTSTRAP=1 to write it (what
# cargo-semver-checks does too); using the pinned stable toolchain, not nightly, keeps the
# format (and the snapshot) fixed while nightly moves on.
CPA_VERSION=0.52.0
api_snapshot=sframe-core/public-api.txt

install_cargo_public_api() {
  if [ "$(cargo public-api --version 2>/dev/null | awk '{print $2}')" != "$CPA_VERSION" ]; then
    echo "installing cargo-public-api $CPA_VERSION"
    # --debug: 1m23s of CPU to build instead of 3m45s (release), and it still reads the core's
    # JSON in 0.1 s.
    cargo install cargo-public-api --version "=$CPA_VERSION" --locked --debug
  fi
}

# Prints sframe-core's public API (all features: what docs.rs shows) to stdout. $1: a target
# dir of its own (RUSTC_BOOTSTRAP would otherwise rebuild the main one's artifacts).
public_api() {
  local out=$1
  RUSTC_BOOTSTRAP=1 cargo rustdoc -q -p sframe-core --lib --all-features \
    --target-dir "$out" -- -Z unstable-options --output-format json
  # -s: without blanket impls (From<T> for T, Any, ...), which every type has; auto traits
  # (Send, Sync, Unpin, ...) stay: losing one breaks users.
  cargo public-api --rustdoc-json "$out/doc/sframe_core.json" -s --color never
}

if [ "${1:-}" = update-api ]; then
  install_cargo_public_api
  target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  public_api "$target_dir/release-check" >"$api_snapshot"
  echo "wrote $api_snapshot ($(wc -l <"$api_snapshot") lines); review: git diff $api_snapshot"
  exit 0
fi

# --- tools (installed only when missing) ---
need=()
command -v cc >/dev/null || need+=(gcc)
command -v readelf >/dev/null || need+=(binutils)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v python3 >/dev/null || need+=(python3)
command -v node >/dev/null || need+=(nodejs npm)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
install_cargo_public_api

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
step() { # step NAME CMD...: runs CMD, counts the result, says how long it took
  local name=$1 t0=$SECONDS; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name ($((SECONDS - t0))s)"
  else failed=$((failed + 1)); echo "FAIL $name ($((SECONDS - t0))s)"; fi
}

published=(sframe-core sframe-ffi sframe-cli)
cargo metadata --format-version 1 --no-deps >"$work/metadata.json"
version=$(python3 -c 'import json,sys; print(next(p["version"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"] == "sframe-core"))' "$work/metadata.json")
target_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["target_directory"])' "$work/metadata.json")
echo "version: $version"

# --- 1. licenses and metadata ---
same_file() { cmp -s "$1" "$2" || { echo "$1 differs from $2"; return 1; }; }
licenses_ok() {
  local d f
  grep -q '^MIT License' LICENSE-MIT && grep -q 'Copyright (c) The sframe contributors' LICENSE-MIT &&
    grep -q 'Apache License' LICENSE-APACHE && grep -q 'Version 2.0, January 2004' LICENSE-APACHE || return 1
  for d in "${published[@]}" sframe-wasm; do
    for f in LICENSE-MIT LICENSE-APACHE; do
      same_file "$d/$f" "$f" || return 1
    done
    grep -q '(LICENSE-APACHE)' "$d/README.md" && grep -q '(LICENSE-MIT)' "$d/README.md" ||
      { echo "$d/README.md does not link the licenses"; return 1; }
  done
}
step "LICENSE-MIT and LICENSE-APACHE; every package has them and its README links them" licenses_ok

metadata_ok() {
  python3 - "$work/metadata.json" "$version" "${published[@]}" <<'EOF'
import json, sys
meta, version, names = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3:]
bad = []
for p in meta["packages"]:
    if p["name"] not in names:
        continue
    n = p["name"]
    for field in ("description", "license", "readme", "rust_version"):
        if not p.get(field):
            bad.append(f"{n}: no {field}")
    if p["license"] != "MIT OR Apache-2.0":
        bad.append(f"{n}: license {p['license']}")
    if not 1 <= len(p["keywords"]) <= 5 or not 1 <= len(p["categories"]) <= 5:
        bad.append(f"{n}: keywords/categories {p['keywords']} {p['categories']}")
    if p.get("publish") == []:
        bad.append(f"{n}: publish = false")
    if p.get("repository") and "invalid" in p["repository"]:
        bad.append(f"{n}: placeholder repository {p['repository']}")
    if p["version"] != version:
        bad.append(f"{n}: version {p['version']} != {version}")
    for d in p["dependencies"]:
        if d["name"] == "sframe-core" and d["req"] != f"^{version}":
            bad.append(f"{n}: depends on sframe-core {d['req']}, not ^{version} (root Cargo.toml)")
    print(f"  {n} {p['version']}: {p['description']}")
    print(f"    keywords {p['keywords']}, categories {p['categories']}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
step "crate metadata complete, one version, sframe-core dependency versioned" metadata_ok

npm_meta_ok() {
  node -e '
    const p = require("./sframe-wasm/package.json");
    const bad = [];
    if (p.version !== process.argv[1]) bad.push(`version ${p.version} != ${process.argv[1]}`);
    if (p.license !== "MIT OR Apache-2.0") bad.push(`license ${p.license}`);
    if (!p.description || !p.keywords?.length) bad.push("description/keywords");
    if (bad.length) { console.log(bad.join("\n")); process.exit(1); }' "$version"
}
step "sframe-wasm package.json: same version and license" npm_meta_ok
step "CHANGELOG.md has an Unreleased section" grep -q '^## \[Unreleased\]' CHANGELOG.md

# --- 2. crates: package + verify all three, the dependents against the packaged core ---
dirty=()
# CI runs in a fresh clone: packaged files must be committed there. Elsewhere (a developer's
# tree with work in progress) the check still runs on what is on disk.
[ -n "${CI:-}" ] || dirty=(--allow-dirty)
publish_args=()
for c in "${published[@]}"; do publish_args+=(-p "$c"); done
# The verify builds the packaged crates as crates of a temporary registry, and cargo treats
# registry crates as immutable twice over: it unpacks "sframe-core 0.1.0" of that registry into
# $CARGO_HOME/registry/src/-<hash of the registry path>/ only if no such directory exists, and
# it fingerprints the build in the target dir by name and version, not by content. A clone at
# the same path verified before, with other sources, would leave both behind, and the
# dependents would be verified against the old core (seen in CI: sframe-cli built against a
# core without `unprotect_in_place`). So both go first; third-party crates stay warm.
forget_sframe_builds() {
  local d c
  for c in "${published[@]}"; do
    rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$c-$version"
  done
  for d in "$target_dir"/debug/{.fingerprint,deps,build}; do
    [ -d "$d" ] || continue
    find "$d" -maxdepth 1 \( -name 'sframe[-_]*' -o -name 'libsframe[-_]*' \) -exec rm -rf {} +
  done
  rm -f "$target_dir"/debug/libsframe*
}
forget_sframe_builds
step "cargo publish --dry-run ${publish_args[*]}" \
  cargo publish --dry-run "${dirty[@]}" "${publish_args[@]}"

package_contents_ok() { # package_contents_ok CRATE ALLOWED-REGEX REQUIRED...
  local c=$1 allowed=$2; shift 2
  local crate=$target_dir/package/$c-$version.crate list
  list=$(tar -tzf "$crate" | sed "s|^$c-$version/||" | grep -v '/$' | sort)
  echo "  $c: $(wc -l <<<"$list") files: $(tr '\n' ' ' <<<"$list")"
  local extra
  extra=$(grep -vE "^(Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json|README\.md|LICENSE-MIT|LICENSE-APACHE|src/.*\.rs|$allowed)$" <<<"$list" || true)
  [ -z "$extra" ] || { echo "  $c: unexpected files: $extra"; return 1; }
  local f
  for f in README.md LICENSE-MIT LICENSE-APACHE "$@"; do
    grep -qx "$f" <<<"$list" || { echo "  $c: missing $f"; return 1; }
  done
  # Every tracked source file ships.
  for f in $(git ls-files "$c/src" | sed "s|^$c/||"); do
    grep -qx "$f" <<<"$list" || { echo "  $c: missing $f"; return 1; }
  done
  # The licenses in the .crate are the texts, not links.
  tar -xzOf "$crate" "$c-$version/LICENSE-APACHE" | cmp -s - LICENSE-APACHE ||
    { echo "  $crate: LICENSE-APACHE is not the license text"; return 1; }
}
# The .crate files as published (the dry run above verified that they build). Packaged
# together, so the dependents' lock files resolve sframe-core to the packaged one.
cargo package -q --no-verify "${dirty[@]}" "${publish_args[@]}"
step "sframe-core package: sources, README, licenses only" \
  package_contents_ok sframe-core '' src/lib.rs
step "sframe-ffi package: + build.rs, sframe.h, examples, .pc templates" \
  package_contents_ok sframe-ffi 'build\.rs|include/sframe\.h|examples/.*|sframe(-static)?\.pc\.in' \
  src/lib.rs build.rs include/sframe.h sframe.pc.in sframe-static.pc.in examples/webrtc/sframe_webrtc.hpp
step "sframe-cli package: sources, README, licenses only" \
  package_contents_ok sframe-cli '' src/main.rs

# --- 3. docs.rs ---
docsrs_ok() {
  # docs.rs uses nightly for #![feature(doc_cfg)]; the stable toolchain with RUSTC_BOOTSTRAP
  # does the same and shares the dependencies' check build with the public-API step (one
  # aws-lc-sys build, in a target dir of its own that is kept between runs).
  RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo doc -q -p sframe-core \
    --all-features --no-deps --target-dir "$target_dir/release-check" || return 1
  local d=$target_dir/release-check/doc/sframe_core
  # Feature-gated items are marked (doc(cfg)), e.g. the aws-lc backend and the alloc store.
  grep -q 'Available on <strong>crate feature <code>aws-lc</code>' "$d/struct.AwsLc.html" &&
    grep -q 'Available on <strong>crate feature <code>alloc</code>' "$d/keystore/struct.VecKeyStore.html" ||
    { echo "feature-gated items are not marked in the docs.rs build"; return 1; }
}
step "docs.rs build of sframe-core (all features, --cfg docsrs, -D warnings)" docsrs_ok

# --- 4. public API snapshot ---
api_ok() {
  public_api "$target_dir/release-check" >"$work/public-api.txt" || return 1
  if ! diff -u "$api_snapshot" "$work/public-api.txt" >"$work/api.diff"; then
    cat "$work/api.diff"
    echo "sframe-core's public API differs from $api_snapshot (diff above: - snapshot, + now)."
    echo "If the change is intended: bash scripts/stages/85-release.sh update-api, review"
    echo "git diff $api_snapshot, and note the change in CHANGELOG.md (a removal or a changed"
    echo "signature is a breaking change)."
    return 1
  fi
  echo "  $(wc -l <"$api_snapshot") public items, as in $api_snapshot"
}
step "sframe-core public API equals $api_snapshot (cargo-public-api $CPA_VERSION)" api_ok

# --- 5. C library: versioned install, SONAME, LD_LIBRARY_PATH ---
bash sframe-ffi/install.sh --prefix "$work/prefix" >/dev/null
lib=$work/prefix/lib
soversion=$(sed -n 's/^const SOVERSION: &str = "\([0-9]*\)";$/\1/p' sframe-ffi/build.rs)
layout_ok() {
  ls -l "$lib" | sed 's/^/  /'
  [ -f "$lib/libsframe.so.$version" ] && [ ! -L "$lib/libsframe.so.$version" ] &&
    [ "$(readlink "$lib/libsframe.so.$soversion")" = "libsframe.so.$version" ] &&
    [ "$(readlink "$lib/libsframe.so")" = "libsframe.so.$soversion" ] &&
    [ -f "$lib/libsframe.a" ]
}
step "install: libsframe.so.$version, libsframe.so.$soversion -> it, libsframe.so -> libsframe.so.$soversion" layout_ok
soname_line=$(readelf -d "$lib/libsframe.so.$version" | grep SONAME || true)
echo "  readelf -d libsframe.so.$version:$soname_line"
step "SONAME is libsframe.so.$soversion" grep -q "Library soname: \[libsframe.so.$soversion\]" <<<"$soname_line"

export PKG_CONFIG_PATH="$lib/pkgconfig"
step "pkg-config: sframe and sframe-static are version $version" bash -c \
  "test \"\$(pkg-config --modversion sframe)\" = $version && test \"\$(pkg-config --modversion sframe-static)\" = $version"
ldpath_ok() {
  # No rpath: the program finds the library only through LD_LIBRARY_PATH, by its SONAME.
  cc -std=c99 -pedantic -Wall -Wextra -Werror $(pkg-config --cflags sframe) \
    sframe-ffi/tests/c/header_only.c $(pkg-config --libs sframe) -o "$work/app" || return 1
  local needed
  needed=$(readelf -d "$work/app" | grep NEEDED | grep sframe || true)
  echo "  app:$needed"
  grep -q "Shared library: \[libsframe.so.$soversion\]" <<<"$needed" || return 1
  if "$work/app" >/dev/null 2>&1; then echo "  app ran without LD_LIBRARY_PATH?"; return 1; fi
  LD_LIBRARY_PATH="$lib" ldd "$work/app" | grep "libsframe.so.$soversion => $lib/" | sed 's/^\s*/  /' &&
    LD_LIBRARY_PATH="$lib" "$work/app"
}
step "a C program linked via pkg-config needs libsframe.so.$soversion and runs with LD_LIBRARY_PATH" ldpath_ok
destdir_ok() {
  # Packaging: DESTDIR staging with the final prefix in the .pc files; installing twice works.
  bash sframe-ffi/install.sh --no-build --prefix /usr --destdir "$work/stage" >/dev/null &&
    bash sframe-ffi/install.sh --no-build --prefix /usr --destdir "$work/stage" >/dev/null &&
    [ "$(readlink "$work/stage/usr/lib/libsframe.so.$soversion")" = "libsframe.so.$version" ] &&
    grep -qx 'prefix=/usr' "$work/stage/usr/lib/pkgconfig/sframe.pc" &&
    grep -qx "Version: $version" "$work/stage/usr/lib/pkgconfig/sframe-static.pc"
}
step "install.sh --destdir (twice): staged layout, .pc files name the final prefix" destdir_ok

# --- 6. npm package ---
[ -f sframe-wasm/pkg/sframe_wasm_bg.wasm ] || bash sframe-wasm/scripts/build.sh
(cd sframe-wasm && npm pack --dry-run --json 2>/dev/null) >"$work/pack.json"
npm_files_ok() {
  # Exactly: package.json, README, licenses, types, the wasm-bindgen glue and module, and the
  # tracked js/*.js; and every relative import / new URL('./x.js', import.meta.url) of a
  # packed module resolves to a packed file.
  local expected
  expected=$( (printf '%s\n' package.json README.md LICENSE-MIT LICENSE-APACHE index.d.ts \
    pkg/sframe_wasm.js pkg/sframe_wasm_bg.wasm; git ls-files 'sframe-wasm/js/*.js' | sed 's|^sframe-wasm/||') | sort)
  node - "$work/pack.json" "$expected" <<'EOF'
const fs = require('fs');
const path = require('path');
const [pack] = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const files = pack.files.map((f) => f.path).sort();
const expected = process.argv[3].split('\n').sort();
console.log(`  ${pack.filename}: ${files.length} files, ${pack.size} bytes packed: ${files.join(' ')}`);
const missing = expected.filter((f) => !files.includes(f));
const extra = files.filter((f) => !expected.includes(f));
let bad = [...missing.map((f) => `missing ${f}`), ...extra.map((f) => `unexpected ${f}`)];
for (const f of files.filter((f) => f.endsWith('.js'))) {
  const src = fs.readFileSync(path.join('sframe-wasm', f), 'utf8');
  const specs = [
    ...src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]/g),
    ...src.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g),
    ...src.matchAll(/new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g),
  ].map((m) => m[1]);
  for (const s of specs) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), s));
    // JSDoc type imports (import('../index.js').T) resolve to the .d.ts beside the name.
    const types = target.replace(/\.js$/, '.d.ts');
    if (!files.includes(target) && !files.includes(types)) {
      bad.push(`${f} imports ${s} (${target}), which is not packed`);
    }
  }
}
bad = [...new Set(bad)];
if (bad.length) { console.log('  ' + bad.join('\n  ')); process.exit(1); }
EOF
}
step "npm pack: exactly the package's files, every import resolves inside the package" npm_files_ok

tarball_ok() ( # a subshell: it changes directory
  (cd sframe-wasm && npm pack --pack-destination "$work" >/dev/null 2>&1) || return 1
  local tgz=$work/sframe-wasm-$version.tgz
  mkdir "$work/consumer"
  cd "$work/consumer"
  printf '{ "name": "consumer", "version": "1.0.0", "private": true, "type": "module" }\n' >package.json
  # The package has no dependencies: nothing is fetched.
  npm install --offline --no-audit --no-fund --ignore-scripts "$tgz" >/dev/null || return 1
  cat >smoke.mjs <<'EOF'
// Uses the installed tarball as an application would: by package name.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as sframe from 'sframe-wasm';
const { Sender, Receiver, parseHeader, CIPHER_SUITES, installPolyfill } = sframe;

let checks = 0;
const entry = new URL(import.meta.resolve('sframe-wasm'));
assert.match(entry.pathname, /\/node_modules\/sframe-wasm\/js\/index\.js$/);
for (const f of ['sframe-worker.js', 'worker-host.js', 'w3c.js', 'spec.js', 'polyfill.js',
                 '../pkg/sframe_wasm_bg.wasm', '../index.d.ts']) {
  assert.ok(existsSync(new URL(f, entry)), `installed package lacks ${f}`);
}
checks++;

assert.equal(CIPHER_SUITES.length, 8);
const frame = new TextEncoder().encode('an encoded video frame from the packed tarball');
const meta = new Uint8Array([0x90, 0x80]);
for (const suite of [1, 4, 6]) {
  const name = CIPHER_SUITES[suite - 1];
  const key = new Uint8Array(32).fill(suite);
  const tx = new Sender(name);
  const rx = new Receiver(suite);
  tx.setKey(7, key);
  rx.addKey(7, key);
  const protectedFrames = [0, 1, 2].map(() => tx.protect(frame, meta));
  for (const [ctr, p] of protectedFrames.entries()) {
    const h = parseHeader(p);
    assert.equal(BigInt(h.keyId), 7n, name);
    assert.equal(BigInt(h.counter), BigInt(ctr), name);
    assert.deepEqual(rx.unprotect(p, meta), frame, `${name} round trip`);
  }
  const bad = tx.protect(frame, meta);
  bad[bad.length - 1] ^= 1;
  assert.throws(() => rx.unprotect(bad, meta), { code: 'authentication_failed' }, name);
  assert.throws(() => rx.unprotect(protectedFrames[0], meta), { code: 'replay' }, name);
  tx.free();
  rx.free();
  console.log(`  ${name}: 3 frames round-trip, tampered and replayed frames refused`);
  checks++;
}

// installPolyfill: defines the W3C interfaces on a target lacking them (main-thread ones only
// where RTCRtpScriptTransform and Worker exist), the package's own classes.
assert.equal(typeof installPolyfill, 'function');
const win = { RTCRtpScriptTransform: function () {}, Worker: function () {} };
const installed = installPolyfill(win);
// W3C PR #312's names and #308's (the same classes, as aliases).
assert.deepEqual(Object.keys(installed).sort(), [
  'RTCRtpSFrameDecrypter', 'RTCRtpSFrameDecryptor', 'RTCRtpSFrameEncrypter',
  'RTCRtpSFrameEncryptor', 'SFrameDecrypterStream', 'SFrameDecryptorStream',
  'SFrameEncrypterStream', 'SFrameEncryptorStream', 'SFrameTransform', 'SFrameTransformErrorEvent',
]);
assert.equal(installed.RTCRtpSFrameEncrypter, installed.RTCRtpSFrameEncryptor);
for (const [n, cls] of Object.entries(installed)) assert.equal(win[n], sframe[n], n);
assert.deepEqual(Object.keys(installPolyfill(win)), []); // already there: left alone
assert.deepEqual(Object.keys(installPolyfill({})).sort(), [
  'SFrameDecrypterStream', 'SFrameDecryptorStream', 'SFrameEncrypterStream',
  'SFrameEncryptorStream', 'SFrameTransform', 'SFrameTransformErrorEvent',
]);
console.log('  installPolyfill: 10 interfaces on a window-like target, 6 in a worker-like one');
checks++;
console.log(`smoke: ${checks} passed, 0 failed`);
EOF
  node smoke.mjs || return 1
  # The types resolve by package name (package.json "types"/"exports"), with the pinned tsc.
  cat >consumer.ts <<'EOF'
import { Sender, Receiver, installPolyfill, type InstalledInterfaces } from 'sframe-wasm';
const tx: Sender = new Sender('AES_128_GCM_SHA256_128');
tx.setKey(1, new Uint8Array(16));
const out: Uint8Array = tx.protect(new Uint8Array(4));
const rx = new Receiver(4);
const installed: InstalledInterfaces = installPolyfill({});
export { out, rx, installed };
EOF
  printf '{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022", "lib": ["es2022", "dom"], "strict": true, "noEmit": true, "types": [] }, "files": ["consumer.ts"] }\n' >tsconfig.json
  node "$root/sframe-wasm/node_modules/typescript/bin/tsc" -p . && echo "  tsc: consumer.ts type-checks against the installed package"
)
want_ts=$(node -p "require('./sframe-wasm/package.json').devDependencies.typescript")
have_ts=$(node -p "try { require('./sframe-wasm/node_modules/typescript/package.json').version } catch { '' }")
[ "$have_ts" = "$want_ts" ] || (cd sframe-wasm && npm ci --no-audit --no-fund)
step "npm tarball installed into an empty project: import by name, 3 suites, installPolyfill, types" \
  tarball_ok

echo "85-release: $passed passed, $failed failed"
test "$failed" = 0
