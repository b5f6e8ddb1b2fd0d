import { evaluate } from './algorithms/evaluate.ts';
import type { LimitOutcome } from './algorithms/outcome.ts';
import { commitSlidingLog, type SlidingLogState } from './algorithms/sliding-log.ts';
import { recordsRejected } from './limit-rule.ts';
import { emptyPenaltyRecord, type PenaltyRecord, recordViolation } from './penalty.ts';
import type { StoreRequest, StoreResult } from './store.ts';

/**
 * Everything a document store keeps for one key, as one JSON-friendly document: the state of each
 * limit and the penalty record. One document per key makes a multi-limit check atomic with a single
 * conditional write (no transactions needed).
 */
export interface KeyDocument {
  limits: Record<string, { state: unknown; expiresAt: number }>;
  penalty?: PenaltyRecord | undefined;
  /** When every part of the document has expired (the sweep deletes it after). */
  expiresAt: number;
}

export interface DocumentDecision {
  readonly result: StoreResult;
  /** The document to write, or undefined when nothing changed. */
  readonly next: KeyDocument | undefined;
}

/** Decides a check on a key's document (undefined: no document yet) at time `now`. Pure. */
export function decideOnDocument(
  document: KeyDocument | undefined,
  request: StoreRequest,
  now: number,
): DocumentDecision {
  const { limits, cost, penalty } = request;
  const penaltyRecord = document?.penalty;
  if (penalty !== undefined && penaltyRecord !== undefined && penaltyRecord.blockedUntil > now) {
    return {
      result: { allowed: false, blockedForMs: penaltyRecord.blockedUntil - now, results: [] },
      next: undefined,
    };
  }
  const outcomes: LimitOutcome[] = [];
  let allowed = true;
  for (const limit of limits) {
    const entry = document?.limits[limit.id];
    const state = entry !== undefined && entry.expiresAt > now ? structuredClone(entry.state) : undefined;
    const outcome = evaluate(state, limit, cost, now);
    if (!outcome.allowed) allowed = false;
    outcomes.push(outcome);
  }
  const next: KeyDocument = {
    limits: { ...(document?.limits ?? {}) },
    penalty: document?.penalty === undefined ? undefined : { ...document.penalty },
    expiresAt: document?.expiresAt ?? 0,
  };
  if (allowed) {
    limits.forEach((limit, index) => {
      const outcome = outcomes[index]!;
      if (limit.algorithm === 'sliding-log') commitSlidingLog(outcome.next as SlidingLogState, cost, now);
      const expiresAt = now + outcome.ttlMs;
      next.limits[limit.id] = { state: outcome.next, expiresAt };
      next.expiresAt = Math.max(next.expiresAt, expiresAt);
    });
    return { result: { allowed, blockedForMs: 0, results: outcomes }, next };
  }
  // Rejected: only the limits that count every request (`count: 'all'`) record the cost; a limit that
  // would have admitted it and recorded nothing reports what it still has.
  let recorded = false;
  limits.forEach((limit, index) => {
    if (!recordsRejected(limit)) return;
    const outcome = outcomes[index]!;
    const expiresAt = now + outcome.ttlMs;
    next.limits[limit.id] = { state: outcome.next, expiresAt };
    next.expiresAt = Math.max(next.expiresAt, expiresAt);
    recorded = true;
  });
  const results = outcomes.map((outcome, index) =>
    outcome.allowed && !recordsRejected(limits[index]!)
      ? { ...outcome, remaining: Math.min(limits[index]!.limit, outcome.remaining + cost) }
      : outcome,
  );
  if (penalty === undefined) {
    return { result: { allowed, blockedForMs: 0, results }, next: recorded ? next : undefined };
  }
  const record = next.penalty ?? emptyPenaltyRecord();
  next.penalty = record;
  const blockedForMs = recordViolation(record, penalty, now);
  next.expiresAt = Math.max(next.expiresAt, record.violationsUntil, record.levelUntil, record.blockedUntil);
  return { result: { allowed, blockedForMs, results }, next };
}
