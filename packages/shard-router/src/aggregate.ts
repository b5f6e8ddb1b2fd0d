import { invalidArgument } from './errors.ts';
import { compareValues } from './k-way-merge.ts';

/** How one partial-aggregate column combines across shards. */
export type AggregateFunction = 'count' | 'sum' | 'min' | 'max';

/**
 * Combines per-shard partial aggregates into global ones. Each shard returns one row per group with
 * the partial columns (`count(*) AS n, sum(total) AS total, min(...) AS lo, ...`); `columns` says how
 * each combines, `averages` derives `avg = sum / count` from two combined columns.
 */
export interface AggregateSpec {
  /** Group-by columns: rows with equal values (by JSON) combine. @default [] (one global group) */
  readonly groupBy?: readonly string[] | undefined;
  /** Partial column → how it combines. `count` and `sum` add up; `min`/`max` keep the extreme. */
  readonly columns: Readonly<Record<string, AggregateFunction>>;
  /** Output column → the combined `sum` and `count` columns it divides. @default {} */
  readonly averages?: Readonly<Record<string, { readonly sum: string; readonly count: string }>> | undefined;
}

function toNumber(value: unknown, column: string): number {
  if (value === null || value === undefined) return 0;
  const number = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(number))
    throw invalidArgument(`aggregate column "${column}" is not numeric: ${String(value)}`);
  return number;
}

/**
 * Group-by over merged rows: count, sum, min, max and avg. Counts and sums come back as numbers
 * (`bigint` and `numeric` strings from `pg` are converted; exact up to 2^53).
 */
export function aggregateRows(rows: readonly object[], spec: AggregateSpec): Array<Record<string, unknown>> {
  const groupBy = spec.groupBy ?? [];
  const groups = new Map<string, Record<string, unknown>>();
  for (const row of rows as ReadonlyArray<Record<string, unknown>>) {
    const key = JSON.stringify(groupBy.map((column) => row[column] ?? null));
    let group = groups.get(key);
    if (group === undefined) {
      group = {};
      for (const column of groupBy) group[column] = row[column] ?? null;
      for (const [column, fn] of Object.entries(spec.columns))
        group[column] = fn === 'count' || fn === 'sum' ? 0 : null;
      groups.set(key, group);
    }
    for (const [column, fn] of Object.entries(spec.columns)) {
      const value = row[column];
      if (fn === 'count' || fn === 'sum') {
        group[column] = (group[column] as number) + toNumber(value, column);
      } else if (value !== null && value !== undefined) {
        const current = group[column];
        const better =
          current === null ||
          current === undefined ||
          compareValues(value, current, 'auto') * (fn === 'min' ? 1 : -1) < 0;
        if (better) group[column] = value;
      }
    }
  }
  if (groups.size === 0 && groupBy.length === 0) {
    const empty: Record<string, unknown> = {};
    for (const [column, fn] of Object.entries(spec.columns))
      empty[column] = fn === 'count' || fn === 'sum' ? 0 : null;
    groups.set('[]', empty);
  }
  const result = [...groups.values()];
  for (const [output, { sum, count }] of Object.entries(spec.averages ?? {})) {
    for (const group of result) {
      const total = group[count] as number;
      group[output] = total === 0 ? null : (group[sum] as number) / total;
    }
  }
  return result;
}
