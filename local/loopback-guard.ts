/**
 * The local stack's development endpoints (`/dev/*` of the HTTP server, the gateway's
 * `@connections` API) mint tokens, publish and post to any connection with no credential, so
 * they answer only what the developer's own machine asks: a loopback `Host` (which DNS
 * rebinding cannot forge: the browser sends the attacker's name) and no cross-site `Origin`
 * (a page elsewhere that posts to localhost carries its own).
 */
import type { IncomingHttpHeaders } from 'node:http';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostnameOf(host: string): string | undefined {
  try {
    const url = new URL(`http://${host}`);
    // Only a bare host and port: `new URL` would also accept `user@host` or a path.
    return url.host.toLowerCase() === host.toLowerCase() ? url.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Why a request to a dev endpoint is refused (the 403 body's message), or undefined. */
export function localOnlyRefusal(headers: IncomingHttpHeaders): string | undefined {
  const host = headers.host;
  const hostname = host === undefined ? undefined : hostnameOf(host);
  if (host === undefined || hostname === undefined || !LOOPBACK_HOSTS.has(hostname)) {
    return 'development endpoints answer only a loopback Host (localhost, 127.0.0.1, [::1])';
  }
  const origin = headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`.toLowerCase()) {
    return 'development endpoints answer only same-origin requests';
  }
  return undefined;
}
