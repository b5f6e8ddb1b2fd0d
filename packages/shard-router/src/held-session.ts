import type { ShardClient, ShardDatabase } from './shard-database.ts';

/** A session checked out of a `ShardDatabase` and kept until `release`. */
export interface HeldSession {
  readonly client: ShardClient;
  /** Returns the session; pass an error to have the pool discard it (its state is unknown). */
  release(discard?: unknown): Promise<void>;
}

/**
 * Holds one session of `database` open across awaits (cursors, transactions) using only the port's
 * `withConnection`, so any pool that satisfies the port works.
 */
export function holdSession(database: ShardDatabase): Promise<HeldSession> {
  return new Promise<HeldSession>((resolve, reject) => {
    let held = false;
    let finish!: (discard: unknown) => void;
    const finished = new Promise<unknown>((resolveFinish) => {
      finish = resolveFinish;
    });
    const done = database.withConnection(async (client) => {
      held = true;
      resolve({
        client,
        release: async (discard?: unknown) => {
          finish(discard);
          await done.catch(() => undefined);
        },
      });
      const discard = await finished;
      if (discard !== undefined) throw discard;
    });
    done.catch((error: unknown) => {
      if (!held) reject(error);
    });
  });
}
