// vitest setup file (vitest.shared.ts): registers the gl backend in every test process, as an
// application does with `import '@gradkit/kernels/gl'`, so backend matrices include gl where a GL
// context can start (under Xvfb in CI) and report why not elsewhere.
import '@gradkit/kernels/gl';
