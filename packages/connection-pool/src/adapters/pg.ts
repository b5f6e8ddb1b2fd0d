// `@ballast/connection-pool/pg`: PostgreSQL pools on the `pg` driver (an optional peer dependency).
import pg from 'pg';
import type { PgClientConstructor } from '../pg/pg-client.ts';
import { PgPool as BasePgPool, type PgPoolOptions } from '../pg/pg-pool.ts';
import {
  ReplicatedPgPool as BaseReplicatedPgPool,
  type ReplicatedPgPoolOptions,
} from '../pg/replicated-pg-pool.ts';

const defaultClient = pg.Client as unknown as PgClientConstructor;

/** A pool of `pg` clients to one PostgreSQL server. */
export class PgPool extends BasePgPool {
  constructor(options: PgPoolOptions) {
    super(options, defaultClient);
  }
}

/** One primary and N replicas with read/write splitting. */
export class ReplicatedPgPool extends BaseReplicatedPgPool {
  constructor(options: ReplicatedPgPoolOptions) {
    super(options, defaultClient);
  }
}

export type {
  PgClientConstructor,
  PgClientLike,
  PgConnectionConfig,
  PgQueryCallback,
  PgQueryConfig,
  PgQueryResult,
} from '../pg/pg-client.ts';
export type { PgConnection, PgQueryOptions, TransactionIsolation } from '../pg/pg-connection.ts';
export type { PgCallOptions, PgPoolOptions, TransactionOptions } from '../pg/pg-pool.ts';
export type { PgSession } from '../pg/pg-session.ts';
export type { ReplicaEndpoint, ReplicatedPgPoolOptions } from '../pg/replicated-pg-pool.ts';
