/** Starting and stopping the local stack's Node servers, one way for all of them. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `port` (0: a free one) and resolves with the port taken; rejects on e.g. EADDRINUSE. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** A `stop()` that closes the server once, however often it is called. */
export function closerOf(server: Server): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      // SDK clients keep sockets alive; close() alone would wait for them to time out.
      server.closeAllConnections();
    });
    return stopped;
  };
}
