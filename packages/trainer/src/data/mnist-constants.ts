// MNIST's pixel statistics: plain numbers, usable anywhere (loadMnist itself is Node-only).

/**
 * MNIST's training-set pixel mean in unit scale (PyTorch's example uses 0.1307).
 *
 * @example
 * ```ts
 * const z = (0.5 - MNIST_MEAN) / MNIST_STD;
 * ```
 */
export const MNIST_MEAN = 0.1307;

/**
 * MNIST's training-set pixel standard deviation in unit scale (PyTorch's example uses 0.3081).
 *
 * @example
 * ```ts
 * const z = (0.5 - MNIST_MEAN) / MNIST_STD;
 * ```
 */
export const MNIST_STD = 0.3081;
