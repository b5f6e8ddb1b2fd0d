// Two-phase commit on real shards across both clusters: crashes of the coordinator and of each participant.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { backendUrl } from '@ballast-internal/backends';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgShardDatabase } from '../src/adapters/pg.ts';
import { PostgresCoordinatorLog } from '../src/coordinator-log.ts';
import type { RecoveryReport } from '../src/recovery.ts';
import type { ShardDatabase } from '../src/shard-database.ts';
import type { ShardInfo, ShardMap } from '../src/shard-map.ts';
import { ShardRouter } from '../src/shard-router.ts';
import { gidLiteral, type TransactionPhase } from '../src/two-phase-commit.ts';
import { createPgShards, type PgShardSet } from './pg-shards.ts';

const accountsPerShard = 5;
const initialBalance = 1000;
let set: PgShardSet;
let meta: ShardDatabase;
let log: PostgresCoordinatorLog;
let router: ShardRouter;
let map: ShardMap;

/** Account `n` lives on shard `n mod 4` (directory strategy keyed by `acct:<n>`). */
const shardOf = (account: number): string => `s0${account % 4}`;
const key = (account: number): string => `acct:${account}`;

beforeAll(async () => {
  set = await createPgShards(
    4,
    backendUrl('BALLAST_PG_PRIMARY_URL'),
    backendUrl('BALLAST_PG_SECONDARY_URL'),
    'sr_2pc',
  );
  meta = createPgShardDatabase({ connectionString: set.metaUrl, maxConnections: 2 });
  log = new PostgresCoordinatorLog({ database: meta });
  await log.ensureSchema();
  const entries: Record<string, string> = {};
  for (let account = 0; account < accountsPerShard * 4; account++) entries[key(account)] = shardOf(account);
  map = { epoch: 1, shards: set.shards, strategy: { kind: 'directory', entries } };
  // The log only serves transactions prepared by earlier versions (see the last test); new ones do without it.
  router = await ShardRouter.open({ map, connect: set.connect, coordinatorLog: log });
  await router.migrate({
    id: 'accounts',
    up: ['CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)'],
  });
});

beforeEach(async () => {
  await router.scatter('TRUNCATE accounts');
  for (let account = 0; account < accountsPerShard * 4; account++) {
    await router.query(key(account), 'INSERT INTO accounts VALUES ($1, $2)', [account, initialBalance]);
  }
});

afterAll(async () => {
  await router?.close();
  await meta?.close();
  await set?.drop();
});

async function total(): Promise<number> {
  const result = await router.scatterAggregate('SELECT sum(balance) AS total FROM accounts', [], {
    columns: { total: 'sum' },
  });
  return result.rows[0]!.total as number;
}

async function balance(account: number): Promise<number> {
  const { rows } = await router.query<{ balance: string }>(
    key(account),
    'SELECT balance FROM accounts WHERE id = $1',
    [account],
  );
  return Number(rows[0]!.balance);
}

/** The decision the holder shard of `txid` (the shard of the transfer's sender) has on record. */
async function decisionOn(account: number, txid: string): Promise<string | undefined> {
  const { rows } = await router
    .database(shardOf(account))
    .query<{ decision: string }>(
      'SELECT decision FROM ballast_shard_router.transaction_decisions WHERE txid = $1',
      [txid],
    );
  return rows[0]?.decision;
}

async function preparedLeft(): Promise<number> {
  const result = await router.scatter<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_prepared_xacts WHERE database = current_database()',
  );
  return result.rows.reduce((sum, row) => sum + row.n, 0);
}

