import { AlphaDropout, Dropout, Dropout2d, GaussianDropout } from '@gradkit/dropout';
import type { BuildContext, JsonValue, LayerSpec } from '@gradkit/nn';
import { registerLayer, specNumber } from '@gradkit/nn';
import type { BatchNormOptions } from '@gradkit/normalization';
import { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm } from '@gradkit/normalization';
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

/** The options of a `batchNorm` / `batchNorm2d` spec. */
function batchNormOptions(s: LayerSpec, ctx: BuildContext): BatchNormOptions {
  return {
    ...optNum(s, 'eps'),
    ...(s.momentum === null ? { momentum: null } : optNum(s, 'momentum')),
    ...(s.affine === false ? { affine: false } : {}),
    ...(s.trackRunningStats === false ? { trackRunningStats: false } : {}),
    ...(s.convention === 'keras' ? { convention: 'keras' as const } : {}),
    ...(ctx.device ? { device: ctx.device } : {}),
  };
}

/**
 * Registers the layer types of `@gradkit/normalization` and `@gradkit/dropout` with `@gradkit/nn`'s
 * model descriptions (packages of one layer never import each other; the trainer may). Idempotent.
 *
 * Types: `batchNorm` (`BatchNorm1d`: `numFeatures`, `eps`, `momentum` (a number or null), `affine`,
 * `trackRunningStats`, `convention`), `batchNorm2d` (`BatchNorm2d` for `[N, C, H, W]`, the same
 * options with `numFeatures` = C), `layerNorm` (`normalizedShape`, `eps`, `elementwiseAffine`),
 * `groupNorm` (`numGroups`, `numChannels`, `eps`, `affine`), `rmsNorm` (`normalizedShape`, `eps`),
 * `dropout`, `dropout2d` (`Dropout2d`: whole channels of `[N, C, H, W]`), `alphaDropout`,
 * `gaussianDropout` (`p`, default 0.5).
 *
 * @example
 * ```ts
 * registerStandardLayers();
 * buildModel([{ type: 'linear', in: 784, out: 100 }, { type: 'batchNorm', numFeatures: 100 }, { type: 'sigmoid' }]);
 * buildModel([{ type: 'batchNorm2d', numFeatures: 1 }, { type: 'dropout2d', p: 0.1 }, { type: 'flatten' }]);
 * ```
 */
export function registerStandardLayers(): void {
  if (registered) return;
  registered = true;
  registerLayer('batchNorm', {
    build: (s, ctx) => new BatchNorm1d(specNumber(s, 'numFeatures'), batchNormOptions(s, ctx)),
  });
  registerLayer('batchNorm2d', {
    build: (s, ctx) => new BatchNorm2d(specNumber(s, 'numFeatures'), batchNormOptions(s, ctx)),
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
  registerLayer('dropout2d', { build: (s) => new Dropout2d(specNumber(s, 'p', 0.5)) });
  registerLayer('alphaDropout', { build: (s) => new AlphaDropout(specNumber(s, 'p', 0.5)) });
  registerLayer('gaussianDropout', { build: (s) => new GaussianDropout(specNumber(s, 'p', 0.5)) });
}
