/**
 * Local SES: aws-ses-v2-local, started in-process. It takes SES v1 `SendEmail` (what Herald's
 * mailer sends) at `/`, shows a mail viewer at `/` and the sent mail as JSON at `/store`.
 * Its mail store is module-global: every server started in one process shares it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sesLocal from 'aws-ses-v2-local';
import { closerOf } from './server-lifecycle';
import { urlHost } from './url-host';

export interface SesServer {
  /** Base URL: the SES endpoint, the viewer at `/`, sent mail at `/store`. */
  url: string;
  stop(): Promise<void>;
}

/** The package is CommonJS: seen from ESM its server function sits on the default export's `default`. */
type StartServer = (config?: { host?: string; port?: number }) => Promise<Server>;
const startServer: StartServer =
  (sesLocal as unknown as { default?: StartServer }).default ??
  (sesLocal as unknown as StartServer);

export async function startSesServer(options: { port: number; host?: string }): Promise<SesServer> {
  const host = options.host ?? '127.0.0.1';
  const server = await startServer({ port: options.port, host });
  // Express 5 hands a listen error (e.g. EADDRINUSE) to the callback, so the package resolves anyway.
  if (!server.listening) {
    throw new Error(`SES emulator could not listen on ${host}:${options.port}`);
  }
  const { port } = server.address() as AddressInfo;
  return { url: `http://${urlHost(host)}:${port}`, stop: closerOf(server) };
}
