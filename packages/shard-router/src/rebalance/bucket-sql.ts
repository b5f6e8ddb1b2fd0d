import type { ShardClient } from '../shard-database.ts';

/**
 * SQL ports of `bucketOf` (see `hash64.ts`): `<schema>.bucket_of(bigint, integer)` hashes a key as an
 * integer, `<schema>.bucket_of(text, integer)` as a string (UTF-16 code units, like JavaScript). They let a
 * shard select, capture and fence the rows of a bucket without shipping every row to the rebalancer.
 * The arithmetic runs on unsigned 32-bit values held in bigint; `imul` is split in 16-bit halves so no
 * product exceeds 2^48.
 */
function imul(a: string, constant: number): string {
  const low = constant & 0xffff;
  const high = constant >>> 16;
  return `((${a}) * ${low} + ((((${a}) * ${high}) & 65535) << 16)) & 4294967295`;
}

const finish = [
  `h1 := ${imul('h1 # (h1 >> 16)', 2246822507)};`,
  `h1 := h1 # (${imul('h2 # (h2 >> 13)', 3266489909)});`,
  `h2 := ${imul('h2 # (h2 >> 16)', 2246822507)};`,
  `h2 := h2 # (${imul('h1 # (h1 >> 13)', 3266489909)});`,
].join('\n  ');

function integerFunction(schema: string): string {
  return `CREATE OR REPLACE FUNCTION ${schema}.bucket_of(key bigint, bucket_count integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  h1 bigint := 3735928559;
  h2 bigint := 1103547991;
  lo bigint := key & 4294967295;
  hi bigint := (key >> 32) & 4294967295;
BEGIN
  h1 := ${imul('h1 # 2654435769', 2654435761)};
  h1 := ${imul('h1 # lo', 2654435761)};
  h2 := ${imul('h2 # lo', 1597334677)};
  h1 := ${imul('h1 # hi', 2654435761)};
  h2 := ${imul('h2 # hi', 1597334677)};
  ${finish}
  RETURN (h2 % bucket_count)::integer;
END $fn$`;
}

function textFunction(schema: string): string {
  return `CREATE OR REPLACE FUNCTION ${schema}.bucket_of(key text, bucket_count integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  h1 bigint := 3735928559;
  h2 bigint := 1103547991;
  units bigint := 0;
  ch text;
  cp bigint;
  unit bigint;
  pair integer;
BEGIN
  FOREACH ch IN ARRAY string_to_array(key, NULL) LOOP
    cp := ascii(ch);
    FOR pair IN 1 .. CASE WHEN cp > 65535 THEN 2 ELSE 1 END LOOP
      IF cp <= 65535 THEN unit := cp;
      ELSIF pair = 1 THEN unit := 55296 + ((cp - 65536) >> 10);
      ELSE unit := 56320 + ((cp - 65536) & 1023);
      END IF;
      h1 := ${imul('h1 # unit', 2654435761)};
      h2 := ${imul('h2 # unit', 1597334677)};
      units := units + 1;
    END LOOP;
  END LOOP;
  h1 := h1 # units;
  ${finish}
  RETURN (h2 % bucket_count)::integer;
END $fn$`;
}

/** Creates (or replaces) both `bucket_of` functions in `schema` (already quoted). */
export async function installBucketFunctions(client: ShardClient, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  for (const statement of [integerFunction(schema), textFunction(schema)]) {
    try {
      await client.query(statement);
    } catch (error) {
      // Concurrent CREATE OR REPLACE of the same function can collide on the catalog; the winner made it.
      if ((error as { code?: unknown }).code !== 'XX000' && (error as { code?: unknown }).code !== '23505')
        throw error;
    }
  }
}
