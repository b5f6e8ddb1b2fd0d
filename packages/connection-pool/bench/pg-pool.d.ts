// pg-pool ships no types; it is the class `pg.Pool` is built from, so it takes @types/pg's shape.
declare module 'pg-pool' {
  import type { Pool } from 'pg';

  const PgPoolAnchor: typeof Pool;
  export default PgPoolAnchor;
}
