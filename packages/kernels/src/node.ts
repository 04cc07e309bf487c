// `@gradkit/kernels` in Node (the exports map's "node" condition): everything ./index.ts exports,
// plus finding the GPU backend by itself. When gpu.js is installed where @gradkit/kernels can
// resolve it, the first automatic selection (or a request for `gl`) loads `@gradkit/kernels/gl`
// (../gl/node.ts), which registers `gl`; otherwise nothing is loaded. Browsers and bundlers get
// ./index.ts, which never looks for gpu.js: there `import '@gradkit/kernels/gl'` is the one line.
import { createRequire } from 'node:module';
import { setGlDiscovery } from './select.js';

export * from './index.js';

setGlDiscovery(() => {
  const here = import.meta.url;
  const req = createRequire(here);
  try {
    req.resolve('gpu.js');
  } catch {
    return null; // gpu.js is not installed: nothing to find
  }
  // The gl entry of the same build: gl-node.js (ESM, loaded by require(esm), sharing this
  // module graph) or gl-node.cjs (CJS). From the sources (tests), there is no such file: skip.
  const entry = here.endsWith('.cjs') ? './gl-node.cjs' : here.endsWith('.js') ? './gl-node.js' : null;
  if (entry === null) return null;
  try {
    req(entry);
    return null;
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return `gpu.js is installed, but '@gradkit/kernels/gl' did not load by itself (${message}); import '@gradkit/kernels/gl' to register gl`;
  }
});
