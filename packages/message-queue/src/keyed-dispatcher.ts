/**
 * Runs tasks with at most `concurrency` at once while keeping tasks that share a key strictly in
 * arrival order (one at a time per key). Keyless tasks run in any order.
 *
 * `run` tells how a task ends: a promise (the task ends when it settles); `undefined` (it finished
 * synchronously: the dispatcher moves on at once, no promise or microtask per task); or `true` (the caller
 * calls `done(key)` exactly once when it ends, which spares the promise a callback-driven task would
 * otherwise need).
 */
export class KeyedDispatcher<T> {
  readonly #concurrency: number;
  readonly #run: (item: T) => Promise<void> | true | undefined;
  /**
   * Busy keys: their head item runs or waits in `#ready`; the value holds the items queued behind the
   * head, in arrival order (null: none).
   */
  readonly #lanes = new Map<string, T[] | null>();
  /** Heads that may run once a slot is free, oldest first (`#readyHead` is the next one), with their keys. */
  #ready: T[] = [];
  #readyKeys: Array<string | undefined> = [];
  #readyHead = 0;
  #running = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(concurrency: number, run: (item: T) => Promise<void> | true | undefined) {
    this.#concurrency = concurrency;
    this.#run = run;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    let count = this.#ready.length - this.#readyHead;
    for (const waiting of this.#lanes.values()) if (waiting !== null) count += waiting.length;
    return count;
  }

  push(item: T, key: string | undefined): void {
    if (key !== undefined) {
      const waiting = this.#lanes.get(key);
      if (waiting !== undefined) {
        // The key is busy: queue behind its head.
        if (waiting === null) this.#lanes.set(key, [item]);
        else waiting.push(item);
        return;
      }
      this.#lanes.set(key, null);
    }
    if (this.#running < this.#concurrency && this.#readyHead === this.#ready.length) {
      this.#start(item, key);
      this.#pump();
      return;
    }
    this.#ready.push(item);
    this.#readyKeys.push(key);
    this.#pump();
  }

  /** Removes every item not yet started and returns them in order. */
  drainQueued(): T[] {
    const out: T[] = [];
    const readyKeys = new Set<string>();
    for (let index = this.#readyHead; index < this.#ready.length; index++) {
      out.push(this.#ready[index]!);
      const key = this.#readyKeys[index];
      if (key !== undefined) readyKeys.add(key);
    }
    this.#ready = [];
    this.#readyKeys = [];
    this.#readyHead = 0;
    // Lanes whose head is running stay busy until it ends; the items behind every head are handed back.
    for (const [key, waiting] of this.#lanes) {
      if (waiting !== null) out.push(...waiting);
      if (readyKeys.has(key)) this.#lanes.delete(key);
      else this.#lanes.set(key, null);
    }
    return out;
  }

  /** Resolves when nothing runs. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#readyHead < this.#ready.length) {
      const item = this.#ready[this.#readyHead]!;
      const key = this.#readyKeys[this.#readyHead];
      this.#readyHead++;
      if (this.#readyHead === this.#ready.length) {
        this.#ready = [];
        this.#readyKeys = [];
        this.#readyHead = 0;
      } else if (this.#readyHead >= 1024 && this.#readyHead * 2 >= this.#ready.length) {
        this.#ready = this.#ready.slice(this.#readyHead);
        this.#readyKeys = this.#readyKeys.slice(this.#readyHead);
        this.#readyHead = 0;
      }
      this.#start(item, key);
    }
  }

  /** Ends a task whose `run` returned `true`; `key` is the one it was pushed with. Call once per task. */
  done(key: string | undefined): void {
    this.#end(key);
    this.#pump();
  }

  #start(item: T, key: string | undefined): void {
    this.#running++;
    let pending: Promise<void> | true | undefined;
    try {
      pending = this.#run(item);
    } catch {
      pending = undefined;
    }
    if (pending === undefined) this.#end(key);
    else if (pending !== true) {
      const end = () => this.done(key);
      pending.then(end, end);
    }
  }

  #end(key: string | undefined): void {
    this.#running--;
    if (key !== undefined) {
      const waiting = this.#lanes.get(key);
      const next = waiting === null || waiting === undefined ? undefined : waiting.shift();
      if (next === undefined) this.#lanes.delete(key);
      else {
        if (waiting!.length === 0) this.#lanes.set(key, null);
        this.#ready.push(next);
        this.#readyKeys.push(key);
      }
    }
    if (this.#running === 0 && this.#idleWaiters.length > 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }
}
