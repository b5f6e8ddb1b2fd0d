import { CacheCore } from './cache-core.ts';
import { type CacheOptions, resolveOptions } from './cache-options.ts';
import { CacheView } from './cache-view.ts';
import { CacheError } from './errors.ts';
import { LoadPath } from './load-path.ts';

/** A multi-tier cache: in-process L1, optional shared L2, coherent across instances. */
export class TieredCache<V = unknown> extends CacheView<V> {
  constructor(options: CacheOptions<V> = {}) {
    const core = new CacheCore(resolveOptions(options));
    const prefix = core.settings.namespace === '' ? '' : `${core.settings.namespace}:`;
    super(core, new LoadPath(core), prefix);
  }

  /** Resolves once the invalidation bus (if any) is subscribed. */
  ready(): Promise<void> {
    return this.core.coherence.ready;
  }

  /**
   * Stops accepting calls, waits for loads under way and the write-behind queue, then closes the bus
   * and the L2 store. Honours `timeoutMs` even when a backend hangs. Safe to call twice.
   */
  async close(options: { readonly timeoutMs?: number | undefined } = {}): Promise<void> {
    const core = this.core;
    if (core.closed) return;
    core.closed = true;
    const timeoutMs = options.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CacheError('CACHE_CLOSED', `close did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const drain = async (): Promise<void> => {
      await core.settled();
      await this.loads.inFlight.settled();
      await core.writeBehind?.close();
    };
    try {
      await Promise.race([drain(), deadline]);
    } finally {
      clearTimeout(timer);
      core.telemetry.close();
      core.l2?.dispose();
      await Promise.allSettled([core.coherence.close(), core.l2?.store.close()]);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
