#!/usr/bin/env bash
# Idempotent set-up: pnpm (through npm), the workspace's dependencies, and a build.
# Used by `npm start` and `npm test`; quick when everything is already in place.
# GPU support in Node needs headless-gl's build libraries and an X server with GLX; see README.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 10.34.9 with npm" >&2
  npm install -g pnpm@10.34.9 >/dev/null
fi

stamp=node_modules/.gradkit-install-stamp
if [ ! -f "$stamp" ] || [ pnpm-lock.yaml -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: pnpm install" >&2
  pnpm install --frozen-lockfile >&2
  touch "$stamp"
fi

echo "setup: build" >&2
pnpm -s turbo run build --output-logs=errors-only >&2
