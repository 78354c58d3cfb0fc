/**
 * Coalescing and in-app preferences end to end, on the launched local stack: envelopes
 * published with `@aws-sdk/client-sns`, pushes received by `ws` clients, and the inbox read
 * from the stack's DynamoDB with Herald's own adapters.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCollapseStore } from '#adapters/dynamo-collapse-store';
import { DynamoOwnerInbox } from '#adapters/dynamo-owner-inbox';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { ENV } from '#config/env-names';
import type { Recipient } from '#core/model';
import { type E2e, eventually, startE2e } from '#test/support/e2e';

let e2e: E2e;
let doc: DynamoDBDocumentClient;
const windowBefore = process.env[ENV.collapseWindowMs];

beforeAll(async () => {
  // Twenty SNS publishes one after another, each in its own millisecond so that "the last"
  // is well defined, take about half a second on a quiet machine (the publisher shares its
  // event loop with the whole stack) and longer on a busy one: the assertions hold however
  // many windows the burst spans. The default 200 ms window's semantics are covered by the
  // fan-out's unit tests.
  process.env[ENV.collapseWindowMs] = '2000';
  e2e = await startE2e();
  doc = e2e.doc;
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
  if (windowBefore === undefined) delete process.env[ENV.collapseWindowMs];
  else process.env[ENV.collapseWindowMs] = windowBefore;
});

const user = (userId: string): Recipient => ({ kind: 'user', tenant: 'default', userId });

async function inboxOf(userId: string) {
  const inbox = new DynamoOwnerInbox(doc, e2e.stack.tables.notifications);
  return (await inbox.list(user(userId), { limit: 100 })).items;
}

/** Resolves once the clock has moved past the current millisecond. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe('coalescing, end to end', () => {
  it('turns 20 envelopes published in a burst with one collapseKey into one push per window, the last carrying the last revision', async () => {
    // A first push warms the pipeline (JIT, connections), so the burst is timed as in use.
    const warm = await e2e.connect('grace');
    await e2e.publish({ id: 'evt-warm', type: 'post.updated', to: { users: ['grace'] } });
    await eventually(() => expect(warm.notifications()).toHaveLength(1));

    const client = await e2e.connect('carol');
    for (let seq = 1; seq <= 20; seq++) {
      // SNS stamps each publish to the millisecond: one each, so "the last" is well defined.
      await nextMillisecond();
      await e2e.publish({
        id: `evt-collapse-${seq}`,
        type: 'post.updated',
        to: { users: ['carol'] },
        title: `Revision ${seq}`,
        data: { seq },
        collapseKey: 'post.42',
      });
    }

    // What holds at any speed: the burst spreads over one window on a quiet machine and over
    // a few on a busy one, but each window is one push of its latest envelope, and the last
    // push carries the last revision. Every envelope is through once the slot settled with
    // the last of them; by then the inbox holds every window's entry.
    const slots = new DynamoCollapseStore(doc, e2e.stack.tables.notifications);
    await eventually(async () => {
      const slot = await slots.read({ recipient: user('carol'), collapseKey: 'post.42' });
      expect(slot).toMatchObject({
        kind: 'settled',
        latest: { envelope: { id: 'evt-collapse-20' } },
      });
    });
    await eventually(() =>
      expect(client.notifications().at(-1)).toMatchObject({
        eventId: 'evt-collapse-20',
        title: 'Revision 20',
        data: { seq: 20 },
      }),
    );
    const pushed = client.notifications();
    const revisions = pushed.map((notification) => (notification.data as { seq: number }).seq);
    // Far fewer pushes than envelopes, in publish order, none twice.
    expect(pushed.length).toBeLessThan(20);
    expect(revisions).toEqual([...new Set(revisions)].sort((a, b) => a - b));
    // One inbox entry per window, and it is the very notification that window pushed.
    const stored = await inboxOf('carol');
    expect(stored.map((notification) => notification.id).reverse()).toEqual(
      pushed.map((notification) => notification.id),
    );
  });

  it('neither pushes nor stores a type the user turned off in-app', async () => {
    const preferences = new DynamoPreferenceStore(doc, e2e.stack.tables.notifications);
    await preferences.putUser('default', 'dave', {
      types: { 'digest.weekly': { inapp: false } },
    });
    const dave = await e2e.connect('dave');
    const erin = await e2e.connect('erin');

    await e2e.publish({
      id: 'evt-muted-1',
      type: 'digest.weekly',
      to: { users: ['dave', 'erin'] },
      title: 'Your week',
    });
    // Erin has no such preference: her push shows the envelope was handled.
    await eventually(() => expect(erin.notifications()).toHaveLength(1));
    await e2e.publish({
      id: 'evt-control-1',
      type: 'comment.created',
      to: { users: ['dave'] },
      title: 'A comment',
    });
    await eventually(() => expect(dave.notifications()).toHaveLength(1));

    expect(dave.notifications()[0]).toMatchObject({ eventId: 'evt-control-1' });
    expect((await inboxOf('dave')).map((notification) => notification.eventId)).toEqual([
      'evt-control-1',
    ]);
    expect((await inboxOf('erin')).map((notification) => notification.eventId)).toEqual([
      'evt-muted-1',
    ]);
  });
});
