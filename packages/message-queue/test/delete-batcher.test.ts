import { describe, expect, it } from 'vitest';
import { type DeleteBatchCall, DeleteBatcher } from '../src/adapters/delete-batcher.ts';

const asError = (error: unknown, entry: { readonly message: string | undefined }) =>
  new Error(`not deleted: ${entry.message ?? String(error)}`);

describe('DeleteBatcher', () => {
  it('sends the deletes of one turn as batches of at most 10', async () => {
    const calls: string[][] = [];
    const call: DeleteBatchCall = async (entries) => {
      calls.push(entries.map((entry) => entry.ReceiptHandle));
      return { Successful: entries.map((entry) => ({ Id: entry.Id })) };
    };
    const batcher = new DeleteBatcher(call, asError);
    await Promise.all(Array.from({ length: 25 }, (_, n) => batcher.delete(`r${n}`)));
    expect(calls.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(calls.flat()).toEqual(Array.from({ length: 25 }, (_, n) => `r${n}`));
  });

  it('rejects exactly the entries SQS refused and resolves the others', async () => {
    const batcher = new DeleteBatcher(
      async (entries) => ({
        Successful: entries.filter((entry) => entry.ReceiptHandle !== 'r1').map((e) => ({ Id: e.Id })),
        Failed: entries
          .filter((entry) => entry.ReceiptHandle === 'r1')
          .map((e) => ({ Id: e.Id, Message: 'ReceiptHandleIsInvalid' })),
      }),
      asError,
    );
    const results = await Promise.allSettled(['r0', 'r1', 'r2'].map((handle) => batcher.delete(handle)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      message: 'not deleted: ReceiptHandleIsInvalid',
    });
  });

  it('rejects every entry of a call that failed, and an entry missing from the reply', async () => {
    let first = true;
    const batcher = new DeleteBatcher(async (entries) => {
      if (first) {
        first = false;
        throw new Error('socket hang up');
      }
      return { Successful: entries.slice(1).map((e) => ({ Id: e.Id })) };
    }, asError);
    const failed = await Promise.allSettled([batcher.delete('a'), batcher.delete('b')]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    const partial = await Promise.allSettled([batcher.delete('c'), batcher.delete('d')]);
    expect(partial.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
  });
});
