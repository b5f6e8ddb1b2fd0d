import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdSession } from '../../src/held-session.ts';
import type { ShardDatabase } from '../../src/shard-database.ts';

export interface ShardDatabaseFixture {
  readonly database: ShardDatabase;
  cleanup(): Promise<void>;
}

/** The behaviour every `ShardDatabase` adapter promises; run once per adapter. */
export function describeShardDatabaseConformance(
  name: string,
  create: () => Promise<ShardDatabaseFixture>,
): void {
  describe(`ShardDatabase conformance: ${name}`, () => {
    let fixture: ShardDatabaseFixture;
    beforeEach(async () => {
      fixture = await create();
      await fixture.database.query('DROP TABLE IF EXISTS conformance_items');
      await fixture.database.query('CREATE TABLE conformance_items (id int PRIMARY KEY, label text)');
    });
    afterEach(async () => {
      await fixture.database.query('DROP TABLE IF EXISTS conformance_items');
      await fixture.cleanup();
    });

    it('runs parameterized statements and reports row counts', async () => {
      const inserted = await fixture.database.query(
        'INSERT INTO conformance_items VALUES ($1, $2), ($3, $4)',
        [1, 'a', 2, 'b'],
      );
      expect(inserted.rowCount).toBe(2);
      const { rows } = await fixture.database.query<{ label: string }>(
        'SELECT label FROM conformance_items WHERE id = $1',
        [2],
      );
      expect(rows).toEqual([{ label: 'b' }]);
    });

    it('keeps one session for a whole withConnection call (transactions see their own writes)', async () => {
      await fixture.database.withConnection(async (client) => {
        await client.query('BEGIN');
        await client.query('INSERT INTO conformance_items VALUES ($1, $2)', [3, 'c']);
        const { rows } = await client.query('SELECT count(*)::int AS n FROM conformance_items');
        expect(rows).toEqual([{ n: 1 }]);
        await client.query('ROLLBACK');
      });
      const { rows } = await fixture.database.query('SELECT count(*)::int AS n FROM conformance_items');
      expect(rows).toEqual([{ n: 0 }]);
    });

    it('binds parameters in a server-side cursor and fetches it in batches', async () => {
      for (let id = 1; id <= 5; id++)
        await fixture.database.query('INSERT INTO conformance_items VALUES ($1, $2)', [id, `x${id}`]);
      const session = await holdSession(fixture.database);
      await session.client.query('BEGIN READ ONLY');
      await session.client.query(
        'DECLARE conformance_cursor NO SCROLL CURSOR FOR SELECT id FROM conformance_items WHERE id >= $1 ORDER BY id',
        [2],
      );
      const first = await session.client.query('FETCH FORWARD 2 FROM conformance_cursor');
      const second = await session.client.query('FETCH FORWARD 10 FROM conformance_cursor');
      await session.client.query('COMMIT');
      await session.release();
      expect(first.rows).toEqual([{ id: 2 }, { id: 3 }]);
      expect(second.rows).toEqual([{ id: 4 }, { id: 5 }]);
    });

    it('surfaces SQL errors with the driver error', async () => {
      await expect(fixture.database.query('SELECT * FROM conformance_missing_table')).rejects.toThrow(
        /conformance_missing_table/,
      );
    });
  });
}
