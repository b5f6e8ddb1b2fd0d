import { QueueError } from './errors.ts';

/** Turns payloads into bytes and back. */
export interface Codec {
  readonly contentType: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON in UTF-8; the default codec. */
export const jsonCodec: Codec = {
  contentType: 'application/json',
  encode(value) {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new QueueError('QUEUE_SERIALIZATION_FAILED', 'payload is not JSON-serializable (undefined)');
    }
    // Buffer.from copies into Node's shared pool: several times cheaper than TextEncoder for small payloads.
    return Buffer.from(text, 'utf8');
  },
  decode(bytes) {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  },
};
