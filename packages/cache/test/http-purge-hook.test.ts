import { describe, expect, it } from 'vitest';
import { CacheError } from '../src/errors.ts';
import { createPurgeFanout, type PurgeHook, type PurgeOptions } from '../src/http/index.ts';

interface RecordingHook extends PurgeHook {
  readonly calls: [string, readonly string[], PurgeOptions | undefined][];
}

function recordingHook(name: string, failure?: Error): RecordingHook {
  const calls: RecordingHook['calls'] = [];
  const run = async (method: string, items: readonly string[], options?: PurgeOptions): Promise<void> => {
    calls.push([method, items, options]);
    if (failure !== undefined) throw failure;
  };
  return {
    name,
    calls,
    purgeKeys: (keys, options) => run('purgeKeys', keys, options),
    purgeTags: (tags, options) => run('purgeTags', tags, options),
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<CacheError> {
  try {
    await promise;
  } catch (error) {
    if (CacheError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('createPurgeFanout', () => {
  it('purges keys and tags through every hook with the caller signal', async () => {
    const first = recordingHook('fastly');
    const second = recordingHook('nginx');
    const fanout = createPurgeFanout([first, second]);
    const signal = new AbortController().signal;
    await fanout.purgeKeys(['/a', '/b'], { signal });
    await fanout.purgeTags(['product/1']);
    for (const hook of [first, second]) {
      expect(hook.calls).toEqual([
        ['purgeKeys', ['/a', '/b'], { signal }],
        ['purgeTags', ['product/1'], undefined],
      ]);
    }
  });

  it('runs every hook and reports each failure without losing the others', async () => {
    const fastlyDown = new Error('fastly 503');
    const cloudflareDown = new Error('cloudflare 429');
    const healthy = recordingHook('nginx');
    const fanout = createPurgeFanout([
      recordingHook('fastly', fastlyDown),
      healthy,
      recordingHook('cloudflare', cloudflareDown),
    ]);
    const error = await rejectionOf(fanout.purgeTags(['catalog']));
    expect(error.code).toBe('CACHE_WRITE_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('2 of 3');
    expect(error.message).toContain('fastly (fastly 503)');
    expect(error.message).toContain('cloudflare (cloudflare 429)');
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect((error.cause as AggregateError).errors).toEqual([fastlyDown, cloudflareDown]);
    expect(healthy.calls).toHaveLength(1);
  });

  it('reports a hook that throws synchronously like one that rejects', async () => {
    const broken: PurgeHook = {
      purgeKeys: () => {
        throw new Error('not configured');
      },
      purgeTags: async () => {},
    };
    const error = await rejectionOf(createPurgeFanout([broken]).purgeKeys(['/a']));
    expect(error.message).toContain('hook 0 (not configured)');
  });

  it('calls no hook for an empty list', async () => {
    const hook = recordingHook('fastly');
    await createPurgeFanout([hook]).purgeKeys([]);
    expect(hook.calls).toEqual([]);
  });

  it('rejects an already aborted purge with CACHE_ABORTED before any hook runs', async () => {
    const hook = recordingHook('fastly');
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    const error = await rejectionOf(
      createPurgeFanout([hook]).purgeTags(['a'], { signal: controller.signal }),
    );
    expect(error.code).toBe('CACHE_ABORTED');
    expect(hook.calls).toEqual([]);
  });

  it('rejects a hook without purge methods with CACHE_INVALID_OPTION naming it', () => {
    expect(() => createPurgeFanout([recordingHook('ok'), {} as PurgeHook])).toThrow(/option "hooks\[1\]"/);
  });
});
