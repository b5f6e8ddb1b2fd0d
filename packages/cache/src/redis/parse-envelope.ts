import { CacheError } from '../errors.ts';
import type { InvalidationEnvelope, InvalidationMessage } from '../invalidation-bus.ts';

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isMessage(value: unknown): value is InvalidationMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  switch (message.kind) {
    case 'delete':
    case 'expire':
      return isStringArray(message.keys);
    case 'delete-tags':
    case 'expire-tags':
      return isStringArray(message.tags);
    case 'clear':
      return typeof message.prefix === 'string';
    default:
      return false;
  }
}

/** Parses a JSON envelope from the wire; returns a `CACHE_SERIALIZATION_FAILED` error instead of throwing. */
export function parseEnvelope(payload: string): InvalidationEnvelope | CacheError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch (error) {
    return new CacheError('CACHE_SERIALIZATION_FAILED', 'invalidation bus: message is not JSON', {
      cause: error,
    });
  }
  const envelope = parsed as Record<string, unknown> | null;
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof envelope.origin !== 'string' ||
    typeof envelope.sentAt !== 'number' ||
    !isMessage(envelope.message)
  ) {
    return new CacheError('CACHE_SERIALIZATION_FAILED', 'invalidation bus: message is not a valid envelope');
  }
  return { message: envelope.message, origin: envelope.origin, sentAt: envelope.sentAt };
}
