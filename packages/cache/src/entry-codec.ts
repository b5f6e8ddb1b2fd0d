import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  deflateRawSync,
  inflateRawSync,
} from 'node:zlib';
import type { CacheEntry } from './cache-entry.ts';
import { CacheError, invalidOption } from './errors.ts';
import { jsonSerializer } from './json-serializer.ts';
import type { Serializer } from './serializer.ts';

/**
 * Wire format (version 1), all numbers little-endian:
 *
 * ```
 * byte 0        header: high nibble = format version (1), bits 3-2 reserved (0),
 *               bits 1-0 = compression of the body (0 none, 1 deflate-raw, 2 brotli)
 * body          (compressed as a whole when the header says so)
 *   f64 x 4     createdAt, staleAt, expiresAt, loadMs
 *   u16         tag count, then per tag: u16 byte length + UTF-8 bytes
 *   rest        the value, as produced by the serializer
 * ```
 */
const formatVersion = 1;
const compressionMask = 0b11;
const reservedMask = 0b1100;
const fixedBodyBytes = 4 * 8 + 2;
const maxU16 = 0xffff;

/** How a body larger than `compressAboveBytes` is compressed. */
export type EntryCompression = 'deflate' | 'brotli';

const compressionIds = { none: 0, deflate: 1, brotli: 2 } as const;

export interface EntryCodecOptions {
  /** Turns values into bytes. @default jsonSerializer */
  readonly serializer?: Serializer | undefined;
  /**
   * Compress the body when it is larger than this many bytes (kept only when it gets smaller).
   * `undefined` turns compression off.
   * @default undefined (off)
   */
  readonly compressAboveBytes?: number | undefined;
  /**
   * The algorithm. deflate (level 1) is several times faster than brotli for a few percent of size;
   * see the package README's codec figures.
   * @default 'deflate'
   */
  readonly compression?: EntryCompression | undefined;
  /** Refuse to inflate a compressed body past this size (guards against corrupt or hostile bytes). @default 67108864 (64 MiB) */
  readonly maxDecompressedBytes?: number | undefined;
}

/** Encodes a `CacheEntry` into the bytes stored in L2, and back. */
export interface EntryCodec {
  readonly serializer: Serializer;
  encode(entry: CacheEntry): Uint8Array;
  /** Throws `CacheError` `CACHE_SERIALIZATION_FAILED` on bytes it did not produce. */
  decode(bytes: Uint8Array): CacheEntry;
}

const tagDecoder = new TextDecoder('utf-8', { fatal: true });