function transfer(from: number, to: number, amount: number) {
  return async (tx: Parameters<Parameters<ShardRouter['transaction']>[0]>[0]) => {
    await tx.query(key(from), 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', [amount, from]);
    await tx.query(key(to), 'UPDATE accounts SET balance = balance + $1 WHERE id = $2', [amount, to]);
  };
}

/** Runs the coordinator script in a child process, SIGKILLs it once it stalls at `phase`; returns its txid. */
async function crashCoordinatorAt(
  phase: TransactionPhase,
  from: number,
  to: number,
  amount: number,
): Promise<string> {
  const script = fileURLToPath(new URL('./fixtures/crash-coordinator.ts', import.meta.url));
  const config = {
    map,
    urls: Object.fromEntries(set.urls),
    from: { key: key(from), account: from },
    to: { key: key(to), account: to },
    amount,
  };
  const child = spawn(process.execPath, [script, phase, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  );
  const txid = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`coordinator never stalled: ${output} ${errors}`)),
      20_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /STALLED (\w+) (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[2]!);
      }
    });
    child.on('exit', () => reject(new Error(`coordinator exited early: ${output} ${errors}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return txid;
}

describe('two-phase commit on PostgreSQL', () => {
  it('keeps the sum invariant across concurrent cross-shard transfers and leaves nothing prepared', async () => {
    const outcomes: string[] = [];
    router.on('transaction.end', ({ outcome, twoPhase }) =>
      outcomes.push(`${twoPhase ? '2pc' : '1pc'}:${outcome}`),
    );
    // Waves of 3 concurrent transfers on disjoint accounts: each shard pool has 3 connections, and a
    // cross-shard lock cycle is only broken by the transaction timeout (see Limits in the README).
    for (let wave = 0; wave < 4; wave++) {
      await Promise.all(
        [0, 1, 2].map((slot) => {
          const from = slot * 2 + (wave % 2) * 6;
          return router.transaction(transfer(from, from + 1 + (wave > 1 ? 2 : 0), 10 + wave));
        }),
      );
    }
    expect(await total()).toBe(initialBalance * 20);
    expect(outcomes.filter((outcome) => outcome === '2pc:committed').length).toBeGreaterThan(0);
    expect(await preparedLeft()).toBe(0);
    expect(await balance(0)).toBe(initialBalance - 10 - 12);
  });

  it('coordinator killed after PREPARE, before the decision: recovery rolls the transfer back', async () => {
    const txid = await crashCoordinatorAt('prepared', 0, 1, 100);
    // The receiver is prepared; the sender (the holder) had the commit record in its open transaction,
    // which died with the coordinator's connection.
    expect(await preparedLeft()).toBe(1);
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect(report.rolledBack).toEqual([expect.stringContaining(`:${txid}:${shardOf(0)}:${shardOf(1)}`)]);
    expect(report.committed).toEqual([]);
    expect(await preparedLeft()).toBe(0);
    expect([await balance(0), await balance(1)]).toEqual([initialBalance, initialBalance]);
    expect(await total()).toBe(initialBalance * 20);
    // The abort recovery recorded stays: a coordinator coming back late cannot commit any more.
    expect(await decisionOn(0, txid)).toBe('abort');
  });

  it('coordinator killed after the decision, before COMMIT PREPARED: recovery commits the transfer', async () => {
    const txid = await crashCoordinatorAt('decided', 2, 3, 250);
    expect(await preparedLeft()).toBe(1);
    expect(await decisionOn(2, txid)).toBe('commit');
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect(report.committed).toEqual([expect.stringContaining(`:${txid}:`)]);
    expect(await preparedLeft()).toBe(0);
    expect([await balance(2), await balance(3)]).toEqual([initialBalance - 250, initialBalance + 250]);
    expect(await total()).toBe(initialBalance * 20);
    expect(await decisionOn(2, txid)).toBeUndefined(); // committed everywhere: forgotten
  });

  it('recovery leaves young prepared transactions alone (a live coordinator may still decide)', async () => {
    const txid = await crashCoordinatorAt('prepared', 4, 5, 5);
    const early = await router.recoverTransactions({ minAgeMs: 60_000 });
    expect(early.rolledBack).toEqual([]);
    expect(await preparedLeft()).toBe(1);
    const late = await router.recoverTransactions({ minAgeMs: 0 });
    expect(late.rolledBack.filter((gid) => gid.includes(txid))).toHaveLength(1);
    expect(await preparedLeft()).toBe(0);
  });

  it('recovery racing a live coordinator waits for the holder, then follows its commit (first writer wins)', async () => {
    const [from, to] = [12, 13];
    let recovery: Promise<RecoveryReport> | undefined;
    let settledEarly = false;
    const racer = await ShardRouter.open({
      map,
      connect: set.connect,
      dangerouslyOnTransactionPhase: async (phase) => {
        if (phase !== 'prepared') return;
        recovery = router.recoverTransactions({ minAgeMs: 0 });
        void recovery.finally(() => {
          settledEarly = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        // Its abort record waits on the holder's uncommitted commit record.
        expect(settledEarly).toBe(false);
      },
    });
    const outcomes: string[] = [];
    racer.on('transaction.end', ({ outcome }) => outcomes.push(outcome));
    try {
      await racer.transaction(transfer(from, to, 15));
    } finally {
      await racer.close();
    }
    const report = await recovery!;
    expect(report.rolledBack).toEqual([]);
    expect(report.failed).toEqual([]);
    // Recovery commits the receiver unless the coordinator's COMMIT PREPARED got there first.
    expect(report.committed.length).toBeLessThanOrEqual(1);
    expect(outcomes).toEqual(['committed']);
    expect(await preparedLeft()).toBe(0);
    expect([await balance(from), await balance(to)]).toEqual([initialBalance - 15, initialBalance + 15]);
    expect(await total()).toBe(initialBalance * 20);
  });

  it('a coordinator whose transaction recovery already aborted cannot commit it', async () => {
    const [from, to] = [14, 15];
    const late = await ShardRouter.open({ map, connect: set.connect });
    const error = await late
      .transaction(async (tx) => {
        await transfer(from, to, 20)(tx);
        // Recovery got there first (as while this coordinator was paused): abort is on record.
        await router
          .database(shardOf(from))
          .query(
            `INSERT INTO ballast_shard_router.transaction_decisions (txid, decision) VALUES ($1, 'abort')`,
            [tx.txid],
          );
      })
      .catch((caught: unknown) => caught)
      .finally(() => late.close());
    expect(error).toMatchObject({ code: 'SHARD_TRANSACTION_FAILED', retryable: true });
    expect(await preparedLeft()).toBe(0);
    expect([await balance(from), await balance(to)]).toEqual([initialBalance, initialBalance]);
  });

  it('a failed statement the callback swallowed fails the transfer: nothing commits, nothing stays prepared', async () => {
    const [from, to] = [10, 11];
    const error = await router
      .transaction(async (tx) => {
        await tx.query(key(from), 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', [30, from]);
        await tx.query(key(to), 'UPDATE no_such_table SET balance = 0').catch(() => undefined);
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: shardOf(to) });
    expect(await preparedLeft()).toBe(0);
    expect([await balance(from), await balance(to)]).toEqual([initialBalance, initialBalance]);
    expect(await total()).toBe(initialBalance * 20);
  });

  // The routers below have one connection per shard: asking the holder, or retrying COMMIT PREPARED, on a
  // fresh connection must not wait for the broken session still held.
  const onePerShard = (shard: ShardInfo) =>
    createPgShardDatabase({ connectionString: set.urls.get(shard.id)!, maxConnections: 1 });

  it('the sender (holder) killed before its COMMIT: the transfer rolls back, nothing stays prepared', async () => {
    const [from, to] = [6, 7];
    const killer = await ShardRouter.open({
      map,
      connect: onePerShard,
      dangerouslyOnTransactionPhase: async (phase) => {
        if (phase === 'prepared') expect(await set.terminate(shardOf(from))).toBeGreaterThan(0);
      },
    });
    const error = await killer
      .transaction(transfer(from, to, 40))
      .catch((caught: unknown) => caught)
      .finally(() => killer.close());
    expect(error).toMatchObject({ code: 'SHARD_TRANSACTION_FAILED', shardId: shardOf(from) });
    expect(await preparedLeft()).toBe(0);
    expect([await balance(from), await balance(to)]).toEqual([initialBalance, initialBalance]);
    expect(await total()).toBe(initialBalance * 20);
  });

  it('the receiver killed after PREPARE: its prepared transaction survives and is committed', async () => {
    const [from, to] = [6, 7];
    const outcomes: string[] = [];
    const killer = await ShardRouter.open({
      map,
      connect: onePerShard,
      dangerouslyOnTransactionPhase: async (phase) => {
        if (phase === 'prepared') expect(await set.terminate(shardOf(to))).toBeGreaterThan(0);
      },
    });
    killer.on('transaction.end', ({ outcome }) => outcomes.push(outcome));
    try {
      await killer.transaction(transfer(from, to, 40));
    } finally {
      await killer.close();
    }
    expect(outcomes).toEqual(['committed']);
    expect(await preparedLeft()).toBe(0);
    expect([await balance(from), await balance(to)]).toEqual([initialBalance - 40, initialBalance + 40]);
    expect(await total()).toBe(initialBalance * 20);
  });

  for (const side of ['sender', 'receiver'] as const) {
    it(`${side} killed before PREPARE: the whole transfer rolls back`, async () => {
      const [from, to] = [8, 9];
      const victim = shardOf(side === 'sender' ? from : to);
      const error = await router
        .transaction(async (tx) => {
          await transfer(from, to, 70)(tx);
          await set.terminate(victim);
        })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'SHARD_QUERY_FAILED', shardId: victim });
      await router.recoverTransactions({ minAgeMs: 0 });
      expect(await preparedLeft()).toBe(0);
      expect([await balance(from), await balance(to)]).toEqual([initialBalance, initialBalance]);
      expect(await total()).toBe(initialBalance * 20);
    });
  }

  it('recovers a transaction prepared by an earlier version through the coordinator log', async () => {
    const [from, to] = [16, 17];
    const txid = 'legacy-1';
    const gids: string[] = [];
    for (const [account, delta] of [
      [from, -60],
      [to, 60],
    ] as const) {
      const gid = `ballast_sr:${txid}:${shardOf(account)}`;
      gids.push(gid);
      await router.database(shardOf(account)).withConnection(async (client) => {
        await client.query('BEGIN');
        await client.query('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [delta, account]);
        await client.query(`PREPARE TRANSACTION ${gidLiteral(gid)}`);
      });
    }
    expect(await log.decide(txid, 'commit', [shardOf(from), shardOf(to)])).toBe('commit');
    const report = await router.recoverTransactions({ minAgeMs: 0 });
    expect([...report.committed].sort()).toEqual([...gids].sort());
    expect(await preparedLeft()).toBe(0);
    expect([await balance(from), await balance(to)]).toEqual([initialBalance - 60, initialBalance + 60]);
    const { rows } = await meta.query('SELECT 1 FROM ballast_shard_router.coordinator_log WHERE txid = $1', [
      txid,
    ]);
    expect(rows).toEqual([]);
  });
});
