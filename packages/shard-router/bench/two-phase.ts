import { compare, nsPerOperation, type ResultRow } from '@ballast-internal/bench';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import type { ShardInfo } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { type DelayingRelay, delayingRelay } from '../test/delaying-relay.ts';
import type { PgShardSet } from '../test/pg-shards.ts';
import { twoPhaseFloorRows } from './two-phase-floor.ts';

/** One-way delay of the relayed run: every request reaches its server 1 ms late, as over a slow link. */
const linkDelayMs = 1;

/**
 * `two-phase-commit`: a transfer across two shards on the two clusters (PREPARE on the second shard while
 * the first records the decision in its own transaction, COMMIT on the first, COMMIT PREPARED on the
 * second) against the same two updates committed on one shard, through the same router and pools. On
 * loopback (the goal row) and, report only, through relays that delay every request by 1 ms, where round
 * trips rather than server CPU dominate. The bare-client rows of `two-phase-floor.ts` show what loopback allows.
 */
export async function twoPhaseRows(set: PgShardSet): Promise<ResultRow[]> {
  const loopback = await transferTimings([set.shards[0]!, set.shards[1]!], set, (url) => url, {
    operations: 200,
    samples: 9,
    warmup: 50,
  });
  const floor = await twoPhaseFloorRows(set.urls.get(set.shards[0]!.id)!, set.urls.get(set.shards[1]!.id)!);
  const relays: DelayingRelay[] = [];
  const relayed = new Map<string, string>();
  try {
    for (const url of [set.urls.get(set.shards[2]!.id)!, set.urls.get(set.shards[3]!.id)!]) {
      const relay = await delayingRelay(url, linkDelayMs);
      relays.push(relay);
      relayed.set(url, relay.url);
    }
    const slowLink = await transferTimings(
      [set.shards[2]!, set.shards[3]!],
      set,
      (url) => relayed.get(url)!,
      { operations: 30, samples: 5, warmup: 10 },
    );
    return [
      compare(
        'two-phase-commit',
        'µs/tx',
        loopback.twoShards,
        'single-shard-commit',
        loopback.oneShard,
        'lower-is-better',
        0.55,
      ),
      ...floor,
      compare(
        'two-phase-commit-1ms-link',
        'µs/tx',
        slowLink.twoShards,
        'single-shard-commit-1ms-link',
        slowLink.oneShard,
        'lower-is-better',
        'report',
      ),
    ];
  } finally {
    for (const relay of relays) await relay.close();
  }
}

async function transferTimings(
  [a, b]: [ShardInfo, ShardInfo],
  set: PgShardSet,
  route: (url: string) => string,
  options: { operations: number; samples: number; warmup: number },
): Promise<{ twoShards: number; oneShard: number }> {
  const router = await ShardRouter.open({
    map: { epoch: 1, shards: [a, b], strategy: { kind: 'directory', entries: { a: a.id, b: b.id } } },
    connect: (shard) =>
      createPgShardDatabase({ connectionString: route(set.urls.get(shard.id)!), maxConnections: 3 }),
  });
  try {
    await router.migrate({
      id: 'bench-accounts',
      up: ['CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)'],
    });
    await router.scatter('INSERT INTO accounts VALUES (1, 1000000), (2, 1000000)');
    const timings = await nsPerOperation(
      {
        ours: () =>
          router.transaction(async (tx) => {
            await tx.query('a', 'UPDATE accounts SET balance = balance - 1 WHERE id = 1');
            await tx.query('b', 'UPDATE accounts SET balance = balance + 1 WHERE id = 1');
          }),
        'single-shard-commit': () =>
          router.transaction(async (tx) => {
            await tx.query('a', 'UPDATE accounts SET balance = balance - 1 WHERE id = 1');
            await tx.query('a', 'UPDATE accounts SET balance = balance + 1 WHERE id = 2');
          }),
      },
      options,
    );
    return { twoShards: timings.ours! / 1e3, oneShard: timings['single-shard-commit']! / 1e3 };
  } finally {
    await router.close();
  }
}
