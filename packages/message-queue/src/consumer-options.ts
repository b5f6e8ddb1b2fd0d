import { type BackoffOptions, type ResolvedBackoff, resolveBackoff } from './backoff.ts';
import { invalidOption } from './errors.ts';

export interface ConsumerOptions {
  /** Consumer group: each group receives every message; consumers in one group share the work. @default 'default' */
  readonly group?: string | undefined;
  /** Handlers running at once. Messages with the same key still run one at a time, in order. @default 10 */
  readonly concurrency?: number | undefined;
  /** Unsettled messages the broker may hand over at once. @default concurrency * 2 */
  readonly prefetch?: number | undefined;
  /** Deliveries before a failing message goes to the dead-letter queue (1 = no retry). @default 3 */
  readonly maxAttempts?: number | undefined;
  /** Delay between attempts. @default { initialDelayMs: 200, maxDelayMs: 60000, multiplier: 2, jitter: 0.5 } */
  readonly backoff?: BackoffOptions | undefined;
  /** A handler running longer than this is aborted (its signal fires) and counts as failed. @default 300000 */
  readonly handlerTimeoutMs?: number | undefined;
  /** How long a delivery stays invisible to other consumers; renewed every half of it while the handler runs. @default 30000 */
  readonly leaseMs?: number | undefined;
  /** Keep per-key order (messages with a key run one at a time per key). @default true */
  readonly ordered?: boolean | undefined;
}

export interface ResolvedConsumerOptions {
  readonly group: string;
  readonly concurrency: number;
  readonly prefetch: number;
  readonly maxAttempts: number;
  readonly backoff: ResolvedBackoff;
  readonly handlerTimeoutMs: number;
  readonly leaseMs: number;
  readonly ordered: boolean;
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw invalidOption(name, `an integer between 1 and ${max}`, value);
  }
  return value;
}

export function resolveConsumerOptions(options: ConsumerOptions = {}): ResolvedConsumerOptions {
  const group = options.group ?? 'default';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(group)) {
    throw invalidOption('group', '1-64 characters of A-Z a-z 0-9 . _ -', group);
  }
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 10, 10_000);
  const prefetch = positiveInteger('prefetch', options.prefetch ?? concurrency * 2, 65_535);
  return {
    group,
    concurrency,
    prefetch,
    maxAttempts: positiveInteger('maxAttempts', options.maxAttempts ?? 3, 1_000),
    backoff: resolveBackoff(options.backoff),
    handlerTimeoutMs: positiveInteger('handlerTimeoutMs', options.handlerTimeoutMs ?? 300_000),
    leaseMs: positiveInteger('leaseMs', options.leaseMs ?? 30_000),
    ordered: options.ordered ?? true,
  };
}
