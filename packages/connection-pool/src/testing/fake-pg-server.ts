import type {
  PgClientConstructor,
  PgClientLike,
  PgConnectionConfig,
  PgQueryCallback,
  PgQueryConfig,
  PgQueryResult,
} from '../pg/pg-client.ts';

/** Answers one statement on the fake server; return rows (or throw to fail the query). */
export type FakeQueryHandler = (
  text: string,
  values: readonly unknown[],
  session: FakePgSession,
) => unknown[];

export interface FakePgServerOptions {
  /** Name shown in `log` entries and errors. @default 'fake' */
  readonly name?: string | undefined;
  /** Answers statements other than BEGIN, COMMIT, ROLLBACK, SET, DEALLOCATE and `SELECT 1`. @default one `{ ok: 1 }` row */
  readonly handler?: FakeQueryHandler | undefined;
  /** Delay before each answer. @default 0 */
  readonly queryDelayMs?: number | undefined;
  /** Delay before a connection is accepted. @default 0 */
  readonly connectDelayMs?: number | undefined;
  /** Replication lag this server reports (for replica health checks). @default 0 */
  readonly lagMs?: number | undefined;
}

export interface FakePgSession {
  readonly id: number;
  readonly inTransaction: boolean;
}

interface Pending {
  reject(error: Error): void;
}

/**
 * An in-process stand-in for a PostgreSQL server with fault switches: refuse connections (`down`), kill every
 * session (`killSessions`, like a restart), slow queries, fail the next N queries. `server.Client` is a
 * `pg.Client`-shaped class to pass as `PgPool`'s `Client` option, so tests and demos need no database.
 */
export class FakePgServer {
  readonly name: string;
  /** Refuse new connections (ECONNREFUSED), like a stopped server. */
  down = false;
  queryDelayMs: number;
  connectDelayMs: number;
  lagMs: number;
  handler: FakeQueryHandler;
  /** Connection attempts, including refused ones. */
  connectAttempts = 0;
  /** The most statements one session had in flight at once (above 1 only for clients in pipeline mode). */
  peakInFlight = 0;
  /** Statements received, in order (the last 1000). */
  readonly log: string[] = [];
  readonly #sessions = new Set<FakeClient>();
  #failNext = 0;
  #nextId = 1;
  readonly Client: PgClientConstructor;

  constructor(options: FakePgServerOptions = {}) {
    this.name = options.name ?? 'fake';
    this.queryDelayMs = options.queryDelayMs ?? 0;
    this.connectDelayMs = options.connectDelayMs ?? 0;
    this.lagMs = options.lagMs ?? 0;
    this.handler = options.handler ?? (() => [{ ok: 1 }]);
    const server = this;
    this.Client = class extends FakeClient {
      constructor(config: PgConnectionConfig) {
        super(server, config);
      }
    };
  }

  /** Open sessions (like `count(*) FROM pg_stat_activity`). */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Make the next `count` statements fail with a SQL error (code 'XX000'). */
  failNextQueries(count: number): void {
    this.#failNext = count;
  }

