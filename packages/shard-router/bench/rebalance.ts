import { compare, median, type ResultRow } from '@ballast-internal/bench';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { createBucketShardMap } from '../src/bucket-planner.ts';
import { PostgresShardMapStore } from '../src/postgres-shard-map-store.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { createPgShards } from '../test/pg-shards.ts';

/**
 * `rebalance-freeze-ms`: 8 → 9 shards holding `rowsPerShard` rows each while 4 writers update and insert
 * through another router; the longest write freeze of any cutover against the 1 s the issue allows.
 * `rebalance-freeze-vs-offline-move`: the median freeze against the median whole move (copy, catch-up,
 * cutover) of the same buckets, i.e. what an offline move would freeze writes for.
 */
export async function rebalanceRows(
  primary: string,
  secondary: string,
  rowsPerShard = 25_000,
): Promise<ResultRow[]> {
  const set = await createPgShards(9, primary, secondary, 'sr_bench_rb');
  const meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
  const routers: ShardRouter[] = [];
  try {
    const store = new PostgresShardMapStore({ database: meta, name: 'bench' });
    await store.ensureSchema();
    const eight = set.shards.slice(0, 8);
    const open = async (): Promise<ShardRouter> => {
      const router = await ShardRouter.open({
        store,
        map: createBucketShardMap(eight, 1024),
        connect: set.connect,
        pollIntervalMs: 100,
        mapLeaseMs: 1000,
      });
      routers.push(router);
      return router;
    };
    const admin = await open();
    const schema = 'CREATE TABLE items (id bigint PRIMARY KEY, v integer NOT NULL, payload text NOT NULL)';
    for (const shard of set.shards) {
      const database = set.connect(shard);
      await database.query(schema);
      await database.close();
    }
    const total = rowsPerShard * eight.length;
    const byShard = new Map<string, number[]>();
    for (let id = 0; id < total; id++) {
      const shardId = admin.shardFor(id);
      (byShard.get(shardId) ?? byShard.set(shardId, []).get(shardId)!).push(id);
    }
    await Promise.all(
      [...byShard].map(([shardId, ids]) =>
        admin
          .database(shardId)
          .query(`INSERT INTO items SELECT id, 0, repeat('x', 100) FROM unnest($1::bigint[]) AS id`, [ids]),
      ),
    );
    const app = await open();
    let stop = false;
    let writes = 0;
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      let next = total + writer;
      const deadline = Date.now() + 300_000;
      while (!stop && Date.now() < deadline) {
        const id = Math.floor(Math.random() * total);
        await app.query(id, 'UPDATE items SET v = v + 1 WHERE id = $1', [id]);
        await app.query(next, `INSERT INTO items VALUES ($1, 0, 'new')`, [next]);
        next += 4;
        writes += 2;
      }
    });
    const handle = await admin.rebalance({
      tables: [{ name: 'items', keyColumn: 'id' }],
      addShards: [set.shards[8]!],
      cleanupDelayMs: 1000,
    });
    const report = await handle.done.finally(() => {
      stop = true;
    });
    await Promise.all(writers);
    const freezes = report.cutovers.map((cutover) => cutover.freezeMs);
    const moves = report.cutovers.map((cutover) => cutover.durationMs);
    process.stderr.write(
      `rebalance: ${report.rowsCopied} rows copied, ${report.changesApplied} changes caught up, ` +
        `${writes} concurrent writes, ${(report.durationMs / 1000).toFixed(1)} s\n`,
    );
    return [
      compare('rebalance-freeze-ms', 'ms', Math.max(...freezes), 'issue-limit', 1000, 'lower-is-better', 1),
      compare(
        'rebalance-freeze-vs-offline-move',
        'ms',
        median(freezes),
        'offline-move',
        median(moves),
        'lower-is-better',
        'report',
      ),
    ];
  } finally {
    for (const router of routers) await router.close();
    await meta.close();
    await set.drop();
  }
}
