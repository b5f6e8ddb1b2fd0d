import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectionPool } from '../../src/connection-pool.ts';
import { PoolError } from '../../src/errors.ts';

export interface ConnectionPoolFixture<C> {
  /** A fresh pool with `max: 2` and `acquireTimeoutMs: 300`. */
  readonly pool: ConnectionPool<C>;
  /** One cheap round trip on a connection (SELECT 1, ping). */
  ping(connection: C): Promise<unknown>;
  cleanup(): Promise<void>;
}

const deferred = (): { promise: Promise<void>; resolve: () => void } => {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
};

/** The behaviour every pool adapter promises (the pool port). Run once per adapter. */
export function describeConnectionPoolConformance<C>(
  name: string,
  make: () => Promise<ConnectionPoolFixture<C>>,
): void {
  describe(`ConnectionPool conformance: ${name}`, () => {
    let fixture: ConnectionPoolFixture<C>;
    let pool: ConnectionPool<C>;

    beforeEach(async () => {
      fixture = await make();
      pool = fixture.pool;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('runs work on a connection and returns its result', async () => {
      const result = await pool.withConnection(async (connection) => {
        await fixture.ping(connection);
        return 'done';
      });
      expect(result).toBe('done');
    });

    it('runs reads and writes', async () => {
      await expect(pool.withConnection((c) => fixture.ping(c), { intent: 'read' })).resolves.toBeDefined();
      await expect(pool.withConnection((c) => fixture.ping(c), { intent: 'write' })).resolves.toBeDefined();
    });

    it("passes the work's own error through unchanged and frees the slot", async () => {
      const mine = new Error('mine');
      for (let round = 0; round < 3; round++) {
        await expect(pool.withConnection(async () => Promise.reject(mine))).rejects.toBe(mine);
      }
      // Three failures on a pool of two: had any kept its connection, this call would time out.
      await expect(pool.withConnection((c) => fixture.ping(c))).resolves.toBeDefined();
    });

    it('fails with POOL_ACQUIRE_TIMEOUT, retryable, when every connection stays busy past the acquire timeout', async () => {
      const hold = deferred();
      const holders = [0, 1].map(() => pool.withConnection(() => hold.promise));
      const started = performance.now();
      const error = await pool.withConnection((c) => fixture.ping(c)).catch((caught: unknown) => caught);
      expect(PoolError.isInstance(error) && error.code).toBe('POOL_ACQUIRE_TIMEOUT');
      expect((error as PoolError).retryable).toBe(true);
      expect(performance.now() - started).toBeLessThan(2000);
      hold.resolve();
      await Promise.all(holders);
      expect(pool.stats().timeouts).toBeGreaterThanOrEqual(1);
    });

    it('rejects an aborted acquire with POOL_ABORTED and serves the next caller', async () => {
      const hold = deferred();
      const holders = [0, 1].map(() => pool.withConnection(() => hold.promise));
      const controller = new AbortController();
      const aborted = pool.withConnection((c) => fixture.ping(c), { signal: controller.signal });
      const next = pool.withConnection(async () => 'next');
      controller.abort(new Error('user left'));
      await expect(aborted).rejects.toMatchObject({ code: 'POOL_ABORTED' });
      hold.resolve();
      await Promise.all(holders);
      await expect(next).resolves.toBe('next');
    });

    it('counts every acquire in stats', async () => {
      const before = pool.stats().acquired;
      await pool.withConnection((connection) => fixture.ping(connection));
      await pool.withConnection((connection) => fixture.ping(connection), { intent: 'read' });
      expect(pool.stats().acquired - before).toBeGreaterThanOrEqual(2);
    });

    it('reports every endpoint as healthy', async () => {
      await pool.withConnection((c) => fixture.ping(c));
      const health = pool.health();
      expect(health.length).toBeGreaterThanOrEqual(1);
      expect(health.every((endpoint) => endpoint.state === 'closed')).toBe(true);
      expect(health.some((endpoint) => endpoint.role === 'primary')).toBe(true);
    });

    it('drains in-flight work on close, then rejects new work with POOL_CLOSED; close is safe twice', async () => {
      const hold = deferred();
      let finished = false;
      const running = pool.withConnection(async (connection) => {
        await fixture.ping(connection);
        await hold.promise;
        finished = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const closing = pool.close({ timeoutMs: 5000 });
      setTimeout(hold.resolve, 50);
      await closing;
      expect(finished).toBe(true);
      await running;
      await expect(pool.withConnection((c) => fixture.ping(c))).rejects.toMatchObject({
        code: 'POOL_CLOSED',
      });
      await expect(pool.close()).resolves.toBeUndefined();
    });
  });
}
