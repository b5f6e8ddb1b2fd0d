/** Turns values into bytes for L2 and back. JSON by default; `msgpackSerializer` from `@ballast/cache/msgpack`. */
export interface Serializer {
  readonly name: string;
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}
