import type { CacheEntry } from '../cache-entry.ts';
import { CacheError, invalidOption } from '../errors.ts';
import type { EvictionPolicyName, EvictionReason, MemoryTier, MemoryTierOptions } from '../memory-tier.ts';
import type { EvictionPolicy } from './eviction-policy.ts';
import { FifoPolicy } from './fifo-policy.ts';
import { LfuPolicy } from './lfu-policy.ts';
import { LruPolicy } from './lru-policy.ts';
import { TierNode } from './tier-node.ts';
import { TtlPolicy } from './ttl-policy.ts';
import { WTinyLfuPolicy } from './w-tinylfu-policy.ts';

const policyNames: readonly EvictionPolicyName[] = ['w-tinylfu', 'lru', 'lfu', 'fifo', 'ttl'];

type EvictListener = (key: string, entry: CacheEntry, reason: EvictionReason) => void;
type SizeOf = (value: unknown, key: string) => number;

function createPolicy(name: EvictionPolicyName, capacity: number): EvictionPolicy {
  switch (name) {
    case 'w-tinylfu':
      return new WTinyLfuPolicy({ capacity });
    case 'lru':
      return new LruPolicy();
    case 'lfu':
      return new LfuPolicy();
    case 'fifo':
      return new FifoPolicy();
    case 'ttl':
      return new TtlPolicy();
  }
}

/** Throws `CACHE_INVALID_OPTION` naming the first bad option. */
function validate(options: MemoryTierOptions): void {
  if (!policyNames.includes(options.policy)) {
    throw invalidOption(
      'policy',
      `one of ${policyNames.map((name) => `'${name}'`).join(', ')}`,
      options.policy,
    );
  }
  const { maxEntries, maxBytes, sizeOf, onEvict } = options;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw invalidOption('maxEntries', 'an integer >= 1', maxEntries);
  }
  if (maxBytes !== undefined) {
    if (typeof maxBytes !== 'number' || !(maxBytes > 0) || !Number.isFinite(maxBytes)) {
      throw invalidOption('maxBytes', 'a finite number > 0', maxBytes);
    }
    if (sizeOf === undefined) throw invalidOption('sizeOf', 'a function when "maxBytes" is set', sizeOf);
  }
  if (sizeOf !== undefined && typeof sizeOf !== 'function') {
    throw invalidOption('sizeOf', 'a function (value, key) => bytes', sizeOf);
  }
  if (onEvict !== undefined && typeof onEvict !== 'function') {
    throw invalidOption('onEvict', 'a function (key, entry, reason) => void', onEvict);
  }
}

/**
 * The in-process tier: a `Map` from key to node plus an eviction policy that orders the nodes. A hit
 * costs one map lookup, one expiry compare and O(1) policy bookkeeping, with no allocation. Both bounds
 * hold after every `set`: the tier evicts until the count fits `maxEntries` and the bytes fit
 * `maxBytes`. An entry larger than `maxBytes` by itself is refused (`rejected`).
 */
class BoundedMemoryTier implements MemoryTier {
  readonly #nodes = new Map<string, TierNode>();
  readonly #policy: EvictionPolicy;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: SizeOf | undefined;
  readonly #onEvict: EvictListener | undefined;
  #bytes = 0;

  constructor(options: MemoryTierOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#sizeOf = options.sizeOf;
    this.#onEvict = options.onEvict;
    this.#policy = createPolicy(options.policy, options.maxEntries);
  }

  get size(): number {
    return this.#nodes.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string, now: number): CacheEntry | undefined {
    const node = this.#nodes.get(key);
    if (node === undefined) {
      this.#policy.recordMiss();
      return undefined;
    }
    const entry = node.entry;
    if (now >= entry.expiresAt) {
      this.#drop(node, 'expired');
      return undefined;
    }
    this.#policy.recordHit(node);
    return entry;
  }

  peek(key: string): CacheEntry | undefined {
    return this.#nodes.get(key)?.entry;
  }

  set(key: string, entry: CacheEntry): boolean {
    const bytes = this.#measure(key, entry);
    let node = this.#nodes.get(key);
    if (bytes > this.#maxBytes) {
      if (node !== undefined) this.#unlink(node);
      this.#onEvict?.(key, entry, 'rejected');
      return false;
    }
    if (node === undefined) {
      if (!this.#policy.admitsOnInsert) this.#makeRoom(bytes);
      node = new TierNode(key, entry, bytes);
      this.#nodes.set(key, node);
      this.#policy.insert(node);
    } else {
      node.entry = entry;
      this.#bytes -= node.bytes;
      node.bytes = bytes;
      this.#policy.replace(node);
    }
    this.#bytes += bytes;
    let admitted = true;
    while (this.#nodes.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const victim = this.#policy.nextVictim();
      if (victim === null) break;
      if (victim === node) admitted = false;
      this.#drop(victim, this.#policy.victimReason);
    }
    return admitted;
  }

  delete(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#unlink(node);
    return true;
  }

  clear(): void {
    this.#nodes.clear();
    this.#policy.clear();
    this.#bytes = 0;
  }

  keys(): IterableIterator<string> {
    return this.#nodes.keys();
  }

  /** Evicts until one more entry of `bytes` fits both bounds. */
  #makeRoom(bytes: number): void {
    while (this.#nodes.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      const victim = this.#policy.nextVictim();
      if (victim === null) return;
      this.#drop(victim, this.#policy.victimReason);
    }
  }

  #measure(key: string, entry: CacheEntry): number {
    if (this.#sizeOf === undefined) return 0;
    const bytes = this.#sizeOf(entry.value, key);
    if (typeof bytes !== 'number' || !(bytes >= 0) || !Number.isFinite(bytes)) {
      throw new CacheError(
        'CACHE_INVALID_ARGUMENT',
        `sizeOf must return a finite number >= 0; returned ${String(bytes)} for key "${key}"`,
      );
    }
    return bytes;
  }

  #unlink(node: TierNode): void {
    this.#nodes.delete(node.key);
    this.#policy.remove(node);
    this.#bytes -= node.bytes;
  }

  /** Removes a node the tier chose to drop, then tells the listener (state is consistent if it throws). */
  #drop(node: TierNode, reason: EvictionReason): void {
    this.#unlink(node);
    this.#onEvict?.(node.key, node.entry, reason);
  }
}

/**
 * Creates the L1 tier with the named eviction policy. Throws `CacheError` `CACHE_INVALID_OPTION`
 * naming the option when `maxEntries` is not an integer >= 1, `maxBytes` is not a positive finite
 * number or comes without `sizeOf`, or `policy` is unknown.
 */
export function createMemoryTier(options: MemoryTierOptions): MemoryTier {
  validate(options);
  return new BoundedMemoryTier(options);
}
