export {
  FakePgServer,
  type FakePgServerOptions,
  type FakePgSession,
  type FakeQueryHandler,
} from './fake-pg-server.ts';
