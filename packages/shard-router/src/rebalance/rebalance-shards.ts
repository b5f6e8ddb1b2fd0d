import type { ShardClient } from '../shard-database.ts';
import type { ShardInfo } from '../shard-map.ts';
import { describeTable, type MovingTable, type RebalanceTable } from './moving-table.ts';
import type { RebalanceHost } from './rebalance-host.ts';
import { ShardSessions } from './shard-sessions.ts';

/**
 * The shards one run works on: its dedicated session on each (see `ShardSessions`), the tables as each
 * shard describes them, every shard it touched (cleanup visits them all, including shards no longer in
 * the map) and the shards it gave the temporary (bucket, primary key) index.
 */
export class RebalanceShards {
  readonly #host: RebalanceHost;
  readonly #tables: readonly RebalanceTable[];
  readonly #sessions = new ShardSessions();
  readonly #described = new Map<string, MovingTable[]>();
  readonly #touched = new Map<string, ShardInfo>();
  /** Shards given the temporary (bucket, primary key) index by this run. */
  readonly indexed = new Set<string>();

  constructor(host: RebalanceHost, tables: readonly RebalanceTable[], known: Iterable<ShardInfo>) {
    this.#host = host;
    this.#tables = tables;
    for (const shard of known) this.#touched.set(shard.id, shard);
  }

  /** Every shard the run knows of, in the order it met them. */
  touched(): ShardInfo[] {
    return [...this.#touched.values()];
  }

  /** The run's own session on `shard`. */
  session(shard: ShardInfo): Promise<ShardClient> {
    this.#touched.set(shard.id, shard);
    return this.#sessions.get(shard.id, () => this.#host.database(shard));
  }

  /** The moving tables as `shard` describes them (read once per run). */
  async tables(shard: ShardInfo, client: ShardClient, bucketCount: number): Promise<MovingTable[]> {
    let tables = this.#described.get(shard.id);
    if (tables === undefined) {
      tables = [];
      for (const table of this.#tables)
        tables.push(await describeTable(client, table, this.#host.schema, bucketCount));
      this.#described.set(shard.id, tables);
    }
    return tables;
  }

  releaseAll(): Promise<void> {
    return this.#sessions.releaseAll();
  }
}
