// `pnpm check:changesets`: the release checks CI runs (see CONTRIBUTING.md, "Releasing").
//
// 1. Against a base: every published package changed since the base must be released by a pending
//    changeset (a changeset of its own, or a dependency bump). Files that never reach the tarball
//    are left out by `changedFilePatterns` in .changeset/config.json (tests, src/testing/,
//    fixtures/, vitest.config.ts). The base is, in this order:
//      - CHANGESET_BASE (any git ref; CI sets it for a pull request, e.g. origin/main),
//      - origin/$GITHUB_BASE_REF (a GitHub Actions pull request),
//      - origin/main (or main) when HEAD is on another branch: the merge base with it;
//      - on main itself (a fresh clone that only has main): each package's last release tag
//        (`@gradkit/<name>@<version>`, created by `changeset publish`) when its current version
//        has one, i.e. "what changed since the published version must be in the next release".
//        A package whose current version has no tag is not released yet: it must be in the plan
//        if it is still at 0.0.0 (a first release), and is otherwise waiting for `changeset
//        publish`. Before the first release no tag exists, so on main this validates the pending
//        changesets (below) and says so; it cannot tell which commits lack a changeset.
//    With CHANGESET_BASE or a branch base, `changeset status --since=<base>` runs as well.
//    Needs history: in a shallow clone (fetch-depth 1) the merge base and tags are missing.
// 2. Always: the pending changesets parse and name only published packages (`changeset status`),
//    and a dry `changeset version` in a throwaway copy of the working tree (its own git repo under
//    the temp dir; this repository is not touched) bumps exactly the planned versions, writes the
//    CHANGELOGs, consumes the changesets, leaves private packages alone and keeps `workspace:^`.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const changesetBin = join(dirname(require.resolve('@changesets/cli/package.json')), 'bin.js');
// The glob matcher changesets itself applies to changedFilePatterns (a dependency of @changesets/git).
const fromCli = createRequire(require.resolve('@changesets/cli/package.json'));
const micromatch = createRequire(fromCli.resolve('@changesets/git'))('micromatch');

const problems = [];
const notes = [];
const config = JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8'));
const patterns = config.changedFilePatterns ?? ['**'];

const git = (args, cwd = root) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const gitOk = (args, cwd = root) => spawnSync('git', args, { cwd, stdio: 'ignore' }).status === 0;
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Workspace packages: { name, dir (relative), version, private, json }. */
function workspacePackages(base) {
  const out = [];
  for (const group of ['packages', 'apps', 'tools']) {
    const groupDir = join(base, group);
    if (!existsSync(groupDir)) continue;
    for (const d of readdirSync(groupDir)) {
      const file = join(groupDir, d, 'package.json');
      if (!existsSync(file)) continue;
      const json = readJson(file);
      out.push({
        name: json.name,
        dir: `${group}/${d}`,
        version: json.version,
        private: !!json.private,
        json,
      });
    }
  }
  return out;
}
const skipped = (p) => p.private || (config.ignore ?? []).includes(p.name);
const pkgs = workspacePackages(root);
const published = pkgs.filter((p) => !skipped(p));

