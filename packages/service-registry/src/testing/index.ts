export { FaultyMemoryBackend } from './faulty-memory-backend.ts';
