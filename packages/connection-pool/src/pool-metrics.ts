import { type BatchObservableCallback, type Meter, metrics } from '@opentelemetry/api';

/** Counters a pool keeps since construction (also exported as OpenTelemetry metrics). */
export interface PoolStats {
  /** Open connections (idle + used + being validated). */
  readonly total: number;
  readonly used: number;
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly pending: number;
  /** Connections being opened right now. */
  readonly creating: number;
  readonly created: number;
  readonly destroyed: number;
  readonly acquired: number;
  readonly timeouts: number;
  readonly leaks: number;
  readonly createErrors: number;
  /** Idle or busy connections that reported an error on their own and were removed. */
  readonly brokenConnections: number;
}

export interface MutableCounters {
  created: number;
  destroyed: number;
  acquired: number;
  timeouts: number;
  leaks: number;
  createErrors: number;
  brokenConnections: number;
}

export function emptyCounters(): MutableCounters {
  return {
    created: 0,
    destroyed: 0,
    acquired: 0,
    timeouts: 0,
    leaks: 0,
    createErrors: 0,
    brokenConnections: 0,
  };
}

type Instruments = ReturnType<typeof createInstruments>;

function createInstruments(meter: Meter) {
  return {
    count: meter.createObservableUpDownCounter('db.client.connection.count', {
      description: 'The number of connections that are currently in state described by the state attribute',
      unit: '{connection}',
    }),
    pendingRequests: meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
      description: 'The number of current pending requests for an open connection',
      unit: '{request}',
    }),
    maxConnections: meter.createObservableUpDownCounter('db.client.connection.max', {
      description: 'The maximum number of open connections allowed',
      unit: '{connection}',
    }),
    minIdle: meter.createObservableUpDownCounter('db.client.connection.idle.min', {
      description: 'The minimum number of idle open connections allowed',
      unit: '{connection}',
    }),
    timeouts: meter.createCounter('db.client.connection.timeouts', {
      description:
        'The number of connection timeouts that have occurred trying to obtain a connection from the pool',
      unit: '{timeout}',
    }),
    leaks: meter.createCounter('db.client.connection.leaks', {
      description: 'Connections held past leakDetectionThresholdMs (ballast extension)',
      unit: '{connection}',
    }),
    createErrors: meter.createCounter('db.client.connection.create_errors', {
      description: 'Failed attempts to open a connection (ballast extension)',
      unit: '{error}',
    }),
    waitTime: meter.createHistogram('db.client.connection.wait_time', {
      description: 'The time it took to obtain an open connection from the pool',
      unit: 's',
    }),
    createTime: meter.createHistogram('db.client.connection.create_time', {
      description: 'The time it took to create a new connection',
      unit: 's',
    }),
    useTime: meter.createHistogram('db.client.connection.use_time', {
      description: 'The time between borrowing a connection and returning it to the pool',
      unit: 's',
    }),
  };
}

/**
 * Instruments of the global meter provider as it is when a pool is built (not when this module loads), so
 * an OpenTelemetry SDK registered after the import still receives every pool's metrics.
 */
const instrumentsByMeter = new WeakMap<Meter, Instruments>();
function currentInstruments(): { readonly meter: Meter; readonly instruments: Instruments } {
  const meter = metrics.getMeter('@ballast/connection-pool');
  let instruments = instrumentsByMeter.get(meter);
  if (instruments === undefined) {
    instruments = createInstruments(meter);
    instrumentsByMeter.set(meter, instruments);
  }
  return { meter, instruments };
}

/** Records one pool's OpenTelemetry metrics (`db.client.connection.*`); a no-op until an SDK is installed. */
export class PoolMetrics {
  readonly #attributes: { readonly 'db.client.connection.pool.name': string };
  readonly #idleAttributes: Record<string, string>;
  readonly #usedAttributes: Record<string, string>;
  readonly #observe: BatchObservableCallback;

  readonly #enabled: boolean;
  readonly #meter: Meter;
  readonly #i: Instruments;

  constructor(
    poolName: string,
    read: () => PoolStats,
    limits: { readonly min: number; readonly max: number },
    enabled = true,
  ) {
    this.#enabled = enabled;
    const { meter, instruments } = currentInstruments();
    this.#meter = meter;
    this.#i = instruments;
    const { count, pendingRequests, maxConnections, minIdle } = instruments;
    this.#attributes = { 'db.client.connection.pool.name': poolName };
    this.#idleAttributes = { ...this.#attributes, 'db.client.connection.state': 'idle' };
    this.#usedAttributes = { ...this.#attributes, 'db.client.connection.state': 'used' };
    this.#observe = (result) => {
      const stats = read();
      result.observe(count, stats.idle, this.#idleAttributes);
      result.observe(count, stats.used, this.#usedAttributes);
      result.observe(pendingRequests, stats.pending, this.#attributes);
      result.observe(maxConnections, limits.max, this.#attributes);
      result.observe(minIdle, limits.min, this.#attributes);
    };
    if (enabled)
      meter.addBatchObservableCallback(this.#observe, [count, pendingRequests, maxConnections, minIdle]);
  }

  timeout(): void {
    if (this.#enabled) this.#i.timeouts.add(1, this.#attributes);
  }

  leak(): void {
    if (this.#enabled) this.#i.leaks.add(1, this.#attributes);
  }

  createError(): void {
    if (this.#enabled) this.#i.createErrors.add(1, this.#attributes);
  }

  waited(ms: number): void {
    if (this.#enabled) this.#i.waitTime.record(ms / 1000, this.#attributes);
  }

  created(ms: number): void {
    if (this.#enabled) this.#i.createTime.record(ms / 1000, this.#attributes);
  }

  used(ms: number): void {
    if (this.#enabled) this.#i.useTime.record(ms / 1000, this.#attributes);
  }

  close(): void {
    if (this.#enabled)
      this.#meter.removeBatchObservableCallback(this.#observe, [
        this.#i.count,
        this.#i.pendingRequests,
        this.#i.maxConnections,
        this.#i.minIdle,
      ]);
  }
}
