/**
 * The slice of a `pg.Client` this package uses, written structurally so the fake client in `./testing`
 * (and any compatible driver) fits without importing `pg`.
 */
export interface PgQueryConfig {
  readonly text: string;
  readonly values?: readonly unknown[] | undefined;
  /** Named prepared statement. */
  readonly name?: string | undefined;
  /** Client-side read timeout (pg's `query_timeout`). */
  readonly query_timeout?: number | undefined;
}

export interface PgQueryResult<Row = Record<string, unknown>> {
  readonly rows: Row[];
  readonly rowCount: number | null;
  readonly command: string;
}

export type PgQueryCallback = (error: Error | null | undefined, result?: PgQueryResult) => void;

export interface PgClientLike {
  connect(): Promise<unknown>;
  /** Callback form with a config object (named statements, client read timeout). */
  query(config: PgQueryConfig, callback: PgQueryCallback): unknown;
  /** Callback form with text and values, as `pg.Client` takes them (it copies a config object on every call). */
  query(text: string, values: readonly unknown[] | undefined, callback: PgQueryCallback): unknown;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/** A connection string, or the config object `new pg.Client(config)` accepts. */
export type PgConnectionConfig = string | Readonly<Record<string, unknown>>;

export type PgClientConstructor = new (config: PgConnectionConfig) => PgClientLike;

interface ClientInternals {
  readonly connection?: {
    readonly stream?: { destroy(): void } | undefined;
    readonly parsedStatements?: Record<string, unknown> | undefined;
  };
}

/**
 * Sends one statement. Plain statements go as text and values: `pg.Client` copies a config object (property
 * descriptors and all) on every call, a measurable share of a `SELECT 1`; named statements and client-side
 * read timeouts need the config form.
 */
export function sendQuery(client: PgClientLike, config: PgQueryConfig, callback: PgQueryCallback): void {
  if (config.name === undefined && config.query_timeout === undefined)
    client.query(config.text, config.values, callback);
  else client.query(config, callback);
}

/** Cuts the socket at once (pg's `end()` can wait on a dead peer). */
export function cutClient(client: PgClientLike): void {
  (client as unknown as ClientInternals).connection?.stream?.destroy();
}

/** Forgets a named statement in pg's own per-connection parse cache (after `DEALLOCATE`). */
export function forgetParsedStatement(client: PgClientLike, name: string): void {
  const parsed = (client as unknown as ClientInternals).connection?.parsedStatements;
  if (parsed !== undefined) delete parsed[name];
}
