import pg from 'pg';
import { describe, expect, it } from 'vitest';

function requiredEnv(key: string): string {
  const value = process.env[key];
  if (!value) throw new Error(`${key} is not set: run \`./run backends up postgres\` first`);
  return value;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('postgres backend', () => {
  const table = `smoke_${process.pid}_${Date.now()}`;

  it('replicates a write to the replica when the session asks for remote_apply', async () => {
    await withClient(requiredEnv('BALLAST_PG_PRIMARY_URL'), async (primary) => {
      await primary.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text NOT NULL)`);
      await primary.query('SET synchronous_commit = remote_apply');
      await primary.query(`INSERT INTO ${table} VALUES (1, 'round-trip')`);
    });
    try {
      const rows = await withClient(requiredEnv('BALLAST_PG_REPLICA_URL'), async (replica) => {
        const recovery = await replica.query<{ in_recovery: boolean }>(
          'SELECT pg_is_in_recovery() AS in_recovery',
        );
        expect(recovery.rows[0]?.in_recovery).toBe(true);
        return (await replica.query<{ note: string }>(`SELECT note FROM ${table} WHERE id = 1`)).rows;
      });
      expect(rows).toEqual([{ note: 'round-trip' }]);
    } finally {
      await withClient(requiredEnv('BALLAST_PG_PRIMARY_URL'), (primary) =>
        primary.query(`DROP TABLE ${table}`),
      );
    }
  });

  it('commits a prepared transaction on the secondary', async () => {
    await withClient(requiredEnv('BALLAST_PG_SECONDARY_URL'), async (secondary) => {
      const gid = `ballast-smoke-${process.pid}-${Date.now()}`;
      await secondary.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
      try {
        await secondary.query('BEGIN');
        await secondary.query(`INSERT INTO ${table} VALUES (7)`);
        await secondary.query(`PREPARE TRANSACTION '${gid}'`);
        const prepared = await secondary.query('SELECT 1 FROM pg_prepared_xacts WHERE gid = $1', [gid]);
        expect(prepared.rowCount).toBe(1);
        await secondary.query(`COMMIT PREPARED '${gid}'`);
        const rows = await secondary.query<{ id: number }>(`SELECT id FROM ${table}`);
        expect(rows.rows).toEqual([{ id: 7 }]);
      } finally {
        await secondary.query(`DROP TABLE ${table}`);
      }
    });
  });

  it('answers on every node', async () => {
    for (const key of ['BALLAST_PG_PRIMARY_URL', 'BALLAST_PG_REPLICA_URL', 'BALLAST_PG_SECONDARY_URL']) {
      const answer = await withClient(requiredEnv(key), (client) =>
        client.query<{ one: number }>('SELECT 1 AS one'),
      );
      expect(answer.rows[0]?.one).toBe(1);
    }
  });
});
