import type { StorePenalty } from './store.ts';

/** Violation and block bookkeeping of one key (plain data: stores keep it in memory or in a document). */
export interface PenaltyRecord {
  violations: number;
  violationsUntil: number;
  level: number;
  levelUntil: number;
  blockedUntil: number;
}

export function emptyPenaltyRecord(): PenaltyRecord {
  return { violations: 0, violationsUntil: 0, level: 0, levelUntil: 0, blockedUntil: 0 };
}

/** Counts one rejection; returns the block duration when it triggers a block, else 0. Mutates `record`. */
export function recordViolation(record: PenaltyRecord, penalty: StorePenalty, now: number): number {
  if (record.violationsUntil <= now) {
    record.violations = 0;
    record.violationsUntil = now + penalty.withinMs;
  }
  record.violations++;
  if (record.violations < penalty.violations) return 0;
  if (record.levelUntil <= now) record.level = 0;
  record.level++;
  record.levelUntil = now + penalty.levelResetMs;
  record.violations = 0;
  record.violationsUntil = 0;
  const blockMs = Math.floor(
    Math.min(penalty.blockMs * penalty.multiplier ** (record.level - 1), penalty.maxBlockMs),
  );
  record.blockedUntil = now + blockMs;
  return blockMs;
}
