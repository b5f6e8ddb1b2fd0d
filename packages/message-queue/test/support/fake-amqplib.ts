/**
 * An amqplib stand-in for `vi.mock('amqplib', ...)`: a connection whose channels declare topology without
 * a broker. A test passes what its confirm channel (publishing) and plain channel (consuming) do beyond
 * that; the factory must import this file dynamically (`vi.mock` is hoisted above static imports).
 */
export function fakeAmqplib(channels: {
  readonly confirm?: Record<string, unknown>;
  readonly plain?: Record<string, unknown>;
}) {
  const channelBase = () => ({
    on: () => undefined,
    assertExchange: async () => ({}),
    assertQueue: async () => ({}),
    bindQueue: async () => ({}),
    close: async () => undefined,
  });
  return {
    connect: async () => ({
      on: () => undefined,
      close: async () => undefined,
      createConfirmChannel: async () => ({ ...channelBase(), ...channels.confirm }),
      createChannel: async () => ({ ...channelBase(), ...channels.plain }),
    }),
  };
}
