import { type Attributes, type MeterProvider, metrics } from '@opentelemetry/api';

/** Records every counter add and histogram record, by instrument name. */
export class FakeMeterProvider {
  readonly points = new Map<string, Array<{ value: number; attributes: Attributes }>>();
  readonly gauges = new Map<
    string,
    (result: { observe(value: number, attributes?: Attributes): void }) => void
  >();

  install(): void {
    metrics.disable();
    metrics.setGlobalMeterProvider(this.#provider());
  }

  total(name: string): number {
    return (this.points.get(name) ?? []).reduce((sum, point) => sum + point.value, 0);
  }

  #record(name: string) {
    return (value: number, attributes: Attributes = {}) => {
      const list = this.points.get(name) ?? [];
      list.push({ value, attributes });
      this.points.set(name, list);
    };
  }

  #provider(): MeterProvider {
    const meter = {
      createCounter: (name: string) => ({ add: this.#record(name) }),
      createHistogram: (name: string) => ({ record: this.#record(name) }),
      createObservableGauge: (name: string) => ({
        addCallback: (
          callback: (result: { observe(value: number, attributes?: Attributes): void }) => void,
        ) => this.gauges.set(name, callback),
        removeCallback: () => undefined,
      }),
    };
    return { getMeter: () => meter as never };
  }
}
