// The browser page of profile-gl.mjs --browser: fetches the MNIST rows the runner serves, profiles
// the MLP step on gl (WebGL2/WebGL) and publishes the result on window.__result.
import { createDevice, setDevice } from '@gradkit/kernels';
import '@gradkit/kernels/gl';
import { formatProfile, profileMlp } from './profile-gl-core.mjs';

const q = new URLSearchParams(location.search);
const num = (k, def) => Number(q.get(k) ?? def);
try {
  const [fx, lb] = await Promise.all([fetch('features.bin'), fetch('labels.bin')]);
  const features = new Float32Array(await fx.arrayBuffer());
  const labels = new Int32Array(await lb.arrayBuffer());
  const device = createDevice({ backend: 'gl' });
  setDevice(device);
  const res = profileMlp({
    device,
    features,
    labels,
    steps: num('steps', 20),
    warmup: num('warmup', 3),
    rounds: num('rounds', 2),
    sync: q.get('sync') ?? 'read',
  });
  window.__result = { ok: true, res, text: formatProfile(res), userAgent: navigator.userAgent };
} catch (e) {
  window.__result = { ok: false, error: String(e?.stack ?? e) };
}
