import { CacheError } from './errors.ts';
import type { Serializer } from './serializer.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The default serializer: UTF-8 JSON. Values must be JSON-safe (no `undefined` at the top level,
 * no `bigint`, no cycles); `Date`s come back as ISO strings. Use `msgpackSerializer` from
 * `@ballast/cache/msgpack` for binary data, `Date`, `Map`, `Set` and smaller payloads.
 */
export const jsonSerializer: Serializer = {
  name: 'json',
  serialize(value: unknown): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new CacheError('CACHE_SERIALIZATION_FAILED', 'json: value cannot be serialized', {
        cause: error,
      });
    }
    if (text === undefined) {
      throw new CacheError(
        'CACHE_SERIALIZATION_FAILED',
        `json: a value of type ${typeof value} has no JSON representation`,
      );
    }
    return encoder.encode(text);
  },
  deserialize(bytes: Uint8Array): unknown {
    try {
      return JSON.parse(decoder.decode(bytes));
    } catch (error) {
      throw new CacheError('CACHE_SERIALIZATION_FAILED', 'json: bytes are not valid UTF-8 JSON', {
        cause: error,
      });
    }
  },
};