/** Runs the changeset CLI; returns { status, out }. */
function changeset(args, cwd) {
  const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  const r = spawnSync(process.execPath, [changesetBin, ...args], { cwd, encoding: 'utf8', env });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

/** Published packages whose release-relevant files differ between `ref` and the working tree. */
function changedSince(ref, only = published) {
  const files = git(['diff', '--name-only', '--no-relative', ref]).split('\n').filter(Boolean);
  return only.filter((p) => {
    const inside = files.filter((f) => f.startsWith(`${p.dir}/`)).map((f) => f.slice(p.dir.length + 1));
    return inside.length > 0 && micromatch(inside, patterns).length > 0;
  });
}

// ---- 2 first: the release plan of the pending changesets, from a dry run in a throwaway copy.
const tmp = mkdtempSync(join(tmpdir(), 'gradkit-changesets-'));
let plan = null;
try {
  const copy = join(tmp, 'repo');
  mkdirSync(copy);
  // Every file git would see (tracked or new, not ignored): the working tree as CI has it.
  const files = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    .split('\0')
    .filter((f) => f && !f.split('/').includes('node_modules'));
  for (const f of files) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(copy, f), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir'); // the changelog module
  const id = ['-c', 'user.name=changeset-check', '-c', 'user.email=changeset-check@localhost'];
  git(['init', '-q', '-b', 'main'], copy);
  git(['add', '-A'], copy);
  git([...id, 'commit', '-q', '--no-verify', '-m', 'snapshot'], copy);

  const status = changeset(['status', '--output', 'release-plan.json'], copy);
  if (status.status !== 0) {
    problems.push(`changeset status failed on the pending changesets:\n${status.out}`);
  } else {
    plan = readJson(join(copy, 'release-plan.json'));
    const version = changeset(['version'], copy);
    if (version.status !== 0) {
      problems.push(`changeset version (dry run) failed:\n${version.out}`);
    } else {
      const after = new Map(workspacePackages(copy).map((p) => [p.name, p]));
      for (const r of plan.releases.filter((x) => x.type !== 'none')) {
        const p = after.get(r.name);
        if (p?.version !== r.newVersion)
          problems.push(`dry version: ${r.name} is ${p?.version}, planned ${r.newVersion}`);
        const log = join(copy, p.dir, 'CHANGELOG.md');
        if (!existsSync(log) || !readFileSync(log, 'utf8').includes(`## ${r.newVersion}`)) {
          problems.push(`dry version: ${p.dir}/CHANGELOG.md has no "## ${r.newVersion}" section`);
        }
      }
      for (const p of pkgs) {
        const q = after.get(p.name);
        if (skipped(p) && q.version !== p.version)
          problems.push(`dry version bumped ${p.name}, which is never released`);
        if (
          skipped(p) &&
          existsSync(join(copy, p.dir, 'CHANGELOG.md')) &&
          !existsSync(join(root, p.dir, 'CHANGELOG.md'))
        ) {
          problems.push(`dry version wrote a CHANGELOG for ${p.name}, which is never released`);
        }
        for (const [dep, spec] of Object.entries(q.json.dependencies ?? {})) {
          if (!skipped(p) && dep.startsWith('@gradkit/') && spec !== 'workspace:^') {
            problems.push(`dry version left ${p.name} -> ${dep} at "${spec}" (want "workspace:^")`);
          }
        }
      }
      const left = readdirSync(join(copy, '.changeset')).filter(
        (f) => f.endsWith('.md') && f !== 'README.md',
      );
      if (left.length) problems.push(`dry version left changesets behind: ${left.join(', ')}`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const releasing = new Set((plan?.releases ?? []).filter((r) => r.type !== 'none').map((r) => r.name));
const unreleasedFirst = published.filter((p) => p.version === '0.0.0' && !releasing.has(p.name));
for (const p of unreleasedFirst) {
  problems.push(`${p.name} is at 0.0.0 (never released) and no pending changeset releases it: add one`);
}

// ---- 1: against a base.
const isShallow = git(['rev-parse', '--is-shallow-repository']) === 'true';
const branch = gitOk(['symbolic-ref', '-q', 'HEAD'])
  ? git(['rev-parse', '--abbrev-ref', 'HEAD'])
  : '(detached)';
const { CHANGESET_BASE, GITHUB_BASE_REF } = process.env;
let base = null;
let baseWhy = '';
if (CHANGESET_BASE) {
  base = CHANGESET_BASE;
  baseWhy = 'CHANGESET_BASE';
} else if (GITHUB_BASE_REF) {
  base = `origin/${GITHUB_BASE_REF}`;
  baseWhy = 'GITHUB_BASE_REF';
} else if (branch !== 'main' && branch !== '(detached)') {
  base = ['origin/main', 'main'].find((r) => gitOk(['rev-parse', '--verify', '-q', `${r}^{commit}`])) ?? null;
  baseWhy = `branch ${branch}`;
}

let mode;
if (base) {
  const mergeBase = spawnSync('git', ['merge-base', base, 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (mergeBase.status !== 0) {
    problems.push(
      `cannot find the merge base of ${base} (${baseWhy}) and HEAD` +
        (isShallow ? ': this is a shallow clone; fetch the history (fetch-depth: 0)' : ''),
    );
    mode = `base ${base}: unusable`;
  } else {
    const mb = mergeBase.stdout.trim();
    mode = `base ${base} (${baseWhy}), merge base ${mb.slice(0, 9)}`;
    const st = changeset(['status', `--since=${base}`], root);
    if (st.status !== 0) problems.push(`changeset status --since=${base} failed:\n${st.out}`);
    for (const p of changedSince(mb)) {
      if (!releasing.has(p.name)) {
        problems.push(
          `${p.name} changed since ${base} but no pending changeset releases it: run \`pnpm changeset\``,
        );
      }
    }
  }
} else {
  const tagged = [];
  const untagged = [];
  for (const p of published) {
    const tag = `${p.name}@${p.version}`;
    if (gitOk(['rev-parse', '--verify', '-q', `refs/tags/${tag}`])) tagged.push([p, tag]);
    else untagged.push(p);
  }
  for (const [p, tag] of tagged) {
    if (changedSince(tag, [p]).length && !releasing.has(p.name)) {
      problems.push(`${p.name} changed since its release tag ${tag} but no pending changeset releases it`);
    }
  }
  if (tagged.length) {
    mode = `on ${branch}: ${tagged.length} package(s) checked against their release tags`;
  } else {
    mode =
      `on ${branch} with no base and no release tags (nothing released yet${isShallow ? ', or a shallow clone' : ''}): ` +
      'validated the pending changesets only; set CHANGESET_BASE=<ref> to check a change against its base';
  }
  const waiting = untagged.filter((p) => p.version !== '0.0.0');
  if (waiting.length)
    notes.push(
      `versioned but not tagged (waiting for changeset publish): ${waiting.map((p) => p.name).join(', ')}`,
    );
}

// ---- Report.
console.log(`changesets: ${mode}`);
if (plan) {
  const releases = plan.releases.filter((r) => r.type !== 'none');
  console.log(`pending changesets: ${plan.changesets.length}; release plan (dry changeset version):`);
  for (const r of releases)
    console.log(`  ${r.name.padEnd(24)} ${r.oldVersion} -> ${r.newVersion} (${r.type})`);
  if (!releases.length) console.log('  (nothing to release)');
}
for (const n of notes) console.log(`note: ${n}`);
for (const p of problems) console.log(`problem: ${p}`);
console.log(problems.length ? `check:changesets: ${problems.length} problem(s)` : 'check:changesets: ok');
process.exit(problems.length ? 1 : 0);
