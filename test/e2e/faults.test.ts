/**
 * Faults on demand, end to end: the local stack with every fault of a FaultPlan on at once
 * (@connections 429/500/slow, DynamoDB throttling, SES errors, handler crashes and overruns)
 * still delivers each notification to a live `ws` client, into the inbox exactly once with an
 * exact badge, and mails each recipient once. Only eventual outcomes are asserted.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDirectory } from '#adapters/dynamo-directory';
import type { FaultPlan } from '#local/faults/fault-plan';
import { type E2e, eventually, inboxEventIds, queuesEmpty, startE2e } from '#test/support/e2e';

const FAULTS: FaultPlan = {
  connections: { throttleRate: 0.1, errorRate: 0.1, slowRate: 0.1, slowMs: 200 },
  dynamodb: { throttleRate: 0.1 },
  ses: { errorRate: 0.2 },
  handlers: { crashRate: 0.1, overrunRate: 0.1 },
  /**
   * A seed whose dice inject every kind of fault within the requests this test is sure to
   * make: the fan-out's first invocation crashes and its second overruns, the first 8 posts
   * to @connections meet a 429, a 500 and a slow answer, one of the first 5 DynamoDB
   * data-plane requests is throttled and one of the first 2 sends to SES fails.
   */
  seed: 696,
};

let e2e: E2e;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  // A failed batch returns in seconds rather than AWS's 180.
  e2e = await startE2e({ faults: FAULTS, visibilityTimeoutSeconds: 5 });
  doc = e2e.doc;
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

async function mailedWith(subject: string): Promise<string[]> {
  const response = await fetch(`${e2e.stack.urls.ses}/store`);
  const store = (await response.json()) as {
    emails: Array<{ subject: string; destination: { to: string[] } }>;
  };
  return store.emails
    .filter((mail) => mail.subject === subject)
    .flatMap((mail) => mail.destination.to);
}

describe('the local stack under every fault at once', () => {
  it('delivers each notification, stores it once, counts it exactly and mails once', async () => {
    const user = 'faults-alice';
    const client = await e2e.connect(user);
    const ids = Array.from({ length: 8 }, (_, i) => `faults-${i}`);
    for (const id of ids) {
      await e2e.publish({ id, type: 'comment.created', to: { users: [user] }, title: id });
    }
    const mailed = ['faults-ann', 'faults-ben'];
    const directory = new DynamoDirectory(doc, e2e.stack.tables.notifications);
    for (const name of mailed)
      await directory.rememberEmail('default', name, `${name}@example.com`);
    await e2e.publish({
      id: 'faults-mail',
      type: 'comment.created',
      to: { users: mailed },
      title: 'Under faults',
      channels: ['email'],
    });

    const { fanOut, email } = e2e.stack.queues;
    await eventually(async () => {
      expect(new Set(await inboxEventIds(e2e, user))).toEqual(new Set(ids));
      expect((await mailedWith('Under faults')).length).toBeGreaterThanOrEqual(2);
      await queuesEmpty(e2e.sqs, [
        fanOut.url,
        fanOut.deadLetterUrl,
        email.url,
        email.deadLetterUrl,
      ]);
    }, 240_000);

    expect((await inboxEventIds(e2e, user)).sort()).toEqual([...ids].sort());
    expect(await e2e.getJson('/notifications/unread-count', user)).toMatchObject({
      unread: ids.length,
    });
    // A push the gateway refused is not retried by every design; each id reached the client.
    const pushed = client.notifications().map((note) => String(note.eventId));
    expect(new Set(pushed)).toEqual(new Set(ids));
    expect((await mailedWith('Under faults')).sort()).toEqual(
      mailed.map((name) => `${name}@example.com`).sort(),
    );
    // Every kind of fault was really injected.
    const injected = e2e.stack.injectedFaults();
    for (const [fault, count] of Object.entries(injected)) {
      expect({ fault, injected: count > 0 }).toEqual({ fault, injected: true });
    }
  }, 300_000);
});
