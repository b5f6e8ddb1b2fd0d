import { invalidOption } from './errors.ts';

export interface PoolSizeInput {
  /** CPU cores of the database server (not of the application). */
  readonly databaseCores: number;
  /** Disks the working set does not fit in memory for; 0 when it is all cached. @default 1 */
  readonly effectiveSpindles?: number | undefined;
  /** Application instances sharing the database; the total is split between them. @default 1 */
  readonly instances?: number | undefined;
}

/**
 * HikariCP's starting point for `max`: `connections = (cores × 2) + effective spindles`, for the whole
 * database, divided across application instances (at least 1 each). Measure, then adjust.
 */
export function recommendedPoolSize(input: PoolSizeInput): number {
  const { databaseCores, effectiveSpindles = 1, instances = 1 } = input;
  if (!Number.isInteger(databaseCores) || databaseCores < 1) {
    throw invalidOption('databaseCores', 'an integer ≥ 1', databaseCores);
  }
  if (!Number.isInteger(effectiveSpindles) || effectiveSpindles < 0) {
    throw invalidOption('effectiveSpindles', 'an integer ≥ 0', effectiveSpindles);
  }
  if (!Number.isInteger(instances) || instances < 1)
    throw invalidOption('instances', 'an integer ≥ 1', instances);
  return Math.max(1, Math.ceil((databaseCores * 2 + effectiveSpindles) / instances));
}
