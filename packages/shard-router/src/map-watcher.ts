import type { EventEmitter } from 'node:events';
import { ShardRouterError } from './errors.ts';
import { compileShardMap, type ShardLocator, type ShardMap } from './shard-map.ts';
import type { ShardMapStore } from './shard-map-store.ts';

/** What the watcher needs from the router's options. */
export interface MapWatcherOptions {
  readonly store: ShardMapStore | undefined;
  readonly map: ShardMap | undefined;
  readonly pollIntervalMs: number;
  readonly mapLeaseMs: number;
}

/**
 * The router's copy of the shard map: loads (or first publishes) it, polls the store, re-reads it on demand
 * and says whether it may be routed on (not frozen for a cutover, confirmed within `mapLeaseMs`).
 */
export class MapWatcher {
  readonly #options: MapWatcherOptions;
  readonly #events: EventEmitter;
  #map!: ShardMap;
  #locator!: ShardLocator;
  #frozen = false;
  #confirmedAt = 0;
  #poller: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #refreshAgain: Promise<void> | undefined;

  constructor(options: MapWatcherOptions, events: EventEmitter) {
    this.#options = options;
    this.#events = events;
  }

  /** The map in force. */
  get map(): ShardMap {
    return this.#map;
  }

  /** The compiled form of the map in force. */
  get locator(): ShardLocator {
    return this.#locator;
  }

  /** Loads (or first publishes) the map and starts polling the store. */
  async start(): Promise<void> {
    const { store, map } = this.#options;
    if (store === undefined) {
      this.#install(map!, false);
      return;
    }
    let record = await store.load();
    if (record === undefined && map !== undefined) {
      await store.publish(map, undefined);
      record = await store.load();
    }
    if (record === undefined) {
      throw new ShardRouterError(
        'SHARD_NOT_FOUND',
        'the shard map store holds no map and option "map" was not given',
      );
    }
    this.#install(record.map, record.frozen);
    this.#poller = setInterval(
      () => void this.refresh().catch(() => undefined),
      this.#options.pollIntervalMs,
    );
    this.#poller.unref();
  }

  /** Stops polling. */
  stop(): void {
    clearInterval(this.#poller);
  }

  #install(map: ShardMap, frozen: boolean): void {
    const previous = this.#map?.epoch;
    const locator = compileShardMap(map);
    this.#map = map;
    this.#locator = locator;
    this.#frozen = frozen;
    this.#confirmedAt = Date.now();
    if (previous !== map.epoch)
      this.#events.emit('map.change', { epoch: map.epoch, previousEpoch: previous });
  }

  /**
   * Re-reads the store now. The read starts after the call: a call made while another read is in flight
   * (a poll that may predate a map just published) waits for it and then reads again, one follow-up read
   * shared by every call made meanwhile.
   */
  refresh(): Promise<void> {
    const store = this.#options.store;
    if (store === undefined) return Promise.resolve();
    const inFlight = this.#refreshing;
    if (inFlight === undefined) return this.#readStore(store);
    this.#refreshAgain ??= inFlight
      .catch(() => undefined)
      .then(() => {
        this.#refreshAgain = undefined;
        // A read started after the in-flight one ended also started after this call: share it.
        return this.#refreshing ?? this.#readStore(store);
      });
    return this.#refreshAgain;
  }

  #readStore(store: ShardMapStore): Promise<void> {
    const reading = this.#read(store).finally(() => {
      if (this.#refreshing === reading) this.#refreshing = undefined;
    });
    this.#refreshing = reading;
    return reading;
  }

  async #read(store: ShardMapStore): Promise<void> {
    try {
      const head = await store.head();
      if (head === undefined) return;
      if (head.epoch !== this.#map.epoch) {
        const record = await store.load();
        if (record !== undefined) this.#install(record.map, record.frozen);
      } else {
        this.#frozen = head.frozen;
        this.#confirmedAt = Date.now();
      }
    } catch (error) {
      const failure = new ShardRouterError('SHARD_MAP_STALE', 'could not read the shard map store', {
        cause: error,
        retryable: true,
      });
      this.#events.emit('map.refresh.fail', { error: failure });
      throw failure;
    }
  }

  /** Throws `SHARD_MAP_FROZEN` during a cutover and `SHARD_MAP_STALE` when the lease on the map ran out. */
  checkRoutable(): void {
    if (this.#frozen) {
      throw new ShardRouterError(
        'SHARD_MAP_FROZEN',
        `shard map epoch ${this.#map.epoch} is frozen for a cutover; retry shortly`,
        {
          retryable: true,
        },
      );
    }
    if (this.#options.store !== undefined && Date.now() - this.#confirmedAt > this.#options.mapLeaseMs) {
      throw new ShardRouterError(
        'SHARD_MAP_STALE',
        `shard map epoch ${this.#map.epoch} was not confirmed for ${this.#options.mapLeaseMs} ms; refusing to route on it`,
        { retryable: true },
      );
    }
  }
}
