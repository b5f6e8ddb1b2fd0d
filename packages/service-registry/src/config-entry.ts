import type { StandardSchemaV1 } from '@standard-schema/spec';
import { BlockingWatch } from './blocking-watch.ts';
import { callSignal, withSignal } from './deadline.ts';
import { RegistryError, unavailable } from './errors.ts';
import type { KeyValueResult, RegistryBackend } from './registry-backend.ts';
import type { ResolvedOptions } from './registry-options.ts';

export interface ConfigOptions<T> {
  /** Any Standard Schema (zod, valibot, arktype...): values are validated on read and before write. */
  readonly schema: StandardSchemaV1<unknown, T>;
  /** The datacenter. @default the agent's own */
  readonly dc?: string | undefined;
}

export interface ConfigWatchOptions {
  /** Called when a stored value fails validation (the last valid value stays current) or the watch fails. */
  readonly onError?: ((error: RegistryError) => void) | undefined;
}

/** A running config watch. */
export interface ConfigSubscription extends AsyncDisposable {
  close(): Promise<void>;
}

/** One typed key in the backend's KV store, stored as JSON. */
export class ConfigEntry<T> {
  readonly key: string;
  readonly #backend: RegistryBackend;
  readonly #options: ResolvedOptions;
  readonly #schema: StandardSchemaV1<unknown, T>;
  readonly #dc: string | undefined;
  readonly #subscriptions: Set<ConfigSubscription>;

  /** @internal created by `ServiceRegistry.config`. */
  constructor(
    key: string,
    config: ConfigOptions<T>,
    backend: RegistryBackend,
    options: ResolvedOptions,
    subscriptions: Set<ConfigSubscription>,
  ) {
    this.key = key;
    this.#schema = config.schema;
    this.#dc = config.dc;
    this.#backend = backend;
    this.#options = options;
    this.#subscriptions = subscriptions;
  }

  /** The current value, validated; undefined when the key does not exist. */
  async get(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<T | undefined> {
    const signal = callSignal(this.#options.operationTimeoutMs, options.signal);
    let result: KeyValueResult;
    try {
      result = await withSignal(
        this.#backend.getKey(this.key, { index: 0, waitMs: 0, signal, dc: this.#dc }),
        signal,
      );
    } catch (cause) {
      throw unavailable(`reading "${this.key}"`, cause);
    }
    return result.value === undefined ? undefined : await this.#parse(result.value);
  }

  /** Validates and stores `value`. Rejects with REGISTRY_CONFIG_INVALID without writing when it does not validate. */
  async set(value: T, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
    const validated = await this.#validate(value);
    const signal = callSignal(this.#options.operationTimeoutMs, options.signal);
    try {
      await withSignal(this.#backend.setKey(this.key, JSON.stringify(validated), signal, this.#dc), signal);
    } catch (cause) {
      throw unavailable(`writing "${this.key}"`, cause);
    }
  }

  async delete(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
    const signal = callSignal(this.#options.operationTimeoutMs, options.signal);
    try {
      await withSignal(this.#backend.deleteKey(this.key, signal, this.#dc), signal);
    } catch (cause) {
      throw unavailable(`deleting "${this.key}"`, cause);
    }
  }

  /**
   * Calls `listener` with the current value, then with every change (undefined when the key is deleted), through
   * a blocking-query watch. Invalid values go to `onError` and are skipped.
   */
  watch(listener: (value: T | undefined) => void, options: ConfigWatchOptions = {}): ConfigSubscription {
    let last: string | undefined | null = null;
    let sequence = 0;
    const report = (error: RegistryError): void => options.onError?.(error);
    const watch = new BlockingWatch<KeyValueResult>({
      operation: `watch of key "${this.key}"`,
      backoff: { baseMs: this.#options.backoffBaseMs, maxMs: this.#options.backoffMaxMs },
      random: this.#options.random,
      readTimeoutMs: Math.ceil(this.#options.watchWaitMs * 1.1) + this.#options.operationTimeoutMs,
      read: (index, signal) =>
        this.#backend.getKey(this.key, { index, waitMs: this.#options.watchWaitMs, signal, dc: this.#dc }),
      onResult: (result) => {
        if (result.value === last) return;
        last = result.value;
        const mine = ++sequence;
        if (result.value === undefined) {
          listener(undefined);
          return;
        }
        this.#parse(result.value).then(
          (value) => {
            if (mine === sequence) listener(value);
          },
          (error: unknown) => report(error as RegistryError),
        );
      },
      onError: (error) => report(error),
      onReset: () => undefined,
    });
    watch.start();
    const subscription: ConfigSubscription = {
      close: async () => {
        this.#subscriptions.delete(subscription);
        await watch.close();
      },
      [Symbol.asyncDispose]: () => subscription.close(),
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async #parse(raw: string): Promise<T> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (cause) {
      throw new RegistryError('REGISTRY_CONFIG_INVALID', `"${this.key}" does not hold JSON`, { cause });
    }
    return await this.#validate(parsed);
  }

  async #validate(value: unknown): Promise<T> {
    const result = await this.#schema['~standard'].validate(value);
    if (result.issues !== undefined) {
      const detail = result.issues.map((issue) => issue.message).join('; ');
      throw new RegistryError('REGISTRY_CONFIG_INVALID', `"${this.key}" is invalid: ${detail}`, {
        cause: result.issues,
      });
    }
    return result.value;
  }
}
