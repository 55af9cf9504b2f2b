#!/usr/bin/env bash
# Dependency audit with cargo-deny and deny.toml: licences (permissive only), bans
# (no wildcard versions; duplicates reported), sources (crates.io only). These need no network.
# `advisories` needs the RustSec database from GitHub, which these machines cannot reach: it
# runs only when the database is reachable, and the stage says so either way.
# Budget: under 3 minutes cold (most of it is installing cargo-deny).
set -euo pipefail
cd "$(dirname "$0")/../.."

CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
  # binary-scanning (the default feature) is not used here; leaving it out saves build time.
  cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION" --no-default-features
fi

# Three lock files: the main workspace, interop/ and fuzz/ (own workspaces). `--offline`
# below needs every crate of each lock file (all platforms) in the local cache.
manifests=(Cargo.toml interop/Cargo.toml fuzz/Cargo.toml)
for m in "${manifests[@]}"; do cargo fetch --locked --manifest-path "$m"; done
checks=(bans licenses sources)
online=()
if timeout 15 git ls-remote https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
  checks+=(advisories)
else
  echo "15-audit: RustSec advisory database unreachable (GitHub): checking ${checks[*]} only"
  online=(--offline)
fi
log=$(mktemp)
for m in "${manifests[@]}"; do
  echo "--- cargo deny ($m): ${checks[*]}"
  if cargo deny "${online[@]}" --manifest-path "$m" --config deny.toml check "${checks[@]}" \
      >"$log" 2>&1; then
    tail -n 1 "$log"
  else
    cat "$log"
    exit 1
  fi
done