function corrupt(reason: string, cause?: unknown): CacheError {
  return new CacheError('CACHE_SERIALIZATION_FAILED', `entry codec: ${reason}`, { cause });
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Creates the codec the cache uses for L2 values. */
export function createEntryCodec(options: EntryCodecOptions = {}): EntryCodec {
  const serializer = options.serializer ?? jsonSerializer;
  const compressAboveBytes = options.compressAboveBytes;
  const compression = options.compression ?? 'deflate';
  const maxDecompressedBytes = options.maxDecompressedBytes ?? 64 * 1024 * 1024;
  if (
    typeof serializer !== 'object' ||
    typeof serializer.serialize !== 'function' ||
    typeof serializer.deserialize !== 'function'
  ) {
    throw invalidOption('serializer', 'an object with serialize() and deserialize()', serializer);
  }
  if (compressAboveBytes !== undefined && !isNonNegativeInteger(compressAboveBytes)) {
    throw invalidOption('compressAboveBytes', 'an integer >= 0 or undefined', compressAboveBytes);
  }
  if (compression !== 'deflate' && compression !== 'brotli') {
    throw invalidOption('compression', "'deflate' or 'brotli'", compression);
  }
  if (!isNonNegativeInteger(maxDecompressedBytes) || maxDecompressedBytes === 0) {
    throw invalidOption('maxDecompressedBytes', 'an integer > 0', maxDecompressedBytes);
  }

  const compress = (body: Uint8Array): Uint8Array =>
    compression === 'brotli'
      ? brotliCompressSync(body, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 4,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
          },
        })
      : deflateRawSync(body, { level: 1 });

  function encode(entry: CacheEntry): Uint8Array {
    let value: Uint8Array;
    try {
      value = serializer.serialize(entry.value);
    } catch (error) {
      if (CacheError.isInstance(error)) throw error;
      throw corrupt(`the ${serializer.name} serializer rejected the value`, error);
    }
    const tags = entry.tags;
    if (tags.length > maxU16) throw corrupt(`an entry carries at most ${maxU16} tags; got ${tags.length}`);
    let tagBytes = 0;
    for (const tag of tags) tagBytes += 2 + Buffer.byteLength(tag, 'utf8');
    const bodyLength = fixedBodyBytes + tagBytes + value.byteLength;
    const out = Buffer.allocUnsafe(1 + bodyLength);
    out[0] = formatVersion << 4;
    let offset = out.writeDoubleLE(entry.createdAt, 1);
    offset = out.writeDoubleLE(entry.staleAt, offset);
    offset = out.writeDoubleLE(entry.expiresAt, offset);
    offset = out.writeDoubleLE(entry.loadMs, offset);
    offset = out.writeUInt16LE(tags.length, offset);
    for (const tag of tags) {
      const length = out.write(tag, offset + 2, 'utf8');
      if (length > maxU16) throw corrupt(`a tag is at most ${maxU16} bytes; got ${length}`);
      out.writeUInt16LE(length, offset);
      offset += 2 + length;
    }
    out.set(value, offset);
    if (compressAboveBytes === undefined || bodyLength <= compressAboveBytes) return out;
    const packed = compress(out.subarray(1));
    if (packed.byteLength >= bodyLength) return out;
    const compressed = Buffer.allocUnsafe(1 + packed.byteLength);
    compressed[0] = (formatVersion << 4) | compressionIds[compression];
    compressed.set(packed, 1);
    return compressed;
  }

  function inflate(kind: number, packed: Uint8Array): Buffer {
    try {
      return kind === compressionIds.brotli
        ? brotliDecompressSync(packed, { maxOutputLength: maxDecompressedBytes })
        : inflateRawSync(packed, { maxOutputLength: maxDecompressedBytes });
    } catch (error) {
      throw corrupt('the compressed body cannot be inflated', error);
    }
  }

  function decode(bytes: Uint8Array): CacheEntry {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength < 1) throw corrupt('empty or non-binary input');
    const header = bytes[0] ?? 0;
    if (header >> 4 !== formatVersion || (header & reservedMask) !== 0) {
      throw corrupt(`unknown header byte 0x${header.toString(16).padStart(2, '0')}`);
    }
    const kind = header & compressionMask;
    if (kind > compressionIds.brotli) throw corrupt(`unknown compression id ${kind}`);
    const raw = bytes.subarray(1);
    const body =
      kind === compressionIds.none
        ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
        : inflate(kind, raw);
    if (body.byteLength < fixedBodyBytes) throw corrupt('truncated envelope');
    const createdAt = body.readDoubleLE(0);
    const staleAt = body.readDoubleLE(8);
    const expiresAt = body.readDoubleLE(16);
    const loadMs = body.readDoubleLE(24);
    if (Number.isNaN(createdAt) || Number.isNaN(staleAt) || Number.isNaN(expiresAt) || Number.isNaN(loadMs)) {
      throw corrupt('a timestamp is not a number');
    }
    const tagCount = body.readUInt16LE(32);
    let offset = fixedBodyBytes;
    const tags: string[] = [];
    for (let index = 0; index < tagCount; index++) {
      if (offset + 2 > body.byteLength) throw corrupt('truncated tag list');
      const length = body.readUInt16LE(offset);
      offset += 2;
      if (offset + length > body.byteLength) throw corrupt('truncated tag');
      try {
        tags.push(tagDecoder.decode(body.subarray(offset, offset + length)));
      } catch (error) {
        throw corrupt('a tag is not valid UTF-8', error);
      }
      offset += length;
    }
    let value: unknown;
    try {
      value = serializer.deserialize(body.subarray(offset));
    } catch (error) {
      if (CacheError.isInstance(error) && error.code === 'CACHE_SERIALIZATION_FAILED') throw error;
      throw corrupt(`the ${serializer.name} serializer rejected the value`, error);
    }
    return { value, createdAt, staleAt, expiresAt, tags, loadMs };
  }

  return { serializer, encode, decode };
}