  /** Ends every session at once with a connection error, as a server restart does. */
  killSessions(): void {
    for (const session of [...this.#sessions])
      session.terminate(new Error('Connection terminated unexpectedly'));
  }

  /** @internal */
  attach(client: FakeClient): number {
    this.#sessions.add(client);
    return this.#nextId++;
  }

  /** @internal */
  detach(client: FakeClient): void {
    this.#sessions.delete(client);
  }

  /** @internal */
  answer(text: string, values: readonly unknown[], session: FakePgSession): PgQueryResult {
    this.log.push(text);
    if (this.log.length > 1000) this.log.shift();
    if (this.#failNext > 0) {
      this.#failNext--;
      throw Object.assign(new Error(`fake server "${this.name}": injected failure`), { code: 'XX000' });
    }
    const command = text.trim().split(/\s+/)[0]!.toUpperCase();
    if (['BEGIN', 'COMMIT', 'ROLLBACK', 'SET', 'DEALLOCATE'].includes(command)) {
      return { rows: [], rowCount: null, command };
    }
    if (text === 'SELECT 1') return { rows: [{ '?column?': 1 }], rowCount: 1, command: 'SELECT' };
    if (text.includes('pg_is_in_recovery')) {
      return { rows: [{ lag_ms: this.lagMs }], rowCount: 1, command: 'SELECT' };
    }
    const rows = this.handler(text, values, session);
    return { rows: rows as Record<string, unknown>[], rowCount: rows.length, command };
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

class FakeClient implements PgClientLike {
  readonly #server: FakePgServer;
  readonly #listeners = { error: new Set<(error: Error) => void>(), end: new Set<() => void>() };
  readonly #pending = new Set<Pending>();
  #id = 0;
  #state: 'new' | 'open' | 'ended' = 'new';
  #inTransaction = false;
  /** `pipeline: true` in the config: statements are answered one after another, in the order written. */
  readonly #pipeline: boolean;
  #tail: Promise<unknown> = Promise.resolve();
  #inFlight = 0;
  /** Mirrors pg's internals that the pool touches (socket cut, parse cache). */
  readonly connection = {
    stream: { destroy: () => this.terminate(new Error('Connection terminated')) },
    parsedStatements: {} as Record<string, unknown>,
  };

  constructor(server: FakePgServer, config: PgConnectionConfig) {
    this.#server = server;
    this.#pipeline = typeof config === 'object' && config.pipeline === true;
  }

  async connect(): Promise<void> {
    this.#server.connectAttempts++;
    await delay(this.#server.connectDelayMs);
    if (this.#state === 'ended') throw new Error('Connection terminated');
    if (this.#server.down) {
      this.#state = 'ended';
      throw Object.assign(new Error(`connect ECONNREFUSED (fake server "${this.#server.name}")`), {
        code: 'ECONNREFUSED',
      });
    }
    this.#state = 'open';
    this.#id = this.#server.attach(this);
  }

  query(config: PgQueryConfig, callback: PgQueryCallback): void;
  query(text: string, values: readonly unknown[] | undefined, callback: PgQueryCallback): void;
  query(
    configOrText: PgQueryConfig | string,
    valuesOrCallback: readonly unknown[] | undefined | PgQueryCallback,
    textFormCallback?: PgQueryCallback,
  ): void {
    const config =
      typeof configOrText === 'string'
        ? { text: configOrText, values: valuesOrCallback as readonly unknown[] | undefined }
        : configOrText;
    const callback = (
      typeof configOrText === 'string' ? textFormCallback : valuesOrCallback
    ) as PgQueryCallback;
    this.#query(config).then(
      (result) => callback(null, result),
      (error: Error) => callback(error),
    );
  }

  async #query(config: PgQueryConfig): Promise<PgQueryResult> {
    if (this.#state !== 'open')
      throw new Error('Client has encountered a connection error and is not queryable');
    let entry: Pending | undefined;
    const pending = new Promise<never>((_resolve, reject) => {
      entry = { reject };
      this.#pending.add(entry);
    });
    pending.catch(() => undefined);
    const previous = this.#pipeline ? this.#tail : undefined;
    this.#inFlight++;
    if (this.#inFlight > this.#server.peakInFlight) this.#server.peakInFlight = this.#inFlight;
    const work = (async () => {
      if (previous !== undefined) await previous.catch(() => undefined);
      await delay(this.#server.queryDelayMs);
      if (this.#state !== 'open') throw new Error('Connection terminated unexpectedly');
      const result = this.#server.answer(config.text, config.values ?? [], {
        id: this.#id,
        inTransaction: this.#inTransaction,
      });
      if (result.command === 'BEGIN') this.#inTransaction = true;
      if (result.command === 'COMMIT' || result.command === 'ROLLBACK') this.#inTransaction = false;
      if (config.name !== undefined) this.connection.parsedStatements[config.name] = config.text;
      return result;
    })();
    if (this.#pipeline) this.#tail = work;
    try {
      return await Promise.race([work, pending]);
    } finally {
      this.#inFlight--;
      this.#pending.delete(entry!);
    }
  }

  async end(): Promise<void> {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#server.detach(this);
    for (const listener of this.#listeners.end) listener();
  }

  on(event: 'error' | 'end', listener: ((error: Error) => void) & (() => void)): this {
    this.#listeners[event].add(listener);
    return this;
  }

  /** @internal The session dies: in-flight queries fail, an idle client gets an `error` event. */
  terminate(error: Error): void {
    if (this.#state === 'ended') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'ended';
    this.#server.detach(this);
    const busy = this.#pending.size > 0;
    for (const pending of this.#pending) pending.reject(error);
    this.#pending.clear();
    if (wasOpen && !busy) for (const listener of this.#listeners.error) listener(error);
    for (const listener of this.#listeners.end) listener();
  }
}
