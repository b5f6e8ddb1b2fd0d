import { PGlite } from '@electric-sql/pglite';

/** One embedded PostgreSQL per test file (starting one takes seconds); shards live in schemas of it. */
let shared: PGlite | undefined;

export function sharedPglite(): PGlite {
  shared ??= new PGlite();
  return shared;
}

export async function closeSharedPglite(): Promise<void> {
  await shared?.close();
  shared = undefined;
}
