/**
 * The EventBridge ingress end to end on the launched local stack: `PutEvents` from the real
 * `@aws-sdk/client-eventbridge`, the ingress rules shared with the CDK stack, the topic, the
 * fan-out, and a real `ws` socket and the HTTP inbox at the other end.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HERALD_DETAIL_TYPE } from '#config/eventbridge-ingress';
import { putEnvelope } from '#local/eventbridge-put';
import { type E2e, eventually, inboxEventIds, queuesEmpty, startE2e } from '#test/support/e2e';

let e2e: E2e;
let events: EventBridgeClient;

beforeAll(async () => {
  e2e = await startE2e({ eventSourceTenants: { 'com.acme.billing': 'acme' } });
  events = e2e.events;
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

function envelope(id: string, users: string[], extra: Record<string, unknown> = {}) {
  return { id, type: 'comment.created', to: { users }, title: `title of ${id}`, ...extra };
}

function entry(detail: unknown, overrides: Partial<PutEventsRequestEntry> = {}) {
  return {
    Source: 'herald.test',
    DetailType: HERALD_DETAIL_TYPE,
    Detail: typeof detail === 'string' ? detail : JSON.stringify(detail),
    ...overrides,
  };
}

/** Everything put has been through the fan-out, and nothing was dead-lettered. */
function fanOutDrained(): Promise<void> {
  const { url, deadLetterUrl } = e2e.stack.queues.fanOut;
  return queuesEmpty(e2e.sqs, [url, deadLetterUrl]);
}

describe('EventBridge ingress, end to end', () => {
  it('pushes an envelope put with PutEvents to the socket and stores it in the inbox', async () => {
    const ann = await e2e.connect('eb-ann');
    const eventId = await putEnvelope(events, envelope('evt-eb-1', ['eb-ann']), {
      source: 'herald.test',
    });
    expect(eventId).toMatch(/\S/);

    await eventually(() =>
      expect(ann.notifications()).toEqual([
        expect.objectContaining({ eventId: 'evt-eb-1', title: 'title of evt-eb-1' }),
      ]),
    );
    expect(await inboxEventIds(e2e, 'eb-ann')).toEqual(['evt-eb-1']);
  });

  it('accepts but delivers nothing that no rule matches', async () => {
    const ben = await e2e.connect('eb-ben');
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          entry(envelope('evt-eb-other-type', ['eb-ben']), { DetailType: 'Order Placed' }),
          entry(envelope('evt-eb-other-source', ['eb-ben']), { Source: 'com.example.shop' }),
          entry(envelope('evt-eb-other-bus', ['eb-ben']), { EventBusName: 'another-bus' }),
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    expect(put.Entries?.every((each) => typeof each.EventId === 'string')).toBe(true);
    await putEnvelope(events, envelope('evt-eb-matching', ['eb-ben']));

    await eventually(() =>
      expect(ben.notifications().map((each) => each.eventId)).toContain('evt-eb-matching'),
    );
    await eventually(fanOutDrained, 60_000);
    expect(ben.notifications().map((each) => each.eventId)).toEqual(['evt-eb-matching']);
    expect(await inboxEventIds(e2e, 'eb-ben')).toEqual(['evt-eb-matching']);
  });

  it('lets a source bound to a tenant deliver to that tenant only', async () => {
    const acme = await e2e.connect('eb-cat', { tenant: 'acme' });
    const globex = await e2e.connect('eb-cat', { tenant: 'globex' });
    const bound = { source: 'com.acme.billing' };
    await putEnvelope(events, envelope('evt-eb-globex', ['eb-cat'], { tenant: 'globex' }), bound);
    await putEnvelope(events, envelope('evt-eb-no-tenant', ['eb-cat']), bound);
    await putEnvelope(events, envelope('evt-eb-acme', ['eb-cat'], { tenant: 'acme' }), bound);

    await eventually(() =>
      expect(acme.notifications().map((each) => each.eventId)).toEqual(['evt-eb-acme']),
    );
    await eventually(fanOutDrained, 60_000);
    expect(globex.notifications()).toEqual([]);
    expect(await inboxEventIds(e2e, 'eb-cat')).toEqual([]);
    const acmeInbox = (await e2e.getJson('/notifications', 'eb-cat', { tenant: 'acme' })) as {
      items: Array<{ eventId: string }>;
    };
    expect(acmeInbox.items.map((item) => item.eventId)).toEqual(['evt-eb-acme']);
  });

  it('answers each entry on its own: a malformed detail fails, the entries beside it pass', async () => {
    const dan = await e2e.connect('eb-dan');
    const put = await events.send(
      new PutEventsCommand({
        Entries: [entry('{not json'), entry(envelope('evt-eb-beside', ['eb-dan'])), entry('[]')],
      }),
    );
    expect(put.FailedEntryCount).toBe(2);
    expect(put.Entries?.map((each) => each.ErrorCode)).toEqual([
      'MalformedDetail',
      undefined,
      'MalformedDetail',
    ]);
    await eventually(() =>
      expect(dan.notifications().map((each) => each.eventId)).toEqual(['evt-eb-beside']),
    );
  });

  it('refuses a request of more than 10 entries as a whole, as EventBridge does', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => entry(envelope(`evt-eb-${i}`, ['x'])));
    await expect(events.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('dead-letters an invalid envelope with its reason, as one published to SNS', async () => {
    await putEnvelope(events, { id: 'evt-eb-invalid', type: 'Not Valid', to: { users: ['x'] } });
    let reason: string | undefined;
    await eventually(async () => {
      const received = await e2e.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: e2e.stack.queues.fanOut.deadLetterUrl,
          MessageAttributeNames: ['All'],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      const message = received.Messages?.find((each) => each.Body?.includes('evt-eb-invalid'));
      reason = message?.MessageAttributes?.['herald.reason']?.StringValue;
      expect(reason).toMatch(/^invalid envelope: type: /);
    }, 30_000);
  });
});
