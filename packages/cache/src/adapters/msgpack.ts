import { Packr } from 'msgpackr';
import { CacheError } from '../errors.ts';
import type { Serializer } from '../serializer.ts';

/**
 * Plain MessagePack: no record extension (`useRecords: false`), so the bytes are self-describing and
 * any instance (or another language) can read them without shared structure state. `moreTypes`
 * round-trips typed arrays, `Set`, `Error` and `RegExp`; `Date` and `bigint` are native. Maps are
 * decoded as plain objects (so objects stay objects): a `Map` value comes back as an object.
 */
const packr = new Packr({ useRecords: false, moreTypes: true });

/** MessagePack via msgpackr: smaller and faster than JSON, and keeps `Date`, `Set`, `Uint8Array` and `bigint`. */
export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  serialize(value: unknown): Uint8Array {
    try {
      return packr.pack(value);
    } catch (error) {
      throw new CacheError('CACHE_SERIALIZATION_FAILED', 'msgpack: value cannot be serialized', {
        cause: error,
      });
    }
  },
  deserialize(bytes: Uint8Array): unknown {
    try {
      return packr.unpack(bytes);
    } catch (error) {
      throw new CacheError('CACHE_SERIALIZATION_FAILED', 'msgpack: bytes are not valid MessagePack', {
        cause: error,
      });
    }
  },
};
