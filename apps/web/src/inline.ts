// What runs on the page's own thread, loaded on demand (with gpu.js) when the page needs the GPU
// backend: automatic selection (which probes gl, then wasm, then cpu) and training on gl. The gl
// backend of @gradkit/kernels starts only where a DOM `document` exists, not in a Web Worker.
import '@gradkit/kernels/gl';
import { type BackendInfo, createDevice } from '@gradkit/tensor';
import { Session } from './session.js';

/** Automatic selection's answer, and a session when it chose gl (a page-thread session then). */
export async function selectAuto(base: string): Promise<{ auto: BackendInfo; session: Session | null }> {
  const device = createDevice(); // backend 'auto': what backendInfo() reports for a default device
  const auto = device.info();
  if (auto.name !== 'gl') {
    device.destroy(); // the training worker opens its own device on the chosen backend
    return { auto, session: null };
  }
  return { auto, session: await Session.create(device, base, 'page') };
}

/** A page-thread session on gl. */
export function openGl(base: string): Promise<Session> {
  return Session.create('gl', base, 'page');
}
