import { invalidArgument } from './errors.ts';

/** One `ORDER BY` term of a scatter-gather query. */
export interface OrderByColumn {
  /** Result column name (a plain SQL identifier). */
  readonly column: string;
  /** @default 'asc' */
  readonly direction?: 'asc' | 'desc' | undefined;
  /**
   * How values compare while merging. `'auto'`: numbers, bigints and Dates by value, strings by code
   * unit (the router sorts shards with `COLLATE "C"` so they agree); `'numeric'`: strings from
   * `bigint`/`numeric` columns compared as numbers. @default 'auto'
   */
  readonly type?: 'auto' | 'numeric' | 'text' | undefined;
}

export type RowComparator<R> = (a: R, b: R) => number;

function compareNumericStrings(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (x !== y) return x < y ? -1 : 1;
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) {
    const p = BigInt(a);
    const q = BigInt(b);
    return p < q ? -1 : p > q ? 1 : 0;
  }
  return 0;
}

/** Compares two non-null column values the way the shards sorted them. */
export function compareValues(a: unknown, b: unknown, type: 'auto' | 'numeric' | 'text' = 'auto'): number {
  if (type === 'numeric') {
    if (typeof a === 'string' && typeof b === 'string') return compareNumericStrings(a, b);
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A row comparator matching PostgreSQL's `ORDER BY` (NULLS LAST ascending, NULLS FIRST descending). */
export function rowComparator<R extends object>(orderBy: readonly OrderByColumn[]): RowComparator<R> {
  if (orderBy.length === 0) throw invalidArgument('orderBy needs at least one column');
  const terms = orderBy.map((term) => ({
    column: term.column,
    sign: term.direction === 'desc' ? -1 : 1,
    type: term.type ?? 'auto',
  }));
  return (a, b) => {
    for (const { column, sign, type } of terms) {
      const x = (a as Record<string, unknown>)[column];
      const y = (b as Record<string, unknown>)[column];
      const xNull = x === null || x === undefined;
      const yNull = y === null || y === undefined;
      if (xNull || yNull) {
        if (xNull && yNull) continue;
        return (xNull ? 1 : -1) * sign;
      }
      const order = compareValues(x, y, type);
      if (order !== 0) return order * sign;
    }
    return 0;
  };
}

/** A source of sorted rows, pulled in batches. An empty batch means the source is exhausted. */
export interface SortedSource<R> {
  nextBatch(): Promise<readonly R[]>;
}

interface Head<R> {
  row: R;
  batch: readonly R[];
  index: number;
  source: number;
}

/**
 * Streaming k-way merge: holds one batch per source and a binary heap of their heads; pulls the next
 * batch of a source only when its head is consumed. Stable across sources (ties go to the lower source).
 */
export async function* mergeSorted<R>(
  sources: readonly SortedSource<R>[],
  compare: RowComparator<R>,
): AsyncGenerator<R> {
  const heap: Head<R>[] = [];
  const less = (a: Head<R>, b: Head<R>): boolean => {
    const order = compare(a.row, b.row);
    return order < 0 || (order === 0 && a.source < b.source);
  };
  const push = (head: Head<R>): void => {
    heap.push(head);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!less(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  };
  const siftDown = (): void => {
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && less(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && less(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
      index = smallest;
    }
  };
  const first = await Promise.all(sources.map((source) => source.nextBatch()));
  first.forEach((batch, source) => {
    if (batch.length > 0) push({ row: batch[0]!, batch, index: 0, source });
  });
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.row;
    top.index++;
    if (top.index < top.batch.length) {
      top.row = top.batch[top.index]!;
    } else {
      const batch = await sources[top.source]!.nextBatch();
      if (batch.length === 0) {
        const last = heap.pop()!;
        if (heap.length === 0) return;
        heap[0] = last;
        siftDown();
        continue;
      }
      top.batch = batch;
      top.index = 0;
      top.row = batch[0]!;
    }
    siftDown();
  }
}
