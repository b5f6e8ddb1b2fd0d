import type {
  Attributes,
  Meter,
  MeterProvider,
  ObservableCallback,
  ObservableResult,
} from '@opentelemetry/api';

/** Records what the registry reports through `@opentelemetry/api`, without an SDK. */
export class FakeMeterProvider implements MeterProvider {
  readonly recorded: Array<{ name: string; value: number; attributes: Attributes | undefined }> = [];
  readonly #callbacks = new Map<string, Set<ObservableCallback>>();

  getMeter(): Meter {
    const record = (name: string) => (value: number, attributes?: Attributes) => {
      this.recorded.push({ name, value, attributes });
    };
    const observable = (name: string) => ({
      addCallback: (callback: ObservableCallback) => {
        const set = this.#callbacks.get(name) ?? new Set();
        set.add(callback);
        this.#callbacks.set(name, set);
      },
      removeCallback: (callback: ObservableCallback) => this.#callbacks.get(name)?.delete(callback),
    });
    return {
      createHistogram: (name: string) => ({ record: record(name) }),
      createCounter: (name: string) => ({ add: record(name) }),
      createUpDownCounter: (name: string) => ({ add: record(name) }),
      createGauge: (name: string) => ({ record: record(name) }),
      createObservableGauge: observable,
      createObservableCounter: observable,
      createObservableUpDownCounter: observable,
      addBatchObservableCallback: () => undefined,
      removeBatchObservableCallback: () => undefined,
    } as unknown as Meter;
  }

  /** Runs every observable callback of `name` and returns what they observed. */
  async observe(name: string): Promise<Array<{ value: number; attributes: Attributes | undefined }>> {
    const out: Array<{ value: number; attributes: Attributes | undefined }> = [];
    const result: ObservableResult = { observe: (value, attributes) => out.push({ value, attributes }) };
    for (const callback of this.#callbacks.get(name) ?? []) await callback(result);
    return out;
  }

  sum(name: string, attributes: Attributes = {}): number {
    return this.recorded
      .filter(
        (entry) =>
          entry.name === name &&
          Object.entries(attributes).every(([key, value]) => entry.attributes?.[key] === value),
      )
      .reduce((total, entry) => total + entry.value, 0);
  }
}
