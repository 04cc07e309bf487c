#!/usr/bin/env bash
# Packed-tarball consumer test (`pnpm test:consumer`): what a user gets from
# `npm install @gradkit/optimizers`, checked before anything is published.
#
#  1. `pnpm pack` every package under packages/ into a temporary folder (workspace:^ becomes a
#     real version, as on publish) and print each tarball's size.
#  2. Create a project OUTSIDE the workspace (mktemp -d) and `npm install` only the
#     @gradkit/optimizers tarball plus the tarballs of the @gradkit packages it depends on (read
#     from the packed package.json files), and typescript 5.9. A project .npmrc points the
#     @gradkit scope at a dead address, so no @gradkit package can come from a registry.
#     Then run scripts/consumer/train.mjs (import) and train.cjs (require), which train a tiny
#     model with Adam and check that the loss falls, and `tsc --noEmit` on check.mts/check.cts
#     against the published .d.ts files. (gl's native build is made to fail fast here, as on a
#     machine without build tools; CONSUMER_BUILD_GL=1 compiles it, which takes minutes.)
#  3. The same install with `npm install --ignore-scripts` (the optional native `gl` of gpu.js is
#     not built): with GRADKIT_BACKEND unset the runs must fall back to wasm or cpu, and
#     GRADKIT_BACKEND=cpu must run.
#  4. README examples (scripts/consumer/readme-examples.mjs): the README.md packed into every
#     tarball must start with its install line (a ```sh block right after the `# @gradkit/<name>`
#     title, first line `npm install @gradkit/<name> ...`), and its first ```ts block after that
#     is its example: everything it imports must be on the install line. These checks run right
#     after packing. Then a third project gets every tarball (plus typescript and @types/node),
#     each example is written there verbatim as <name>.mts, type-checked with tsc (strict,
#     nodenext, skipLibCheck off) and run with node; it must exit 0 and print something. A
#     failure names the package and the README line (compile error or innermost stack frame).
# It builds nothing: run `pnpm build` first. Needs the npm registry for gpu.js, typescript and
# @types/node only.
# Temporary folders are removed on exit. Set KEEP_CONSUMER_DIR=1 to keep them for debugging.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/scripts/consumer"
started=$SECONDS

work="$(mktemp -d "${TMPDIR:-/tmp}/gradkit-consumer.XXXXXX")"
cleanup() {
  if [ "${KEEP_CONSUMER_DIR:-}" = 1 ]; then echo "consumer: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '\n[consumer %3ds] %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  echo "consumer test FAILED: $*" >&2
  exit 1
}

case "$work" in "$root"/*) fail "the temporary folder $work is inside the workspace" ;; esac

# 1. Pack.
for dir in "$root"/packages/*/; do
  [ -f "$dir/package.json" ] || continue
  [ -f "$dir/dist/index.js" ] && [ -f "$dir/dist/index.cjs" ] || fail "$dir has no build: run \`pnpm build\` first"
