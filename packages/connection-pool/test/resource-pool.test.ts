import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionFactory, CreateContext } from '../src/connection-factory.ts';
import { PoolError } from '../src/errors.ts';
import type { Lease } from '../src/lease.ts';
import type { PoolOptions } from '../src/pool-options.ts';
import { ResourcePool } from '../src/resource-pool.ts';

interface Conn {
  readonly id: number;
  alive: boolean;
  pings: number;
  reportBroken: (error: unknown) => void;
}

class TestFactory implements ConnectionFactory<Conn> {
  nextId = 1;
  attempts = 0;
  failing = false;
  validations = 0;
  readonly open = new Set<Conn>();

  async create(context: CreateContext): Promise<Conn> {
    this.attempts++;
    if (this.failing) throw new Error('ECONNREFUSED');
    const conn: Conn = { id: this.nextId++, alive: true, pings: 0, reportBroken: context.reportBroken };
    this.open.add(conn);
    return conn;
  }

  async destroy(conn: Conn): Promise<void> {
    this.open.delete(conn);
  }

  async validate(conn: Conn): Promise<void> {
    this.validations++;
    conn.pings++;
    if (!conn.alive) throw new Error('dead');
  }
}

const pools: ResourcePool<Conn>[] = [];
function makePool(factory: TestFactory, options: PoolOptions = {}): ResourcePool<Conn> {
  const pool = new ResourcePool(factory, { housekeepingIntervalMs: 100, ...options });
  pools.push(pool);
  return pool;
}

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((pool) => pool.close({ timeoutMs: 100 })));
});

describe('ResourcePool acquire', () => {
  it('serves waiters first come first served within a priority, and high priority before normal and low', async () => {
    const pool = makePool(new TestFactory(), { max: 1 });
    const first = await pool.acquire();
    const order: string[] = [];
    const wait = (label: string, priority: 'high' | 'normal' | 'low') =>
      pool.acquire({ priority }).then((lease) => {
        order.push(label);
        lease.release();
      });
    const all = [
      wait('low-1', 'low'),
      wait('normal-1', 'normal'),
      wait('normal-2', 'normal'),
      wait('high-1', 'high'),
    ];
    all.push(wait('normal-3', 'normal'));
    first.release();
    await Promise.all(all);
    expect(order).toEqual(['high-1', 'normal-1', 'normal-2', 'normal-3', 'low-1']);
  });

  it('times out with a retryable POOL_ACQUIRE_TIMEOUT when the pool stays exhausted', async () => {
    const pool = makePool(new TestFactory(), { max: 1, acquireTimeoutMs: 50 });
    const held = await pool.acquire();
    const error = await pool.acquire().catch((caught: unknown) => caught);
    expect(PoolError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'POOL_ACQUIRE_TIMEOUT', retryable: true });
    expect(pool.stats()).toMatchObject({ timeouts: 1, pending: 0 });
    held.release();
  });

  it('times out each waiter at its own deadline, a short per-call timeout before earlier long ones', async () => {
    const pool = makePool(new TestFactory(), { max: 1, acquireTimeoutMs: 400 });
    const held = await pool.acquire();
    const started = performance.now();
    const settledAt: Record<string, number> = {};
    const wait = (label: string, timeoutMs?: number) =>
      pool.acquire(timeoutMs === undefined ? {} : { timeoutMs }).then(
        (lease) => lease.release(),
        (error: unknown) => {
          expect(error).toMatchObject({ code: 'POOL_ACQUIRE_TIMEOUT' });
          settledAt[label] = performance.now() - started;
        },
      );
    await Promise.all([wait('long'), wait('short', 50), wait('medium', 150)]);
    expect(settledAt.short).toBeGreaterThanOrEqual(45);
    expect(settledAt.short).toBeLessThan(140);
    expect(settledAt.medium).toBeGreaterThanOrEqual(145);
    expect(settledAt.medium).toBeLessThan(390);
    expect(settledAt.long).toBeGreaterThanOrEqual(395);
    expect(pool.stats()).toMatchObject({ pending: 0, timeouts: 3 });
    held.release();
  });

  it('gives the last connection error as the cause of an acquire timeout while the database is down', async () => {
    const factory = new TestFactory();
    factory.failing = true;
    const pool = makePool(factory, { acquireTimeoutMs: 80 });
    const error = (await pool.acquire().catch((caught: unknown) => caught)) as PoolError;
    expect(error.code).toBe('POOL_ACQUIRE_TIMEOUT');
    expect((error.cause as Error).message).toBe('ECONNREFUSED');
  });

  it('rejects with POOL_ABORTED when the signal aborts, leaves the queue, and hands the connection to the next waiter', async () => {
    const pool = makePool(new TestFactory(), { max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal });
    const next = pool.acquire();
    expect(pool.stats().pending).toBe(2);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'POOL_ABORTED' });
    expect(pool.stats().pending).toBe(1);
    held.release();
    const lease = await next;
    expect(lease.resource.id).toBe(held.resource.id);
    lease.release();
  });

  it('rejects at once when the signal is already aborted', async () => {
    const pool = makePool(new TestFactory());
    await expect(pool.acquire({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'POOL_ABORTED',
    });
  });

  it('ignores a second release of the same lease', async () => {
    const pool = makePool(new TestFactory(), { max: 2 });
    const lease = await pool.acquire();
    lease.release();
    lease.release();
    expect(pool.stats()).toMatchObject({ used: 0, idle: 1 });
  });

  it('releases on `using` scope exit', async () => {
    const pool = makePool(new TestFactory());
    {
      using lease = await pool.acquire();
      expect(lease.resource.id).toBe(1);
      expect(pool.stats().used).toBe(1);
    }
    expect(pool.stats().used).toBe(0);
  });
});

