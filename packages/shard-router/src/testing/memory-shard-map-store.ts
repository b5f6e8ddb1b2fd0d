import type { RebalanceJournal } from '../rebalance/rebalance-journal.ts';
import type { ShardMap } from '../shard-map.ts';
import type { ShardMapHead, ShardMapRecord, ShardMapStore } from '../shard-map-store.ts';

/** An in-process `ShardMapStore` (one per test; share the instance between routers to simulate a fleet). */
export class MemoryShardMapStore implements ShardMapStore {
  #record: ShardMapRecord | undefined;
  #journal: RebalanceJournal | undefined;
  /** Every published epoch, oldest first. */
  readonly history: ShardMap[] = [];

  constructor(initial?: ShardMap) {
    if (initial !== undefined) {
      this.#record = { map: structuredClone(initial), frozen: false };
      this.history.push(initial);
    }
  }

  async load(): Promise<ShardMapRecord | undefined> {
    return this.#record === undefined ? undefined : structuredClone(this.#record);
  }

  async head(): Promise<ShardMapHead | undefined> {
    return this.#record === undefined
      ? undefined
      : { epoch: this.#record.map.epoch, frozen: this.#record.frozen };
  }

  async publish(next: ShardMap, expectedEpoch: number | undefined): Promise<boolean> {
    if (this.#record?.map.epoch !== expectedEpoch) return false;
    if (expectedEpoch !== undefined && next.epoch <= expectedEpoch) return false;
    this.#record = { map: structuredClone(next), frozen: false };
    this.history.push(next);
    return true;
  }

  async setFrozen(epoch: number, frozen: boolean): Promise<boolean> {
    if (this.#record?.map.epoch !== epoch) return false;
    this.#record = { ...this.#record, frozen };
    return true;
  }

  async loadRebalance(): Promise<RebalanceJournal | undefined> {
    return this.#journal === undefined ? undefined : structuredClone(this.#journal);
  }

  async saveRebalance(journal: RebalanceJournal | undefined): Promise<void> {
    this.#journal = journal === undefined ? undefined : structuredClone(journal);
  }
}
