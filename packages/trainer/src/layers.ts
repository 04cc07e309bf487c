import { AlphaDropout, Dropout, GaussianDropout } from '@gradkit/dropout';
import type { JsonValue, LayerSpec } from '@gradkit/nn';
import { registerLayer, specNumber } from '@gradkit/nn';
import { BatchNorm1d, GroupNorm, LayerNorm, RMSNorm } from '@gradkit/normalization';
import { ValueError } from '@gradkit/tensor';

let registered = false;

function optNum(spec: LayerSpec, key: string): { [k: string]: number } {
  return spec[key] === undefined ? {} : { [key]: specNumber(spec, key) };
}

function shape(spec: LayerSpec, key: string): number | number[] {
  const v: JsonValue | undefined = spec[key];
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.every((d) => typeof d === 'number')) return v as number[];
  throw new ValueError('buildModel', `layer '${spec.type}': '${key}' must be a number or a list of numbers`);
}

/**
 * Registers the layer types of `@gradkit/normalization` and `@gradkit/dropout` with `@gradkit/nn`'s
 * model descriptions (packages of one layer never import each other; the trainer may). Idempotent.
 *
 * Types: `batchNorm` (`numFeatures`, `eps`, `momentum` (a number or null), `affine`,
 * `trackRunningStats`, `convention`), `layerNorm` (`normalizedShape`, `eps`, `elementwiseAffine`),
 * `groupNorm` (`numGroups`, `numChannels`, `eps`, `affine`), `rmsNorm` (`normalizedShape`, `eps`),
 * `dropout`, `alphaDropout`, `gaussianDropout` (`p`).
 *
 * @example
 * ```ts
 * registerStandardLayers();
 * buildModel([{ type: 'linear', in: 784, out: 100 }, { type: 'batchNorm', numFeatures: 100 }, { type: 'sigmoid' }]);
 * ```
 */
export function registerStandardLayers(): void {
  if (registered) return;
  registered = true;
  registerLayer('batchNorm', {
    build: (s, ctx) =>
      new BatchNorm1d(specNumber(s, 'numFeatures'), {
        ...optNum(s, 'eps'),
        ...(s.momentum === null ? { momentum: null } : optNum(s, 'momentum')),
        ...(s.affine === false ? { affine: false } : {}),
        ...(s.trackRunningStats === false ? { trackRunningStats: false } : {}),
        ...(s.convention === 'keras' ? { convention: 'keras' as const } : {}),
        ...(ctx.device ? { device: ctx.device } : {}),
      }),
  });
  registerLayer('layerNorm', {
    build: (s, ctx) =>
      new LayerNorm(shape(s, 'normalizedShape'), {
        ...optNum(s, 'eps'),
        ...(s.elementwiseAffine === false ? { elementwiseAffine: false } : {}),
        ...(ctx.device ? { device: ctx.device } : {}),
      }),
  });
  registerLayer('groupNorm', {
    build: (s, ctx) =>
      new GroupNorm(specNumber(s, 'numGroups'), specNumber(s, 'numChannels'), {
        ...optNum(s, 'eps'),
        ...(s.affine === false ? { affine: false } : {}),
        ...(ctx.device ? { device: ctx.device } : {}),
      }),
  });
  registerLayer('rmsNorm', {
    build: (s, ctx) =>
      new RMSNorm(shape(s, 'normalizedShape'), {
        ...optNum(s, 'eps'),
        ...(ctx.device ? { device: ctx.device } : {}),
      }),
  });
  registerLayer('dropout', { build: (s) => new Dropout(specNumber(s, 'p', 0.5)) });
  registerLayer('alphaDropout', { build: (s) => new AlphaDropout(specNumber(s, 'p', 0.5)) });
  registerLayer('gaussianDropout', { build: (s) => new GaussianDropout(specNumber(s, 'p', 0.5)) });
}
