// A backend registered from outside @gradkit/kernels, as a third party would add one: the plain-JS
// CPU kernels behind another name, with every read-back counted. Tests use it to check the
// registry (selection by name, priority and GRADKIT_BACKEND) and to count how often training code
// reads values back to the host.
import type { BackendBuffer, BackendFactory, KernelBackend } from '@gradkit/kernels';
import { CpuBackend } from '@gradkit/kernels';

/** Read-backs a {@link CountingBackend} has served. */
export interface ReadCounts {
  /** Synchronous reads (`read`). */
  sync: number;
  /** Awaitable reads (`readAsync`). */
  async: number;
}

/** The CPU kernels under another name, counting read-backs (`counts`). */
export class CountingBackend extends CpuBackend {
  readonly counts: ReadCounts = { sync: 0, async: 0 };

  constructor(name = 'toy') {
    super();
    // name and info are CpuBackend's own fields (readonly to users): restated for this backend
    const info: KernelBackend['info'] = {
      ...this.info,
      name,
      gpuMode: 'toy',
      renderer: `${name}: the cpu kernels, reads counted`,
    };
    Object.assign(this, { name, info });
  }

  override read(buf: BackendBuffer): Float32Array {
    this.counts.sync++;
    return super.read(buf);
  }

  override readAsync(buf: BackendBuffer): Promise<Float32Array> {
    this.counts.async++;
    return super.readAsync(buf);
  }
}

/**
 * A registry entry for {@link CountingBackend}: `registerBackend(toyBackendFactory())`. Every
 * created instance is pushed to `instances`, so a test can read its counts.
 */
export function toyBackendFactory(
  name = 'toy',
  priority = 0,
): BackendFactory & { readonly instances: CountingBackend[] } {
  const instances: CountingBackend[] = [];
  return {
    name,
    priority,
    instances,
    probe: () => ({ ok: true, mode: 'toy', reason: '' }),
    create: () => {
      const b = new CountingBackend(name);
      instances.push(b);
      return b;
    },
  };
}
