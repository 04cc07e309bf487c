// Test-only: the PyTorch 1.13 reference values of fixtures/init.json (see fixtures/generate.py).
import { loadFixture } from '@gradkit/test-utils';

export interface BoundCase {
  readonly init: string;
  readonly shape: number[];
  readonly options: Record<string, string | number>;
  readonly bound?: number;
  readonly std?: number;
}

export interface InitFixture {
  readonly torch: string;
  readonly calculateGain: { nonlinearity: string; param: number | null; gain: number }[];
  readonly calculateGainErrors: { nonlinearity: string; param?: string; message: string }[];
  readonly fans: { shape: number[]; fanIn: number; fanOut: number }[];
  readonly fanErrors: { shape: number[]; message: string }[];
  readonly bounds: BoundCase[];
  readonly kaimingModeError: string;
  readonly truncatedNormal: {
    mean: number;
    std: number;
    a: number;
    b: number;
    torchUniformArgs: [number, number];
    analyticMean: number;
    analyticVariance: number;
    torchSampleMean: number;
    torchSampleVariance: number;
    n: number;
  }[];
  readonly normalCdf: { x: number; cdf: number }[];
  readonly normalQuantile: { p: number; x: number }[];
  readonly orthogonal: { shape: number[]; gain: number; normal: number[]; result: number[] }[];
  readonly orthogonalError: string;
  readonly eye: { shape: number[]; result: number[] }[];
  readonly eyeError: string;
  readonly dirac: { shape: number[]; groups: number; result: number[] }[];
  readonly diracErrors: string[];
}

export const FIXTURE = loadFixture<InitFixture>(new URL('../../fixtures/init.json', import.meta.url));
