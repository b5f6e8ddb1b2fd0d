import { describe, expect, it } from 'vitest';
import { QueueError } from '../src/errors.ts';

describe('QueueError', () => {
  it('carries a stable code, the cause and retryable', () => {
    const cause = new Error('socket closed');
    const error = new QueueError('QUEUE_CONNECTION_LOST', 'lost', { cause, retryable: true });
    expect(error.code).toBe('QUEUE_CONNECTION_LOST');
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(true);
    expect(error.name).toBe('QueueError');
    expect(new QueueError('QUEUE_CLOSED', 'closed').retryable).toBe(false);
  });

  it('recognises errors from another copy of the package by the global symbol marker', () => {
    const foreign = { [Symbol.for('ballast.message-queue.error')]: true, code: 'QUEUE_CLOSED' };
    expect(QueueError.isInstance(foreign)).toBe(true);
    expect(QueueError.isInstance(new QueueError('QUEUE_CLOSED', 'x'))).toBe(true);
    expect(QueueError.isInstance(new Error('plain'))).toBe(false);
    expect(QueueError.isInstance({ [Symbol.for('ballast.cache.error')]: true })).toBe(false);
    expect(QueueError.isInstance(null)).toBe(false);
  });
});
