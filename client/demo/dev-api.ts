/**
 * The local launcher's development endpoints the page uses: its config (the WebSocket
 * URL), dev tokens, publishing through the local SNS topic, and a demo document that the
 * "document changed" example refetches.
 */

export interface DevConfig {
  websocketUrl: string;
  sesViewerUrl?: string;
}

export interface Me {
  user: string;
  tenant: string;
  topics: string;
}

export interface DemoDocument {
  id: string;
  version: number;
  updatedAt: string;
}

export async function loadConfig(): Promise<DevConfig> {
  const body = await json<Partial<DevConfig>>('GET', '/dev/config');
  if (typeof body.websocketUrl !== 'string') throw new Error('/dev/config has no websocketUrl');
  return { websocketUrl: body.websocketUrl, sesViewerUrl: body.sesViewerUrl };
}

/** Asked again before every reconnect and when an HTTP call's token nears expiry. */
export async function fetchToken({ user, tenant, topics }: Me): Promise<string> {
  const query = new URLSearchParams({ user, tenant, topics });
  const body = await json<{ token?: unknown }>('GET', `/dev/token?${query}`);
  if (typeof body.token === 'string') return body.token;
  throw new Error('/dev/token answered without a token');
}

/** Publishes an envelope through the local SNS topic; the launcher fills in `id` and `type`. */
export async function publish(envelope: Record<string, unknown>): Promise<void> {
  await json('POST', '/dev/publish', envelope);
}

export function getDocument(): Promise<DemoDocument> {
  return json<DemoDocument>('GET', '/dev/document');
}

/** A new version of the demo document, as an app's edit would make. */
export function editDocument(): Promise<DemoDocument> {
  return json<DemoDocument>('POST', '/dev/document');
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    cache: 'no-store',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    const answer = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    const reason = answer.error?.message ?? `HTTP ${response.status}`;
    throw new Error(`${method} ${path.split('?')[0]} failed: ${reason}`);
  }
  return (await response.json()) as T;
}
