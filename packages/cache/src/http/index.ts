export { type CacheControlOptions, cacheControl } from './cache-control.ts';
export { createPurgeFanout, type PurgeHook, type PurgeOptions } from './purge-hook.ts';
export { cacheTagHeader, surrogateKeyHeader } from './surrogate-keys.ts';
