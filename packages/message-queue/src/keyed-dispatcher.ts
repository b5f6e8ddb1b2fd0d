/**
 * Runs tasks with at most `concurrency` at once while keeping tasks that share a key strictly in
 * arrival order (one at a time per key). Keyless tasks run in any order.
 */
export class KeyedDispatcher<T> {
  readonly #concurrency: number;
  readonly #run: (item: T) => Promise<void>;
  readonly #lanes = new Map<string, T[]>();
  /** Runnable work: a keyless item, or the key of a lane whose head may run. */
  readonly #ready: Array<{ readonly item: T } | { readonly lane: string }> = [];
  #running = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(concurrency: number, run: (item: T) => Promise<void>) {
    this.#concurrency = concurrency;
    this.#run = run;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    let count = 0;
    for (const entry of this.#ready) if ('item' in entry) count++;
    for (const lane of this.#lanes.values()) count += lane.length;
    return count - this.#runningLaneHeads();
  }

  #activeLanes = 0;
  #runningLaneHeads(): number {
    return this.#activeLanes;
  }

  push(item: T, key: string | undefined): void {
    if (key === undefined) {
      this.#ready.push({ item });
    } else {
      const lane = this.#lanes.get(key);
      if (lane !== undefined) {
        lane.push(item);
        return;
      }
      this.#lanes.set(key, [item]);
      this.#ready.push({ lane: key });
    }
    this.#pump();
  }

  /** Removes every item not yet started and returns them in order. */
  drainQueued(): T[] {
    const out: T[] = [];
    for (const entry of this.#ready.splice(0)) {
      if ('item' in entry) out.push(entry.item);
      else {
        const lane = this.#lanes.get(entry.lane) ?? [];
        out.push(...lane);
        this.#lanes.delete(entry.lane);
      }
    }
    // Lanes whose head is running: keep the head (it is running), hand back the rest.
    for (const lane of this.#lanes.values()) out.push(...lane.splice(1));
    return out;
  }

  /** Resolves when nothing runs. */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const entry = this.#ready.shift()!;
      if ('item' in entry) {
        this.#start(entry.item, undefined);
      } else {
        const lane = this.#lanes.get(entry.lane);
        const head = lane?.[0];
        if (head !== undefined) this.#start(head, entry.lane);
      }
    }
  }

  #start(item: T, lane: string | undefined): void {
    this.#running++;
    if (lane !== undefined) this.#activeLanes++;
    void this.#run(item)
      .catch(() => undefined)
      .then(() => {
        this.#running--;
        if (lane !== undefined) {
          this.#activeLanes--;
          const queue = this.#lanes.get(lane);
          queue?.shift();
          if (queue === undefined || queue.length === 0) this.#lanes.delete(lane);
          else this.#ready.push({ lane });
        }
        this.#pump();
        if (this.#running === 0) {
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
        }
      });
  }
}
