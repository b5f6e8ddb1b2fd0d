import { describe, expect, it } from 'vitest';
import { aggregateRows } from '../src/aggregate.ts';
import { compareValues, mergeSorted, rowComparator, type SortedSource } from '../src/k-way-merge.ts';

function source<R>(rows: R[], batch: number, pulls: number[] = [], index = 0): SortedSource<R> {
  let at = 0;
  return {
    async nextBatch() {
      pulls[index] = (pulls[index] ?? 0) + 1;
      const next = rows.slice(at, at + batch);
      at += batch;
      return next;
    },
  };
}

async function collect<R>(iterable: AsyncIterable<R>, limit = Number.POSITIVE_INFINITY): Promise<R[]> {
  const out: R[] = [];
  for await (const row of iterable) {
    out.push(row);
    if (out.length >= limit) break;
  }
  return out;
}

describe('k-way merge', () => {
  it('merges sorted shard streams into one sorted stream', async () => {
    const shards = [0, 1, 2].map((shard) => Array.from({ length: 50 }, (_, i) => ({ id: i * 3 + shard })));
    const merged = await collect(
      mergeSorted(
        shards.map((rows) => source(rows, 7)),
        rowComparator([{ column: 'id' }]),
      ),
    );
    expect(merged.map((row) => row.id)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  it('pulls only the batches it needs for a limit (streaming, not fetch-all)', async () => {
    const pulls: number[] = [];
    const shards = [0, 1, 2, 3].map((shard) =>
      Array.from({ length: 1000 }, (_, i) => ({ id: i * 4 + shard })),
    );
    const merged = await collect(
      mergeSorted(
        shards.map((rows, index) => source(rows, 10, pulls, index)),
        rowComparator([{ column: 'id' }]),
      ),
      20,
    );
    expect(merged).toHaveLength(20);
    expect(pulls.every((count) => count <= 2)).toBe(true);
  });

  it('orders descending with NULLS FIRST and ascending with NULLS LAST, like PostgreSQL', () => {
    const rows = [{ v: 2 }, { v: null }, { v: 1 }];
    expect([...rows].sort(rowComparator([{ column: 'v' }])).map((row) => row.v)).toEqual([1, 2, null]);
    expect([...rows].sort(rowComparator([{ column: 'v', direction: 'desc' }])).map((row) => row.v)).toEqual([
      null,
      2,
      1,
    ]);
  });

  it('breaks ties on later columns and compares numeric strings as numbers', () => {
    const compare = rowComparator<{ a: string; b: string }>([
      { column: 'a', type: 'numeric' },
      { column: 'b', direction: 'desc' },
    ]);
    const rows = [
      { a: '10', b: 'x' },
      { a: '9', b: 'y' },
      { a: '10', b: 'z' },
    ];
    expect([...rows].sort(compare)).toEqual([
      { a: '9', b: 'y' },
      { a: '10', b: 'z' },
      { a: '10', b: 'x' },
    ]);
    expect(compareValues('9007199254740993', '9007199254740992', 'numeric')).toBe(1);
    expect(compareValues(new Date(1), new Date(2))).toBeLessThan(0);
  });
});

describe('aggregation over merged rows', () => {
  const partials = [
    { status: 'paid', n: '3', total: '30', lo: 5, hi: 15 },
    { status: 'new', n: '1', total: '7', lo: 7, hi: 7 },
    { status: 'paid', n: '2', total: '10', lo: 2, hi: 8 },
  ];

  it('combines count, sum, min, max and derives avg per group', () => {
    const rows = aggregateRows(partials, {
      groupBy: ['status'],
      columns: { n: 'count', total: 'sum', lo: 'min', hi: 'max' },
      averages: { mean: { sum: 'total', count: 'n' } },
    });
    expect(rows).toEqual([
      { status: 'paid', n: 5, total: 40, lo: 2, hi: 15, mean: 8 },
      { status: 'new', n: 1, total: 7, lo: 7, hi: 7, mean: 7 },
    ]);
  });

  it('returns one zero row for a global aggregate over no rows', () => {
    expect(
      aggregateRows([], { columns: { n: 'count', hi: 'max' }, averages: { mean: { sum: 'n', count: 'n' } } }),
    ).toEqual([{ n: 0, hi: null, mean: null }]);
  });

  it('rejects a non-numeric sum', () => {
    expect(() => aggregateRows([{ n: 'abc' }], { columns: { n: 'sum' } })).toThrow(/not numeric/);
  });
});
