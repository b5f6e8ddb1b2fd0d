/** One line of `bench/results.json` (see CONVENTIONS: ratio > 1 means we are ahead of the anchor). */
export interface ResultRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly anchor: string;
  readonly anchorValue: number;
  readonly ratio: number;
  /** The ratio the issue asks for, or 'report' when there is none. */
  readonly goal: number | 'report';
}

export type Direction = 'lower-is-better' | 'higher-is-better';

/** Builds a row, computing the ratio so that above 1 always means ours is better. */
export function compare(
  name: string,
  unit: string,
  ours: number,
  anchor: string,
  anchorValue: number,
  direction: Direction,
  goal: number | 'report',
): ResultRow {
  const ratio = direction === 'lower-is-better' ? anchorValue / ours : ours / anchorValue;
  return { name, value: ours, unit, anchor, anchorValue, ratio, goal };
}
