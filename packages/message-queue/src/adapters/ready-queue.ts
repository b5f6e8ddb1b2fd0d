/** What a ready queue orders: higher `priority` first, then lower `seq` (older) first. */
export interface Ranked {
  readonly priority: number;
  readonly seq: number;
}

function before(a: Ranked, b: Ranked): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

/**
 * A binary heap of ready entries: `push` and `shift` in O(log n) whatever the order entries arrive in
 * (a released or retried message goes back among newer ones without shifting them).
 */
export class ReadyQueue<T extends Ranked> {
  readonly #heap: T[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(entry: T): void {
    const heap = this.#heap;
    let index = heap.length;
    heap.push(entry);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = entry;
  }

  /** Removes and returns the first entry. */
  shift(): T | undefined {
    const heap = this.#heap;
    const first = heap[0];
    const last = heap.pop();
    if (first === undefined || last === undefined || heap.length === 0) return first;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return first;
  }
}

/** Inserts `entry` into `list`, kept in ready order (lists of one key's waiting entries are short). */
export function insertRanked<T extends Ranked>(list: T[], entry: T): void {
  let index = list.length;
  while (index > 0 && before(entry, list[index - 1]!)) index--;
  list.splice(index, 0, entry);
}
