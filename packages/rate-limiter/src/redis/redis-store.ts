import { createHash, randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import type { LimitStatus } from '../decision.ts';
import { invalidOption, RateLimitError, storeUnavailable } from '../errors.ts';
import { type ResolvedLimit, scriptCode } from '../limit-rule.ts';
import type {
  CallbackRateLimitStore,
  StoreLimitResult,
  StorePenalty,
  StoreRequest,
  StoreResult,
  StoreWaiter,
} from '../store.ts';
import { consumeScript, fixedWindowScript } from './consume-script.ts';

export interface RedisStoreOptions {
  /** An ioredis client or cluster, owned by the caller (the store never closes it). */
  readonly client: Redis | Cluster;
  /** Prefix of every key (no braces: the `{key}` part is the Redis Cluster hash tag). @default 'rl:' */
  readonly keyPrefix?: string | undefined;
  /** Time source for the algorithms. @default undefined: the Redis server's TIME, shared by every instance */
  readonly clock?: Clock | undefined;
  /**
   * Send the checks issued in the same tick as one script call (one round trip for all). Must be
   * false on a Redis Cluster. @default true, false for a Cluster client
   */
  readonly batch?: boolean | undefined;
  /** Checks per script call at most when batching. @default 64 */
  readonly maxBatch?: number | undefined;
}

/** `consume` through `consumeInto`: the request and its promise's settle functions in one object. */
class PromiseWaiter implements StoreWaiter {
  readonly key: string;
  readonly limits: readonly ResolvedLimit[];
  readonly cost: number;
  readonly penalty: StorePenalty | undefined;
  readonly settle: (result: StoreResult) => void;
  readonly fail: (error: unknown) => void;
  constructor(request: StoreRequest, settle: (result: StoreResult) => void, fail: (error: unknown) => void) {
    this.key = request.key;
    this.limits = request.limits;
    this.cost = request.cost;
    this.penalty = request.penalty;
    this.settle = settle;
    this.fail = fail;
  }
}

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const generalScript = script(consumeScript);
const fastScript = script(fixedWindowScript);

/** The fast path: one fixed-window limit, no blocking, an integer cost (`fixedWindowScript`). */
function isFast({ limits, cost, penalty }: StoreRequest): boolean {
  return (
    penalty === undefined &&
    limits.length === 1 &&
    limits[0]?.algorithm === 'fixed-window' &&
    Number.isSafeInteger(cost) &&
    cost >= 1
  );
}

/** Fast-path requests that can share one script call (same cost, limit and window). */
function sameShape(a: StoreRequest, b: StoreRequest): boolean {
  const x = a.limits[0]!;
  const y = b.limits[0]!;
  return a.cost === b.cost && x.limit === y.limit && x.windowMs === y.windowMs;
}

/**
 * One fixed-window result of the fast path (a class: one shape for every result). It carries its rule,
 * so the limiter hands it out as the decision's `LimitStatus` without copying it.
 */
class FastResult implements StoreLimitResult, LimitStatus {
  readonly rule: ResolvedLimit;
  readonly remaining: number;
  readonly resetMs: number;
  readonly retryAfterMs: number;
  readonly delayMs = 0;
  constructor(rule: ResolvedLimit, remaining: number, resetMs: number, retryAfterMs: number) {
    this.rule = rule;
    this.remaining = remaining;
    this.resetMs = resetMs;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Every algorithm on Redis in one round trip per check (a Lua script, EVALSHA with an EVAL fallback);
 * checks issued in the same tick share one script call. All keys of one check share the hash tag
 * `{key}`, so multi-limit checks work on Redis Cluster (with `batch: false`).
 */
export class RedisStore implements CallbackRateLimitStore {
  readonly name = 'redis';
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #clock: Clock | undefined;
  readonly #noncePrefix = randomBytes(6).toString('base64url');
  #nonce = 0;
  #closed = false;
  readonly #queue: StoreWaiter[] = [];
  readonly #batch: boolean;
  readonly #maxBatch: number;

  constructor(options: RedisStoreOptions) {
    if (typeof options !== 'object' || options === null || typeof options.client?.evalsha !== 'function') {
      throw invalidOption('client', 'an ioredis Redis or Cluster client', options?.client);
    }
    const prefix = options.keyPrefix ?? 'rl:';
    if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
      throw invalidOption('keyPrefix', 'a string without { or }', prefix);
    }
    const clientPrefix = (options.client.options as { keyPrefix?: string } | undefined)?.keyPrefix;
    if (clientPrefix !== undefined && clientPrefix !== '') {
      throw invalidOption(
        'client',
        'a client without its own keyPrefix (use the store keyPrefix)',
        clientPrefix,
      );
    }
    this.#client = options.client;
    this.#prefix = prefix;
    this.#clock = options.clock;
    const isCluster = (options.client as { isCluster?: boolean }).isCluster === true;
    this.#batch = options.batch ?? !isCluster;
    if (this.#batch && isCluster) {
      throw invalidOption(
        'batch',
        'false on a Redis Cluster (checks of different keys live on different slots)',
        true,
      );
    }
    const maxBatch = options.maxBatch ?? 64;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
      throw invalidOption('maxBatch', 'an integer >= 1', maxBatch);
    this.#maxBatch = maxBatch;
  }

  /** The Redis keys of `key` for `limits`: block, violations, level, then one per limit. */
  keysOf(key: string, limits: readonly ResolvedLimit[]): string[] {
    const base = `${this.#prefix}{${key}}:`;
    const keys = [`${base}b`, `${base}v`, `${base}n`];
    for (const limit of limits) keys.push(`${base}${limit.id}`);
    return keys;
  }

  consume(request: StoreRequest): Promise<StoreResult> {
    return new Promise<StoreResult>((resolve, reject) => {
      this.consumeInto(new PromiseWaiter(request, resolve, reject));
    });
  }

  /**
   * `consume` without a promise: `waiter` (the request) is told its result or error. Used by the
   * limiter; checks of one tick still share one script call.
   */
  consumeInto(waiter: StoreWaiter): void {
    if (this.#closed) {
      waiter.fail(new RateLimitError('RATE_LIMITER_CLOSED', 'the redis store is closed'));
      return;
    }
    const queue = this.#queue;
    if (queue.length === 0) queueMicrotask(this.#flush);
    queue.push(waiter);
    if (queue.length >= this.#maxBatch) this.#flush();
  }

  /** Sends the checks queued in this tick: one script call for all of them (or one per check on a Cluster). */
  readonly #flush = (): void => {
    const queued = this.#queue.splice(0);
    if (queued.length === 0) return;
    if (!this.#batch) {
      for (const item of queued) void (isFast(item) ? this.#sendFast([item]) : this.#send([item]));
      return;
    }
    // Fast-path checks go out in groups of one cost, limit and window (usually a single group).
    let groups: Map<string, StoreWaiter[]> | undefined;
    let first: StoreWaiter[] | undefined;
    let firstShape: StoreRequest | undefined;
    let general: StoreWaiter[] | undefined;
    for (let index = 0; index < queued.length; index++) {
      const item = queued[index]!;
      const request = item;
      if (!isFast(request)) {
        if (general === undefined) general = [item];
        else general.push(item);
      } else if (firstShape === undefined) {
        firstShape = request;
        first = [item];
      } else if (sameShape(firstShape, request)) {
        first!.push(item);
      } else {
        const shape = `${request.cost}:${request.limits[0]!.limit}:${request.limits[0]!.windowMs}`;
        groups ??= new Map();
        const group = groups.get(shape);
        if (group === undefined) groups.set(shape, [item]);
        else group.push(item);
      }
    }
    if (first !== undefined) void this.#sendFast(first);
    if (groups !== undefined) for (const group of groups.values()) void this.#sendFast(group);
    if (general !== undefined) void this.#send(general);
  };

  /** One script call for fast-path checks of one shape (see `isFast`, `sameShape`): one key per check. */
  async #sendFast(items: readonly StoreWaiter[]): Promise<void> {
    const { cost, limits } = items[0]!;
    const limit = limits[0]!;
    const count = items.length;
    const args: Array<string | number> = new Array(count + 6);
    args[0] = fastScript.sha;
    args[1] = count;
    for (let index = 0; index < count; index++) {
      // Rules of one shape may differ by name: each check uses its own rule's key.
      const request = items[index]!;
      args[index + 2] = `${this.#prefix}{${request.key}}:${request.limits[0]!.id}`;
    }
    args[count + 2] = this.#clock === undefined ? -1 : Math.floor(this.#clock.now());
    args[count + 3] = cost;
    args[count + 4] = limit.limit;
    args[count + 5] = limit.windowMs;
    let reply: unknown;
    try {
      try {
        reply = await this.#client.evalsha(...(args as [string, number, ...Array<string | number>]));
      } catch (error) {
        if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
        args[0] = fastScript.source;
        reply = await this.#client.eval(...(args as [string, number, ...Array<string | number>]));
      }
    } catch (error) {
      const failure = storeUnavailable('redis', error);
      for (let index = 0; index < count; index++) items[index]!.fail(failure);
      return;
    }
    if (!Array.isArray(reply) || reply.length !== count + 1) {
      const failure = unexpectedReply();
      for (let index = 0; index < count; index++) items[index]!.fail(failure);
      return;
    }
    const values = reply as number[];
    const resetMs = values[count]!;
    for (let index = 0; index < count; index++) {
      const item = items[index]!;
      const rule = item.limits[0]!;
      const value = values[index]!;
      item.settle(
        value >= 0
          ? { allowed: true, blockedForMs: 0, results: [new FastResult(rule, value, resetMs, 0)] }
          : {
              allowed: false,
              blockedForMs: 0,
              // Rejected with nothing counted yet (cost above the limit): nothing to wait for.
              results: [new FastResult(rule, -1 - value, -1 - value === rule.limit ? 0 : resetMs, resetMs)],
            },
      );
    }
  }

  async #send(items: readonly StoreWaiter[]): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | number> = [
      this.#clock === undefined ? -1 : Math.floor(this.#clock.now()),
      items.length,
    ];
    for (const request of items) {
      const { key, limits, cost, penalty } = request;
      keys.push(...this.keysOf(key, limits));
      this.#nonce = (this.#nonce + 1) % 2 ** 40;
      args.push(
        cost,
        limits.length,
        penalty === undefined ? 0 : 1,
        penalty?.violations ?? 0,
        penalty?.withinMs ?? 0,
        penalty?.blockMs ?? 0,
        penalty?.multiplier ?? 1,
        penalty?.maxBlockMs ?? 0,
        penalty?.levelResetMs ?? 0,
        `${this.#noncePrefix}${this.#nonce}`,
      );
      for (const limit of limits) {
        args.push(scriptCode(limit), limit.limit, limit.windowMs, limit.maxWaitMs);
      }
    }
    await this.#call(generalScript, keys, args, items, (replies, index, request) =>
      parseReply(replies[index], request.limits.length),
    );
  }

  /** EVALSHA (EVAL on `NOSCRIPT`), then one reply per check to its caller. */
  async #call(
    { source, sha }: Script,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
    items: readonly StoreWaiter[],
    parse: (replies: readonly unknown[], index: number, request: StoreRequest) => StoreResult,
  ): Promise<void> {
    let reply: unknown;
    try {
      try {
        reply = await this.#client.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
        reply = await this.#client.eval(source, keys.length, ...keys, ...args);
      }
    } catch (error) {
      const failure = storeUnavailable('redis', error);
      for (const item of items) item.fail(failure);
      return;
    }
    const replies = Array.isArray(reply) ? (reply as unknown[]) : [];
    items.forEach((item, index) => {
      let result: StoreResult;
      try {
        result = parse(replies, index, item);
      } catch (error) {
        item.fail(error);
        return;
      }
      item.settle(result);
    });
  }

  async reset(key: string, limits: readonly ResolvedLimit[]): Promise<void> {
    if (this.#closed) throw new RateLimitError('RATE_LIMITER_CLOSED', 'the redis store is closed');
    try {
      // One DEL per key: the keys share a hash tag, but a cluster client may still split a multi-key DEL.
      await Promise.all(this.keysOf(key, limits).map((redisKey) => this.#client.del(redisKey)));
    } catch (error) {
      throw storeUnavailable('redis', error);
    }
  }

  /** Marks the store closed; the caller's client stays open. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

function unexpectedReply(): RateLimitError {
  return new RateLimitError('RATE_LIMITER_STORE_UNAVAILABLE', 'redis returned an unexpected reply', {
    retryable: true,
  });
}

function parseReply(reply: unknown, count: number): StoreResult {
  if (!Array.isArray(reply) || reply.length < 2) throw unexpectedReply();
  const values = reply as number[];
  const blockedForMs = Number(values[1]);
  if (blockedForMs > 0) return { allowed: false, blockedForMs, results: [] };
  const results: StoreLimitResult[] = [];
  for (let index = 0; index < count; index++) {
    const at = 2 + index * 4;
    results.push({
      remaining: Number(values[at]),
      resetMs: Number(values[at + 1]),
      retryAfterMs: Number(values[at + 2]),
      delayMs: Number(values[at + 3]),
    });
  }
  return { allowed: Number(values[0]) === 1, blockedForMs: 0, results };
}