done
log "pnpm pack packages/*"
mkdir "$work/tarballs"
for dir in "$root"/packages/*/; do
  (cd "$dir" && pnpm pack --pack-destination "$work/tarballs" >/dev/null) || fail "pnpm pack failed in $dir"
done

# Sizes, and the @gradkit packages @gradkit/optimizers needs (from the packed package.json files).
node - "$work/tarballs" '@gradkit/optimizers' >"$work/closure.tsv" <<'EOF' || fail "could not read the packed tarballs"
const { execFileSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const [dir, want] = process.argv.slice(2);
const byName = new Map();
const rows = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.tgz')).sort()) {
  const file = join(dir, f);
  const pkg = JSON.parse(execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' }));
  const unpacked = execFileSync('tar', ['-tzvf', file], { encoding: 'utf8' })
    .split('\n')
    .reduce((sum, line) => sum + (Number(line.trim().split(/\s+/)[2]) || 0), 0);
  byName.set(pkg.name, { file, pkg });
  rows.push([pkg.name, pkg.version, statSync(file).size, unpacked]);
}
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
process.stderr.write('\npackage                  version  tarball     unpacked\n');
for (const [name, version, size, unpacked] of rows) {
  process.stderr.write(`${name.padEnd(24)} ${version.padEnd(8)} ${kb(size).padStart(9)}  ${kb(unpacked).padStart(9)}\n`);
}
const total = rows.reduce((s, r) => s + r[2], 0);
process.stderr.write(`${'total'.padEnd(33)} ${kb(total).padStart(9)}\n`);
const seen = new Set();
const visit = (name) => {
  if (seen.has(name)) return;
  const entry = byName.get(name);
  if (!entry) throw new Error(`no tarball for ${name}`);
  seen.add(name);
  for (const [dep, spec] of Object.entries(entry.pkg.dependencies ?? {})) {
    if (String(spec).startsWith('workspace:')) throw new Error(`${name} was packed with ${dep}@${spec}`);
    if (dep.startsWith('@gradkit/')) visit(dep);
  }
};
visit(want);
for (const name of seen) console.log(`${name}\t${byName.get(name).file}`);
EOF
# The READMEs inside the tarballs: install line first, then an example (written out for step 4).
log "README install lines and examples (packed README.md files)"
node "$src/readme-examples.mjs" extract "$work/tarballs" "$root" "$work/readme/examples" ||
  fail "a README does not start with its install line or has no usable example (see above)"

mapfile -t closure <"$work/closure.tsv"
[ ${#closure[@]} -gt 0 ] || fail "found no tarballs to install"
names=()
tarballs=()
for line in "${closure[@]}"; do
  names+=("${line%%$'\t'*}")
  tarballs+=("${line#*$'\t'}")
done

# A project outside the workspace that may take @gradkit packages from the tarballs only.
new_project() {
  local dir="$1"
  mkdir -p "$dir"
  cp "$src/train.mjs" "$src/train.cjs" "$src/check.mts" "$src/check.cts" "$src/tsconfig.json" "$dir/"
  printf '{ "name": "gradkit-consumer", "version": "0.0.0", "private": true }\n' >"$dir/package.json"
  # Any attempt to fetch an @gradkit package from a registry fails at once.
  printf '@gradkit:registry=http://127.0.0.1:9/\n' >"$dir/.npmrc"
}

# Checks that node_modules/@gradkit holds exactly the expected packages.
check_installed() {
  local dir="$1" got want
  got="$(cd "$dir/node_modules/@gradkit" && ls | sort | tr '\n' ' ')"
  want="$(printf '%s\n' "${names[@]}" | sed 's|^@gradkit/||' | sort | tr '\n' ' ')"
  [ "$got" = "$want" ] || fail "node_modules/@gradkit holds [$got], expected [$want]"
}

# npm looks an @gradkit dependency up in the (dead) scope registry before it settles on the
# tarball given on the command line; short retry timeouts keep that from costing a minute.
npm_flags=(--no-audit --no-fund --no-update-notifier --prefer-offline --loglevel=error
  --fetch-retry-mintimeout=200 --fetch-retry-maxtimeout=1000)

# Runs node with a clean gradkit environment (no backend forced unless asked).
run_node() {
  env -u GRADKIT_BACKEND -u GRADKIT_REQUIRE_BACKENDS -u NODE_PATH "$@"
}

# 2. Plain npm install: install scripts run, as for any user. Compiling headless-gl from source
#    takes minutes, so by default node-gyp is pointed at a missing Node header folder and gl's
#    build fails at once, as on a machine without build tools (npm then drops the optional gl;
#    a prebuilt gl binary, where prebuild-install can download one, is still used).
#    CONSUMER_BUILD_GL=1 lets gl compile for real.
app="$work/app"
new_project "$app"
gl_env=()
[ "${CONSUMER_BUILD_GL:-}" = 1 ] || gl_env=("npm_config_nodedir=$work/no-node-headers")
log "npm install ${names[*]} (tarballs) typescript@5.9.3"
(cd "$app" && env "${gl_env[@]}" npm install "${npm_flags[@]}" "${tarballs[@]}" typescript@5.9.3 >/dev/null) ||
  fail "npm install failed"
check_installed "$app"
if (cd "$app" && node -e "require(require.resolve('gl', { paths: [require.resolve('gpu.js')] }))" 2>/dev/null); then
  echo "headless-gl: built and loads (the runs still need an X display to use it)"
elif [ "${CONSUMER_BUILD_GL:-}" = 1 ]; then
  echo "headless-gl: did not build here (CONSUMER_BUILD_GL=1); the runs use wasm or cpu"
else
  echo "headless-gl: native build skipped (CONSUMER_BUILD_GL=1 builds it); the runs use wasm or cpu"
fi

log "ESM (import), CJS (require) and TypeScript (tsc --noEmit, nodenext, skipLibCheck off)"
(cd "$app" && run_node node train.mjs) || fail "the ESM program failed"
(cd "$app" && run_node node train.cjs) || fail "the CJS program failed"
(cd "$app" && ./node_modules/.bin/tsc -p tsconfig.json) || fail "tsc --noEmit failed against the published .d.ts"
echo "tsc: check.mts (import types) and check.cts (require types) type-check"

# 3. npm install --ignore-scripts: gl is present but not built; the CPU path must still run.
bare="$work/app-ignore-scripts"
new_project "$bare"
log "npm install --ignore-scripts ${names[*]} (tarballs)"
(cd "$bare" && npm install "${npm_flags[@]}" --ignore-scripts "${tarballs[@]}" >/dev/null) ||
  fail "npm install --ignore-scripts failed"
check_installed "$bare"
if (cd "$bare" && node -e "require(require.resolve('gl', { paths: [require.resolve('gpu.js')] }))" 2>/dev/null); then
  fail "gl loads after --ignore-scripts: this run would not test the fallback"
fi
log "GRADKIT_BACKEND unset (must fall back to wasm or cpu), then GRADKIT_BACKEND=cpu"
(cd "$bare" && run_node node train.mjs wasm,cpu) || fail "ESM without gl failed"
(cd "$bare" && run_node node train.cjs wasm,cpu) || fail "CJS without gl failed"
(cd "$bare" && run_node GRADKIT_BACKEND=cpu node train.mjs cpu) || fail "ESM with GRADKIT_BACKEND=cpu failed"

# 4. Every package's README example, from a project that installed all the tarballs.
readme="$work/readme"
printf '{ "name": "gradkit-readme-examples", "version": "0.0.0", "private": true }\n' >"$readme/package.json"
printf '@gradkit:registry=http://127.0.0.1:9/\n' >"$readme/.npmrc"
all_tarballs=("$work"/tarballs/*.tgz)
log "npm install every tarball (${#all_tarballs[@]}) typescript@5.9.3 @types/node@20, then the README examples"
(cd "$readme" && env "${gl_env[@]}" npm install "${npm_flags[@]}" "${all_tarballs[@]}" typescript@5.9.3 @types/node@20 >/dev/null) ||
  fail "npm install of every tarball failed"
(cd "$readme" && run_node node "$src/readme-examples.mjs" run examples) || fail "a README example failed (see above)"

log "consumer test passed"
