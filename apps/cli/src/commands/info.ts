import { availableBackends, getDevice } from '@gradkit/kernels';
import { summaryTable } from '../report.js';

/** `gradkit info`: the backends this machine can start, the one `auto` picks and why, versions. */
export function infoCommand(): void {
  const rows: [string, string][] = [];
  for (const b of availableBackends()) {
    rows.push([`backend ${b.name}`, b.available ? `available (${b.gpuMode})` : `unavailable: ${b.reason}`]);
  }
  const d = getDevice();
  const info = d.info();
  rows.push(['chosen', `${info.name}: ${info.reason}`]);
  rows.push(['renderer', info.renderer]);
  rows.push(['precision', info.precision]);
  rows.push(['max texture size', info.maxTextureSize === null ? 'n/a' : String(info.maxTextureSize)]);
  rows.push(['max elements per array', String(info.maxElements)]);
  if (info.maxKernelElements !== undefined)
    rows.push(['max elements per kernel', `${info.maxKernelElements} (larger arrays in tiles)`]);
  rows.push(['node', process.version]);
  rows.push(['GRADKIT_BACKEND', process.env.GRADKIT_BACKEND ?? '(unset)']);
  process.stdout.write(`${summaryTable(rows)}\n`);
}
