import { ValueError } from '@gradkit/tensor';

/**
 * Nonlinearities {@link calculateGain} knows, in gradkit's camelCase spelling (as the tensor
 * package's activation names). PyTorch's snake_case spellings (`'leaky_relu'`,
 * `'conv_transpose2d'`, ...) are accepted too, see {@link PyTorchNonlinearity}.
 */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'convTranspose1d'
  | 'convTranspose2d'
  | 'convTranspose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leakyRelu'
  | 'selu';

/** PyTorch's spellings of the multi-word nonlinearities, accepted as aliases. */
export type PyTorchNonlinearity = 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d' | 'leaky_relu';

const ALIASES: Readonly<Record<PyTorchNonlinearity, Nonlinearity>> = {
  conv_transpose1d: 'convTranspose1d',
  conv_transpose2d: 'convTranspose2d',
  conv_transpose3d: 'convTranspose3d',
  leaky_relu: 'leakyRelu',
};

const LINEAR: readonly Nonlinearity[] = [
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'convTranspose1d',
  'convTranspose2d',
  'convTranspose3d',
  'sigmoid',
];

/**
 * Every name {@link calculateGain} accepts (gradkit's camelCase names, then PyTorch's spellings).
 *
 * @see PyTorch `torch.nn.init.calculate_gain`: https://pytorch.org/docs/1.13/nn.init.html
 * @example
 * ```ts
 * NONLINEARITIES.includes('leaky_relu'); // true
 * ```
 */
export const NONLINEARITIES: readonly (Nonlinearity | PyTorchNonlinearity)[] = [
  ...LINEAR,
  'tanh',
  'relu',
  'leakyRelu',
  'selu',
  ...(Object.keys(ALIASES) as PyTorchNonlinearity[]),
];

/** @internal The canonical name of an accepted nonlinearity, or a ValueError naming `op`. */
export function canonicalNonlinearity(op: string, nonlinearity: unknown): Nonlinearity {
  if (typeof nonlinearity === 'string') {
    if (Object.hasOwn(ALIASES, nonlinearity)) return ALIASES[nonlinearity as PyTorchNonlinearity];
    if ((NONLINEARITIES as readonly string[]).includes(nonlinearity)) return nonlinearity as Nonlinearity;
  }
  throw new ValueError(
    op,
    `unsupported nonlinearity ${JSON.stringify(nonlinearity)}; supported: ${NONLINEARITIES.join(', ')}`,
  );
}

/**
 * The recommended gain for a nonlinearity, exactly as PyTorch 1.13's
 * `torch.nn.init.calculate_gain`:
 *
 * | nonlinearity | gain |
 * | --- | --- |
 * | linear, conv1d/2d/3d, convTranspose1d/2d/3d, sigmoid | 1 |
 * | tanh | 5/3 |
 * | relu | sqrt(2) |
 * | leakyRelu | sqrt(2 / (1 + negativeSlope^2)), `param` = negativeSlope (default 0.01) |
 * | selu | 3/4 |
 *
 * SELU's 3/4 is PyTorch's empirical choice (pytorch/pytorch#50664); self-normalizing networks
 * (Klambauer et al. 2017) use gain 1 with fan-in, i.e. {@link lecunNormal}.
 *
 * @param param the negative slope of `leakyRelu` (ignored by the others).
 * @throws {ValueError} for an unknown nonlinearity, or a `param` that is not a finite number.
 * @see K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers", ICCV 2015.
 * @example
 * ```ts
 * calculateGain('relu'); // 1.4142135623730951
 * calculateGain('leakyRelu', 0.2); // 1.3867504905630728
 * calculateGain('leaky_relu'); // PyTorch's spelling works too
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity | PyTorchNonlinearity, param?: number): number {
  const op = 'calculateGain';
  const name = canonicalNonlinearity(op, nonlinearity);
  if (LINEAR.includes(name)) return 1;
  switch (name) {
    case 'tanh':
      return 5.0 / 3;
    case 'relu':
      return Math.sqrt(2.0);
    case 'leakyRelu': {
      let slope = 0.01;
      if (param !== undefined && param !== null) {
        if (typeof param !== 'number' || !Number.isFinite(param)) {
          throw new ValueError(op, `negative slope ${String(param)} is not a valid number`);
        }
        slope = param;
      }
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    default:
      return 3.0 / 4; // selu
  }
}
