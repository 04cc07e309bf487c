export { AlphaDropout, alphaDropout, alphaDropoutCoefficients } from './alpha-dropout.js';
export type { DropConnectOptions } from './drop-connect.js';
export { DropConnect, dropConnect } from './drop-connect.js';
export { Dropout, dropout } from './dropout.js';
export { Dropout2d, dropout2d } from './dropout2d.js';
export { GaussianDropout, gaussianDropout } from './gaussian-dropout.js';
export type { DropoutModuleOptions, DropoutOptions } from './kernels.js';
