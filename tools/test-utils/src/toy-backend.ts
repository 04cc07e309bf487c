// A backend registered from outside @gradkit/kernels, as a third party would add one: the plain-JS
// CPU kernels behind another name, with every read-back counted. Tests use it to check the
// registry (selection by name, priority and GRADKIT_BACKEND) and to count how often training code
// reads values back to the host.
import type { BackendBuffer, BackendFactory, KernelBackend, SyncRead } from '@gradkit/kernels';
import { CpuBackend } from '@gradkit/kernels';

/** Read-backs a {@link CountingBackend} has served. */
export interface ReadCounts {
  /** Synchronous reads (`read`). */
  sync: number;
  /** Awaitable reads (`readAsync`). */
  async: number;
}

/**
 * The CPU kernels under another name, counting read-backs (`counts`). `syncRead` says what it
 * claims a synchronous read costs: `'stalls'` (default, like a GPU: training reads less often)
 * or `'none'` (no synchronous `read` at all, like WebGPU).
 */
export class CountingBackend extends CpuBackend {
  readonly counts: ReadCounts = { sync: 0, async: 0 };

  constructor(name = 'toy', syncRead: SyncRead = 'stalls') {
    super();
    // name and info are CpuBackend's own fields (readonly to users): restated for this backend
    const info: KernelBackend['info'] = {
      ...this.info,
      name,
      gpuMode: 'toy',
      renderer: `${name}: the cpu kernels, reads counted`,
      syncRead,
    };
    Object.assign(this, { name, info });
    if (syncRead === 'none') Object.defineProperty(this, 'read', { value: undefined });
  }

  override read(buf: BackendBuffer): Float32Array {
    this.counts.sync++;
    return super.read(buf);
  }

  override readAsync(buf: BackendBuffer): Promise<Float32Array> {
    this.counts.async++;
    // CpuBackend's own read (this instance's `read` is removed when syncRead is 'none')
    return Promise.resolve().then(() => CpuBackend.prototype.read.call(this, buf));
  }
}

/**
 * A registry entry for {@link CountingBackend}: `registerBackend(toyBackendFactory())`. Every
 * created instance is pushed to `instances`, so a test can read its counts.
 */
export function toyBackendFactory(
  name = 'toy',
  priority = 0,
  syncRead: SyncRead = 'stalls',
): BackendFactory & { readonly instances: CountingBackend[] } {
  const instances: CountingBackend[] = [];
  return {
    name,
    priority,
    instances,
    probe: () => ({ ok: true, mode: 'toy', reason: '' }),
    create: () => {
      const b = new CountingBackend(name, syncRead);
      instances.push(b);
      return b;
    },
  };
}
