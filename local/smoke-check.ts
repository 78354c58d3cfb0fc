/**
 * The smoke test's checks, against any Herald (a deployed stack or the local one): a socket
 * opened with the token, then one envelope published to the topic and one put through
 * EventBridge, each expected as a push on the socket and as an entry of the HTTP inbox. It
 * cleans up after itself: the notifications it made are deleted and the socket closed, on
 * failure too.
 */
import { randomUUID } from 'node:crypto';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { identityFromClaims } from '#core/identity';
import { putEnvelope } from './eventbridge-put';

export interface SmokeTarget {
  /** The stage URL (`wss://…/live`, or the local `ws://…`); `?token=` is added. */
  websocketUrl: string;
  /** The HTTP API's base URL; `notifications` is resolved against it. */
  httpApiUrl: string;
  token: string;
  sns: SNSClient;
  topicArn: string;
  /** Also through EventBridge when given. */
  eventBridge?: { client: EventBridgeClient; busName?: string };
  /** How long each push and inbox entry may take to show up. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SmokeResult {
  /** Each path checked, with what it took (publish to push), for the report. */
  paths: Array<{ path: 'sns' | 'eventbridge'; eventId: string; pushMs: number }>;
  /** Notifications made and then deleted. */
  cleanedUp: number;
}

/** The source the smoke test puts events with: one the open rule takes. */
export const SMOKE_SOURCE = 'herald.smoke';
const DEFAULT_TIMEOUT_MS = 30_000;

export async function runSmoke(target: SmokeTarget): Promise<SmokeResult> {
  const log = target.log ?? (() => undefined);
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { userId, tenant } = identityFromClaims(decodeJwt(target.token));
  const made: string[] = [];
  const result: SmokeResult = { paths: [], cleanedUp: 0 };
  const socket = await openSocket(target.websocketUrl, target.token);
  const frames: Array<Record<string, unknown>> = [];
  socket.on('message', (data) => {
    try {
      frames.push(JSON.parse(data.toString()) as Record<string, unknown>);
    } catch {
      // Not a frame of Herald's; the checks below look only for theirs.
    }
  });
  log(`connected as ${userId} (tenant ${tenant})`);

  const paths: Array<['sns' | 'eventbridge', (envelope: object) => Promise<unknown>]> = [
    [
      'sns',
      (envelope) =>
        target.sns.send(
          new PublishCommand({ TopicArn: target.topicArn, Message: JSON.stringify(envelope) }),
        ),
    ],
  ];
  const { eventBridge } = target;
  if (eventBridge) {
    paths.push([
      'eventbridge',
      (envelope) =>
        putEnvelope(eventBridge.client, envelope, {
          source: SMOKE_SOURCE,
          busName: eventBridge.busName,
        }),
    ]);
  }

  try {
    for (const [path, publish] of paths) {
      const eventId = `smoke-${path}-${randomUUID()}`;
      const envelope = {
        id: eventId,
        type: 'herald.smoke',
        tenant,
        to: { users: [userId] },
        title: `Herald smoke test (${path})`,
      };
      const sentAt = Date.now();
      await publish(envelope);
      const pushed = await waitFor(
        () => notificationsIn(frames).find((each) => each.eventId === eventId),
        timeoutMs,
        `no push of ${eventId} (${path}) within ${timeoutMs / 1000} s`,
      );
      const pushMs = Date.now() - sentAt;
      made.push(String(pushed.id));
      log(`${path}: pushed in ${pushMs} ms`);
      await waitFor(
        async () => (await inboxEventIds(target)).includes(eventId) || undefined,
        timeoutMs,
        `${eventId} (${path}) is not in the HTTP inbox`,
      );
      log(`${path}: listed by GET /notifications`);
      result.paths.push({ path, eventId, pushMs });
    }
  } finally {
    socket.close();
    for (const id of made) {
      const response = await api(target, 'DELETE', `notifications/${encodeURIComponent(id)}`);
      if (response.ok) result.cleanedUp += 1;
      else log(`could not delete notification ${id}: HTTP ${response.status}`);
    }
  }
  return result;
}

function openSocket(stageUrl: string, token: string): Promise<WebSocket> {
  const url = new URL(stageUrl);
  url.searchParams.set('token', token);
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`the WebSocket refused the token: HTTP ${response.statusCode}`)),
    );
    socket.once('error', reject);
  });
}

function notificationsIn(frames: Array<Record<string, unknown>>) {
  return frames
    .filter((frame) => frame.type === 'notification')
    .map((frame) => frame.notification as { id: string; eventId: string });
}

async function inboxEventIds(target: SmokeTarget): Promise<string[]> {
  const response = await api(target, 'GET', 'notifications?limit=50');
  if (!response.ok) throw new Error(`GET /notifications answered HTTP ${response.status}`);
  const page = (await response.json()) as { items: Array<{ eventId: string }> };
  return page.items.map((item) => item.eventId);
}

function api(target: SmokeTarget, method: string, path: string): Promise<Response> {
  const base = target.httpApiUrl.endsWith('/') ? target.httpApiUrl : `${target.httpApiUrl}/`;
  return fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${target.token}` },
  });
}

/** Polls `find` until it gives a value; fails with `message` after `timeoutMs`. */
async function waitFor<T>(
  find: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  message: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
