#!/usr/bin/env node
// Assembles the WebAssembly SIMD kernels listed in scripts/wasm-modules.mjs (their text from
// scripts/wasm-gen.mjs and the like) with wabt and writes them, base64 encoded, to
// src/backends/wasm/module.generated.ts: each module in a variant importing a shared memory
// (worker threads) and one importing a plain memory (single thread, e.g. browsers without
// cross-origin isolation). Fails when a module is larger than MAX_MODULE_BYTES (Chromium refuses to
// compile larger modules synchronously on a page's main thread) or when two modules export the
// same name. Run by `pnpm build`; `--check` exits 1 when the committed file is out of date.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';
import { GEMM, moduleWat } from './wasm-gen.mjs';
import { WASM_MODULES } from './wasm-modules.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', 'src', 'backends', 'wasm', 'module.generated.ts');

/** The largest module Chromium compiles synchronously on a page's main thread. */
export const MAX_MODULE_BYTES = 4096;

/** V8's flags for wabt's feature names. */
const V8_FLAGS = { relaxed_simd: '--experimental-wasm-relaxed-simd' };

/** Compiles `bytes` in a child Node with the V8 flags of `features`; throws V8's error. */
function validateWithFlags(name, bytes, features) {
  const flags = Object.keys(features)
    .filter((f) => features[f])
    .map((f) => {
      if (!V8_FLAGS[f]) throw new Error(`wasm module '${name}': no V8 flag known for the feature '${f}'`);
      return V8_FLAGS[f];
    });
  const r = spawnSync(
    process.execPath,
    [...flags, '-e', "new WebAssembly.Module(Buffer.from(require('fs').readFileSync(0, 'utf8'), 'base64'))"],
    { input: Buffer.from(bytes).toString('base64'), encoding: 'utf8' },
  );
  if (r.status !== 0)
    throw new Error(`wasm module '${name}' does not validate with ${flags.join(' ')}:\n${r.stderr}`);
}

/** The names a module's text exports. */
const exportsOf = (wat) => [...wat.matchAll(/\(export "([^"]+)"\)/g)].map((m) => m[1]);

/** Assembles every module of scripts/wasm-modules.mjs: [{ name, variantOf, features, exports, shared, plain }]. */
export async function assembleModules(modules = WASM_MODULES) {
  const wabt = await wabtInit();
  const assemble = (entry, shared) => {
    const features = entry.features ?? {};
    const mod = wabt.parseWat(
      `gradkit-${entry.name}${shared ? '-shared' : ''}.wat`,
      moduleWat(entry.wat(), { shared }),
      {
        simd: true,
        threads: true,
        ...features,
      },
    );
    try {
      const bytes = mod.toBinary({}).buffer;
      if (bytes.length > MAX_MODULE_BYTES)
        throw new Error(
          `wasm module '${entry.name}' is ${bytes.length} bytes, more than ${MAX_MODULE_BYTES} ` +
            '(browsers refuse to compile it synchronously): split it, add a module in scripts/wasm-modules.mjs',
        );
      try {
        new WebAssembly.Module(bytes); // validates (wabt's own validator ignores the threads feature)
      } catch (e) {
        // A module using a feature this Node lacks (relaxed SIMD on Node 20 without the flag):
        // V8 validates it in a child process with the feature's flag.
        if (Object.keys(features).length === 0) throw e;
        validateWithFlags(entry.name, bytes, features);
      }
      return { bytes: bytes.length, base64: Buffer.from(bytes).toString('base64') };
    } finally {
      mod.destroy();
    }
  };
  const out = [];
  const owner = new Map();
  for (const entry of modules) {
    if (out.some((m) => m.name === entry.name)) throw new Error(`wasm module '${entry.name}' listed twice`);
    const exports = exportsOf(entry.wat());
    if (entry.variantOf) {
      const base = out.find((m) => m.name === entry.variantOf);
      if (!base)
        throw new Error(
          `wasm module '${entry.name}': variantOf '${entry.variantOf}' is not listed before it`,
        );
      if ([...exports].sort().join() !== [...base.exports].sort().join())
        throw new Error(
          `wasm module '${entry.name}' must export what '${base.name}' exports (${base.exports.join(', ')})`,
        );
    } else {
      for (const name of exports) {
        if (owner.has(name))
          throw new Error(`wasm modules '${owner.get(name)}' and '${entry.name}' both export '${name}'`);
        owner.set(name, entry.name);
      }
    }
    const shared = assemble(entry, true);
    const plain = assemble(entry, false);
    out.push({
      name: entry.name,
      variantOf: entry.variantOf ?? null,
      features: Object.keys(entry.features ?? {}).filter((f) => entry.features[f]),
      exports,
      shared,
      plain,
    });
  }
  return out;
}

export async function generatedSource() {
  const modules = await assembleModules();
  const list = (xs) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
  const entries = modules
    .map(
      (m) => `  {
    name: '${m.name}',
    variantOf: ${m.variantOf === null ? 'null' : `'${m.variantOf}'`},
    features: ${list(m.features)},
    exports: ${list(m.exports)},
    sharedBytes: ${m.shared.bytes},
    plainBytes: ${m.plain.bytes},
    shared: '${m.shared.base64}',
    plain: '${m.plain.base64}',
  },`,
    )
    .join('\n');
  return `// Generated by scripts/build-wasm.mjs from scripts/wasm-modules.mjs: do not edit.
/** GEMM blocking the module was built with (register block MR x NR, cache blocks KC, MC). */
export const GEMM_BLOCKING = { MR: ${GEMM.MR}, NR: ${GEMM.NR}, KC: ${GEMM.KC}, MC: ${GEMM.MC} } as const;
/** The largest module the build accepts (Chromium's limit for synchronous compilation on a page's main thread). */
export const MAX_MODULE_BYTES = ${MAX_MODULE_BYTES};

/** One module of the wasm backend, in both memory variants. */
export interface WasmModuleSource {
  /** Its name in scripts/wasm-modules.mjs. */
  readonly name: string;
  /** The module it replaces where the engine validates it, or null for an ordinary module. */
  readonly variantOf: string | null;
  /** WebAssembly features beyond SIMD128 (and threads) it needs, e.g. 'relaxed_simd'. */
  readonly features: readonly string[];
  /** The functions it exports. */
  readonly exports: readonly string[];
  /** Size of the shared-memory variant in bytes. */
  readonly sharedBytes: number;
  /** Size of the plain-memory variant in bytes. */
  readonly plainBytes: number;
  /** The variant importing a shared memory (base64). */
  readonly shared: string;
  /** The variant importing an unshared memory (base64). */
  readonly plain: string;
}

/** Every module, in instantiation order. */
export const WASM_MODULES: readonly WasmModuleSource[] = [
${entries}
];
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const src = await generatedSource();
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  if (process.argv.includes('--check')) {
    if (current !== src) {
      console.error(`${target} is out of date: run 'node scripts/build-wasm.mjs' in packages/kernels`);
      process.exit(1);
    }
  } else if (current !== src) {
    writeFileSync(target, src);
    console.log(`wrote ${target} (${src.length} bytes)`);
  }
}
