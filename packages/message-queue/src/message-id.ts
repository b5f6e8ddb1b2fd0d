import { randomFillSync } from 'node:crypto';

/** ASCII codes of the hex digits. */
const hexDigits = Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
/** Random bytes handed out 10 per id (74 of the 80 bits used); refilled in one call when used up. */
const pool = Buffer.alloc(10 * 512);
let poolOffset = pool.length;
/** The id is written here as ASCII and read out as one flat string. */
const scratch = Buffer.alloc(36, '-');

function writeHex(at: number, value: number, digits: number): void {
  for (let index = digits - 1; index >= 0; index--) {
    scratch[at + index] = hexDigits[value & 15]!;
    value >>>= 4;
  }
}

/**
 * A time-ordered message id: an RFC 9562 version 7 UUID whose first 48 bits are `timestamp` (unix ms) and
 * whose other 74 bits are random (cryptographically strong, from a pool refilled by `randomFillSync`).
 * Ours rather than `crypto.randomUUIDv7` (Node >= 24.16 only) so that it embeds exactly the timestamp the
 * message carries.
 */
export function timeOrderedId(timestamp: number): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 10;
  // xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx: time (48 bits), version 7, 12 random bits, variant 10 + 62 random.
  writeHex(0, Math.floor(timestamp / 0x10000), 8);
  writeHex(9, timestamp & 0xffff, 4);
  scratch[14] = hexDigits[7]!;
  writeHex(15, ((pool[at]! << 8) | pool[at + 1]!) & 0xfff, 3);
  writeHex(19, (((pool[at + 2]! << 8) | pool[at + 3]!) & 0x3fff) | 0x8000, 4);
  writeHex(24, (pool[at + 4]! << 16) | (pool[at + 5]! << 8) | pool[at + 6]!, 6);
  writeHex(30, (pool[at + 7]! << 16) | (pool[at + 8]! << 8) | pool[at + 9]!, 6);
  return scratch.toString('latin1', 0, 36);
}

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The unix-ms timestamp in a version 7 UUID, or undefined for any other id. */
export function idTimestamp(id: string): number | undefined {
  if (id.length !== 36 || !uuidV7.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8), 16) * 0x10000 + Number.parseInt(id.slice(9, 13), 16);
}