describe('ResourcePool sizing and lifecycle', () => {
  it('opens min connections at start and grows to max with demand, never beyond', async () => {
    const factory = new TestFactory();
    const pool = makePool(factory, { min: 2, max: 4 });
    await tick();
    expect(pool.stats()).toMatchObject({ total: 2, idle: 2 });
    const leases = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()));
    const fifth = pool.acquire({ timeoutMs: 30 });
    await expect(fifth).rejects.toMatchObject({ code: 'POOL_ACQUIRE_TIMEOUT' });
    expect(factory.open.size).toBe(4);
    for (const lease of leases) lease.release();
  });

  it('closes connections idle past idleTimeoutMs down to min, and keeps min', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance'],
    });
    const factory = new TestFactory();
    const pool = makePool(factory, { min: 1, max: 4, idleTimeoutMs: 1000, keepaliveIntervalMs: 0 });
    const leases = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()));
    for (const lease of leases) lease.release();
    expect(pool.stats().idle).toBe(4);
    await vi.advanceTimersByTimeAsync(1200);
    expect(pool.stats()).toMatchObject({ total: 1, idle: 1 });
    expect(factory.open.size).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(factory.open.size).toBe(1);
  });

  it('hands out the most recently used connection so surplus ones age out under light load', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance'],
    });
    const factory = new TestFactory();
    const pool = makePool(factory, { max: 3, idleTimeoutMs: 1000, keepaliveIntervalMs: 0 });
    const leases = await Promise.all(Array.from({ length: 3 }, () => pool.acquire()));
    for (const lease of leases) lease.release();
    for (let step = 0; step < 20; step++) {
      (await pool.acquire()).release();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(pool.stats().total).toBe(1);
  });

  it('retires connections at max lifetime, each at a different moment (jitter), and refills min', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance'],
    });
    const factory = new TestFactory();
    const pool = makePool(factory, {
      min: 8,
      max: 8,
      maxLifetimeMs: 10_000,
      maxLifetimeJitterRatio: 0.5,
      idleTimeoutMs: 0,
      keepaliveIntervalMs: 0,
    });
    await vi.advanceTimersByTimeAsync(0);
    const firstGeneration = new Set(factory.open);
    const retiredAt: number[] = [];
    let previous = firstGeneration.size;
    for (let elapsed = 0; elapsed <= 10_200; elapsed += 100) {
      await vi.advanceTimersByTimeAsync(100);
      const left = [...firstGeneration].filter((conn) => factory.open.has(conn)).length;
      for (let index = left; index < previous; index++) retiredAt.push(elapsed);
      previous = left;
    }
    expect(retiredAt).toHaveLength(8);
    expect(pool.stats()).toMatchObject({ total: 8, destroyed: 8 });
    expect(new Set(retiredAt).size).toBeGreaterThan(2);
    expect(Math.min(...retiredAt)).toBeGreaterThanOrEqual(4900);
    expect(factory.open.size).toBe(8);
  });

  it('retires a busy connection past its lifetime when it is released', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance'],
    });
    const factory = new TestFactory();
    const pool = makePool(factory, { maxLifetimeMs: 1000, maxLifetimeJitterRatio: 0 });
    const lease = await pool.acquire();
    await vi.advanceTimersByTimeAsync(1500);
    expect(factory.open.has(lease.resource)).toBe(true);
    lease.release();
    expect(factory.open.has(lease.resource)).toBe(false);
  });

  it('backs off exponentially while connections fail: a handful of attempts, no busy loop, then recovers', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance'],
    });
    const factory = new TestFactory();
    factory.failing = true;
    const pool = makePool(factory, {
      min: 2,
      createBackoffInitialMs: 100,
      createBackoffMaxMs: 1000,
      acquireTimeoutMs: 60_000,
    });
    const waiting = Array.from({ length: 20 }, () => pool.acquire());
    for (const pending of waiting) pending.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    // The first wave (one attempt per waiter, up to max) fails together; from then on one attempt at a time.
    const firstWave = factory.attempts;
    expect(firstWave).toBe(10);
    await vi.advanceTimersByTimeAsync(5000);
    // Unbounded retrying would be thousands; doubling from 100 ms (with jitter) capped at 1 s is about a dozen in 5 s.
    const retries = factory.attempts - firstWave;
    expect(retries).toBeGreaterThanOrEqual(5);
    expect(retries).toBeLessThanOrEqual(14);
    expect(pool.stats().createErrors).toBe(factory.attempts);
    factory.failing = false;
    await vi.advanceTimersByTimeAsync(1100);
    const leases = await Promise.all(waiting.slice(0, 10));
    expect(leases).toHaveLength(10);
    for (const lease of leases) lease.release();
    await Promise.all(waiting.slice(10).map(async (pending) => (await pending).release()));
  });

  it('validates on borrow only after the connection sat idle past the threshold, replacing a dead one', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance'],
    });
    const factory = new TestFactory();
    const pool = makePool(factory, { validationIdleThresholdMs: 500, keepaliveIntervalMs: 0 });
    const first = await pool.acquire();
    first.release();
    (await pool.acquire()).release();
    expect(factory.validations).toBe(0);
    await vi.advanceTimersByTimeAsync(600);
    first.resource.alive = false;
    const lease = await pool.acquire();
    expect(factory.validations).toBe(1);
    expect(lease.resource.id).not.toBe(first.resource.id);
    expect(factory.open.has(first.resource)).toBe(false);
    lease.release();
  });

  it('pings idle connections on the keepalive interval, drops dead ones, and does not reset their idle clock', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'performance'],
    });
    const factory = new TestFactory();
    const pool = makePool(factory, { max: 2, keepaliveIntervalMs: 1000, idleTimeoutMs: 3500 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    a!.release();
    b!.release();
    b!.resource.alive = false;
    await vi.advanceTimersByTimeAsync(1100);
    expect(a!.resource.pings).toBe(1);
    expect(factory.open.has(b!.resource)).toBe(false);
    await vi.advanceTimersByTimeAsync(2600);
    expect(a!.resource.pings).toBeGreaterThanOrEqual(2);
    expect(factory.open.size).toBe(0);
  });

  it('removes an idle connection that reports an error, quietly, and reopens min', async () => {
    const factory = new TestFactory();
    const pool = makePool(factory, { min: 1 });
    const errors: unknown[] = [];
    pool.on('connection.error', ({ error }) => errors.push(error));
    await tick();
    const [conn] = [...factory.open];
    conn!.reportBroken(new Error('terminating connection due to administrator command'));
    await tick();
    expect(errors).toHaveLength(1);
    expect(factory.open.has(conn!)).toBe(false);
    expect(factory.open.size).toBe(1);
    expect(pool.stats().brokenConnections).toBe(1);
  });

  it('discards a busy connection that broke when it comes back', async () => {
    const factory = new TestFactory();
    const pool = makePool(factory);
    const lease = await pool.acquire();
    lease.resource.reportBroken(new Error('socket closed'));
    expect(factory.open.has(lease.resource)).toBe(true);
    lease.release();
    expect(factory.open.has(lease.resource)).toBe(false);
  });

  it('reports a connection held past the leak threshold, with the stack that acquired it, once', async () => {
    const pool = makePool(new TestFactory(), { leakDetectionThresholdMs: 50, housekeepingIntervalMs: 20 });
    const leaks: Array<{ stack: string; heldMs: number }> = [];
    pool.on('connection.leak', (leak) => leaks.push(leak));
    const lease = await pool.acquire();
    await tick(150);
    expect(leaks).toHaveLength(1);
    expect(leaks[0]!.stack).toContain('resource-pool.test.ts');
    expect(leaks[0]!.heldMs).toBeGreaterThanOrEqual(50);
    expect(pool.stats().leaks).toBe(1);
    lease.release();
  });
});

