import { type HeldSession, holdSession } from '../held-session.ts';
import type { ShardClient, ShardDatabase } from '../shard-database.ts';

/**
 * One dedicated session per shard for the whole rebalance: it holds the session advisory locks of the
 * fences, and every statement of the rebalance on that shard runs on it (so a single-session database such
 * as PGlite never waits for itself).
 */
export class ShardSessions {
  readonly #held = new Map<string, Promise<HeldSession>>();

  /** The session of `shardId`, opened from `database` on first use. */
  get(shardId: string, database: () => ShardDatabase): Promise<ShardClient> {
    let held = this.#held.get(shardId);
    if (held === undefined) {
      held = holdSession(database());
      this.#held.set(shardId, held);
      held.catch(() => this.#held.delete(shardId));
    }
    return held.then((session) => session.client);
  }

  /** Releases every session: locks dropped first, so the pool gets clean sessions (or discards broken ones). */
  async releaseAll(): Promise<void> {
    const sessions = [...this.#held.values()];
    this.#held.clear();
    await Promise.all(
      sessions.map(async (pending) => {
        const session = await pending.catch(() => undefined);
        if (session === undefined) return;
        const clean = await session.client
          .query('SELECT pg_advisory_unlock_all()')
          .then(() => true)
          .catch(() => false);
        await session.release(clean ? undefined : new Error('session discarded by the rebalancer'));
      }),
    );
  }
}
