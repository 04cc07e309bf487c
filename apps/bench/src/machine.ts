import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** The machine a run measured, and its nominal single-core float32 peaks (the hardware limit). */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly mhz: number | null;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  /** Widest float32 FMA the CPU has: 'avx512', 'avx2+fma', 'sse' or 'unknown'. */
  readonly simd: string;
  /** One core, widest native SIMD, two FMA units: MHz x lanes x 2 (FMA) x 2 (units) / 1000. */
  readonly peakNativeGflops: number | null;
  /**
   * One core with 128-bit SIMD and no FMA (WebAssembly SIMD: f32x4.mul and f32x4.add, two ports):
   * MHz x 4 lanes x 2 / 1000.
   */
  readonly peakSimd128Gflops: number | null;
}

function cpuFlags(): { flags: Set<string>; mhz: number | null } {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/));
    const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(text)?.[1]);
    return { flags, mhz: Number.isFinite(mhz) && mhz > 0 ? mhz : null };
  } catch {
    const speed = cpus()[0]?.speed;
    return { flags: new Set(), mhz: speed ? speed : null };
  }
}

/** Describes this machine. */
export function describeMachine(): Machine {
  const { flags, mhz } = cpuFlags();
  const simd = flags.has('avx512f')
    ? 'avx512'
    : flags.has('avx2') && flags.has('fma')
      ? 'avx2+fma'
      : flags.has('sse2')
        ? 'sse'
        : 'unknown';
  const lanes = simd === 'avx512' ? 16 : simd === 'avx2+fma' ? 8 : simd === 'sse' ? 4 : null;
  const fma = simd === 'sse' ? 1 : 2; // sse: separate mul and add, counted as one FLOP pair per lane
  return {
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    mhz,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    simd,
    peakNativeGflops: mhz && lanes ? (mhz * lanes * fma * 2) / 1000 : null,
    peakSimd128Gflops: mhz ? (mhz * 4 * 2) / 1000 : null,
  };
}
