import type { CoordinatorLog, Decision } from '../coordinator-log.ts';

/** An in-process coordinator log (not durable: for unit tests of code that runs transactions). */
export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly decisions = new Map<string, { decision: Decision; participants: readonly string[] }>();

  async decide(txid: string, decision: Decision, participants: readonly string[]): Promise<Decision> {
    const existing = this.decisions.get(txid);
    if (existing !== undefined) return existing.decision;
    this.decisions.set(txid, { decision, participants });
    return decision;
  }

  async forget(txids: readonly string[]): Promise<void> {
    for (const txid of txids) this.decisions.delete(txid);
  }
}
