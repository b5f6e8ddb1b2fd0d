// A TCP relay that holds every client→server chunk for a fixed time (order kept): a network round trip
// made visible. Used to count a transaction's round trips and to benchmark it over a slower link.
import net from 'node:net';

export interface DelayingRelay {
  /** `target` with its host and port replaced by the relay's. */
  readonly url: string;
  close(): Promise<void>;
}

export async function delayingRelay(target: string, delayMs: number): Promise<DelayingRelay> {
  const parsed = new URL(target);
  const [targetHost, targetPort] = [parsed.hostname, Number(parsed.port)];
  const sockets = new Set<net.Socket>();
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
    client.on('data', (chunk) =>
      setTimeout(() => {
        if (!upstream.destroyed) upstream.write(chunk);
      }, delayMs),
    );
    upstream.on('data', (chunk) => client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  parsed.hostname = '127.0.0.1';
  parsed.port = String((server.address() as net.AddressInfo).port);
  return {
    url: parsed.toString(),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