describe('ResourcePool close', () => {
  it('waits for busy connections, rejects waiters and new acquires with POOL_CLOSED, and closes everything', async () => {
    const factory = new TestFactory();
    const pool = makePool(factory, { max: 1 });
    const held = await pool.acquire();
    const waiter = pool.acquire();
    const closing = pool.close({ timeoutMs: 1000 });
    await expect(waiter).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await tick(20);
    expect(closed).toBe(false);
    held.release();
    await closing;
    expect(factory.open.size).toBe(0);
    expect(pool.close()).toBe(closing);
  });

  it('cuts connections still busy at the deadline', async () => {
    const factory = new TestFactory();
    const pool = makePool(factory);
    const forced: number[] = [];
    pool.on('close.end', (event) => forced.push(event.forced));
    const held: Lease<Conn> = await pool.acquire();
    const started = performance.now();
    await pool.close({ timeoutMs: 50 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(forced).toEqual([1]);
    expect(factory.open.has(held.resource)).toBe(false);
    held.release();
  });

  it('finishes close within its deadline even when destroy never returns', async () => {
    const factory = new TestFactory();
    factory.destroy = () => new Promise(() => undefined);
    const pool = makePool(factory, { min: 2 });
    await tick();
    const started = performance.now();
    await pool.close({ timeoutMs: 100 });
    expect(performance.now() - started).toBeLessThan(600);
  });
});

describe('ResourcePool under churn', () => {
  it('leaks no connection over 1,000,000 acquire/release cycles with random errors', async () => {
    const factory = new TestFactory();
    const pool = makePool(factory, {
      min: 2,
      max: 8,
      acquireTimeoutMs: 5000,
      validationIdleThresholdMs: 60_000,
    });
    let random = 42;
    const next = (): number => {
      random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
      return random / 2_147_483_648;
    };
    let failures = 0;
    const worker = async (cycles: number): Promise<void> => {
      for (let index = 0; index < cycles; index++) {
        const lease = await pool.acquire();
        const roll = next();
        if (roll < 0.001) {
          failures++;
          lease.destroy(new Error('random failure'));
        } else if (roll < 0.002) {
          failures++;
          lease.resource.reportBroken(new Error('random socket error'));
          lease.release();
        } else {
          lease.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => worker(62_500)));
    await tick();
    expect(pool.stats().acquired).toBe(1_000_000);
    expect(failures).toBeGreaterThan(500);
    const stats = pool.stats();
    expect(stats.used).toBe(0);
    expect(stats.pending).toBe(0);
    expect(factory.open.size).toBe(stats.total);
    expect(stats.created - stats.destroyed).toBe(stats.total);
    await pool.close();
    expect(factory.open.size).toBe(0);
  }, 60_000);
});

describe('ResourcePool close while the database is down', () => {
  it('closes at once while a connection attempt is waiting out its backoff', async () => {
    const factory = new TestFactory();
    factory.failing = true;
    const pool = makePool(factory, { min: 1, createBackoffInitialMs: 10_000, createBackoffMaxMs: 10_000 });
    await tick(20);
    expect(factory.attempts).toBe(1);
    const started = performance.now();
    await pool.close({ timeoutMs: 5000 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(factory.attempts).toBe(1);
  });
});
