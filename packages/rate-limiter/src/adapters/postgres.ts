export {
  type PostgresQueryable,
  PostgresStore,
  type PostgresStoreOptions,
} from '../postgres/postgres-store.ts';
