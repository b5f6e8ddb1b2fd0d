import { describe, expect, it } from 'vitest';
import { msgpackSerializer } from '../src/adapters/msgpack.ts';
import type { CacheEntry } from '../src/cache-entry.ts';
import { createEntryCodec } from '../src/entry-codec.ts';
import { CacheError } from '../src/errors.ts';
import { jsonSerializer } from '../src/json-serializer.ts';

const entry: CacheEntry = {
  value: { id: 7, name: 'Ada', roles: ['admin'], nested: { ok: true } },
  createdAt: 1_700_000_000_000,
  staleAt: 1_700_000_060_000,
  expiresAt: 1_700_000_120_000.5,
  tags: ['users', 'ünïcødé:tag', ''],
  loadMs: 12.25,
};

const bigEntry: CacheEntry = { ...entry, value: { text: 'lorem ipsum dolor sit amet '.repeat(200) } };

function expectSerializationFailure(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(CacheError.isInstance(error)).toBe(true);
    expect((error as CacheError).code).toBe('CACHE_SERIALIZATION_FAILED');
    return;
  }
  throw new Error('expected CACHE_SERIALIZATION_FAILED');
}

describe('createEntryCodec', () => {
  it.each([
    ['json', jsonSerializer],
    ['msgpack', msgpackSerializer],
  ] as const)('round-trips an entry with every field through %s', (_name, serializer) => {
    const codec = createEntryCodec({ serializer });
    expect(codec.decode(codec.encode(entry))).toEqual(entry);
  });

  it('writes a 1-byte header with format version 1 and no compression by default', () => {
    const bytes = createEntryCodec().encode(bigEntry);
    expect(bytes[0]).toBe(0x10);
  });

  it.each(['deflate', 'brotli'] as const)(
    'compresses with %s above the threshold and decodes it back',
    (compression) => {
      const codec = createEntryCodec({ compressAboveBytes: 1024, compression });
      const plainSize = createEntryCodec().encode(bigEntry).byteLength;
      const bytes = codec.encode(bigEntry);
      expect(bytes[0]).toBe(compression === 'deflate' ? 0x11 : 0x12);
      expect(bytes.byteLength).toBeLessThan(plainSize / 4);
      expect(codec.decode(bytes)).toEqual(bigEntry);
      expect(createEntryCodec().decode(bytes)).toEqual(bigEntry);
    },
  );

  it('leaves small bodies uncompressed', () => {
    const bytes = createEntryCodec({ compressAboveBytes: 1024 }).encode(entry);
    expect(bytes[0]).toBe(0x10);
  });

  it('rejects garbage with CACHE_SERIALIZATION_FAILED', () => {
    const codec = createEntryCodec();
    const good = codec.encode(entry);
    expectSerializationFailure(() => codec.decode(new Uint8Array(0)));
    expectSerializationFailure(() => codec.decode(Uint8Array.of(0x20, 1, 2)));
    expectSerializationFailure(() => codec.decode(Uint8Array.of(0x13)));
    expectSerializationFailure(() => codec.decode(good.subarray(0, 20)));
    expectSerializationFailure(() => codec.decode(good.subarray(0, good.byteLength - 3)));
    expectSerializationFailure(() => codec.decode(Uint8Array.of(0x11, 1, 2, 3, 4)));
    const lyingTagCount = Uint8Array.from(good);
    lyingTagCount[33] = 0xff;
    expectSerializationFailure(() => codec.decode(lyingTagCount));
  });

  it('refuses to inflate past maxDecompressedBytes', () => {
    const bytes = createEntryCodec({ compressAboveBytes: 0 }).encode(bigEntry);
    expectSerializationFailure(() => createEntryCodec({ maxDecompressedBytes: 100 }).decode(bytes));
  });

  it('wraps a value the serializer cannot encode', () => {
    const codec = createEntryCodec();
    expectSerializationFailure(() => codec.encode({ ...entry, value: 10n }));
    expectSerializationFailure(() => codec.encode({ ...entry, value: undefined }));
  });

  it('validates its options at construction', () => {
    expect(() => createEntryCodec({ compressAboveBytes: -1 })).toThrow(/compressAboveBytes/);
    expect(() => createEntryCodec({ compression: 'zstd' as 'brotli' })).toThrow(/compression/);
    expect(() => createEntryCodec({ maxDecompressedBytes: 0 })).toThrow(/maxDecompressedBytes/);
  });
});

describe('serializers', () => {
  it('jsonSerializer round-trips JSON values and names the failure', () => {
    const value = { a: [1, 'two', null, { b: false }], c: 'ü' };
    expect(jsonSerializer.deserialize(jsonSerializer.serialize(value))).toEqual(value);
    expectSerializationFailure(() => jsonSerializer.deserialize(Uint8Array.of(0x7b)));
    expectSerializationFailure(() => jsonSerializer.deserialize(Uint8Array.of(0xff, 0xfe)));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectSerializationFailure(() => jsonSerializer.serialize(cyclic));
  });

  it('msgpackSerializer keeps Date, Set, bytes and bigint, and decodes objects as objects', () => {
    const value = {
      at: new Date(5),
      set: new Set([1, 2]),
      bytes: Uint8Array.of(0, 1),
      big: 2n ** 70n,
      obj: { k: 1 },
    };
    expect(msgpackSerializer.deserialize(msgpackSerializer.serialize(value))).toEqual(value);
    expectSerializationFailure(() => msgpackSerializer.deserialize(Uint8Array.of(0x92, 1)));
  });
});
