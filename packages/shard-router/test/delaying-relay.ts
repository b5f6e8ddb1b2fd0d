// A TCP relay that holds every client→server chunk for a fixed time (order kept): a network round trip
// made visible. Used to count a transaction's round trips and to benchmark it over a slower link.
//
// Round trips are counted from what crosses the relay, not from elapsed time (which a loaded machine
// stretches): each connection records when the client opens an exchange (its first write, or its first
// write after the server answered), and `roundTrips` groups the exchanges opened on any connection into
// waves. Each exchange that waits for an answer opens at least `delayMs` after the one it waited for (the
// relay holds the request that long), while exchanges sent together open within a few milliseconds of
// each other, so a gap of half the delay separates the waves with room to spare either way.
import net from 'node:net';

export interface DelayingRelay {
  /** `target` with its host and port replaced by the relay's. */
  readonly url: string;
  /** `performance.now()` of each exchange a client opened, over every connection through the relay. */
  readonly exchanges: readonly number[];
  close(): Promise<void>;
}

export async function delayingRelay(target: string, delayMs: number): Promise<DelayingRelay> {
  const parsed = new URL(target);
  const [targetHost, targetPort] = [parsed.hostname, Number(parsed.port)];
  const sockets = new Set<net.Socket>();
  const exchanges: number[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      // Like PostgreSQL's own sockets: no Nagle delay (it would stall pipelined answers on delayed ACKs).
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('error', end);
      socket.on('close', () => {
        sockets.delete(socket);
        end();
      });
    }
    // Whether the server wrote since the client's last write: the client's next write opens an exchange.
    let answered = true;
    client.on('data', (chunk) => {
      if (answered) exchanges.push(performance.now());
      answered = false;
      setTimeout(() => {
        if (!upstream.destroyed) upstream.write(chunk);
      }, delayMs);
    });
    upstream.on('data', (chunk) => {
      answered = true;
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  parsed.hostname = '127.0.0.1';
  parsed.port = String((server.address() as net.AddressInfo).port);
  return {
    url: parsed.toString(),
    exchanges,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Round trips `fn` made through `relays` (all with the same `delayMs`): the waves of exchanges opened while
 * it ran, exchanges opened less than `delayMs / 2` after a wave's first one belonging to that wave.
 */
export async function roundTrips(
  relays: readonly DelayingRelay[],
  delayMs: number,
  fn: () => Promise<unknown>,
): Promise<number> {
  const from = relays.map((relay) => relay.exchanges.length);
  await fn();
  const opened = relays
    .flatMap((relay, index) => relay.exchanges.slice(from[index]))
    .sort((left, right) => left - right);
  let waves = 0;
  let waveStart = Number.NEGATIVE_INFINITY;
  for (const at of opened) {
    if (at - waveStart < delayMs / 2) continue;
    waves++;
    waveStart = at;
  }
  return waves;
}
