/**
 * Preferences end to end on the launched local stack: a user's and a tenant's preferences in
 * DynamoDB Local, a real `ws` client for presence, SNS publishes, and the SES emulator's
 * store as the record of what was mailed.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { parsePreferences } from '#core/preferences';
import { type E2e, eventually, startE2e } from '#test/support/e2e';

let e2e: E2e;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  e2e = await startE2e();
  doc = e2e.doc;
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const TENANT = 'acme';
const ERIN = 'erin@example.com';

/** Subjects of every mail the SES emulator holds for one address. */
async function subjectsMailedTo(address: string): Promise<string[]> {
  const response = await fetch(`${e2e.stack.urls.ses}/store`);
  const store = (await response.json()) as {
    emails: Array<{ destination: { to: string[] }; subject: string }>;
  };
  return store.emails
    .filter((mail) => mail.destination.to.includes(address))
    .map((mail) => mail.subject);
}

/**
 * Everything published so far has been through the email handler: the marker (published
 * last, mailed whatever the preferences) has arrived, and the email queue holds nothing,
 * neither waiting nor in flight. Only then can the absence of a mail be asserted.
 */
async function emailQueueDrained(marker: string): Promise<void> {
  await eventually(async () => expect(await subjectsMailedTo(ERIN)).toContain(marker));
  await eventually(async () => {
    const { Attributes = {} } = await e2e.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: e2e.stack.queues.email.url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    });
  });
}

function toErin(id: string, type: string, title: string) {
  return {
    id,
    type,
    tenant: TENANT,
    to: { users: ['erin'] },
    title,
    body: `${type} for erin`,
    channels: ['inapp', 'email'],
  };
}

describe('preferences, end to end', () => {
  it('mails exactly what the user and tenant preferences call for', async () => {
    const preferences = new DynamoPreferenceStore(doc, e2e.stack.tables.notifications);
    const connections = new DynamoConnectionStore(doc, e2e.stack.tables.connections);
    // The tenant says "only when offline" for b.offline; erin herself turns a.muted off.
    await preferences.putTenantDefaults(
      TENANT,
      parsePreferences({ types: { 'b.offline': { email: 'offline' } } }),
    );
    await preferences.putUser(
      TENANT,
      'erin',
      parsePreferences({ types: { 'a.muted': { email: 'never' } } }),
    );

    // Online: neither mail is wanted, yet both arrive in the app.
    const erin = await e2e.connect('erin', { tenant: TENANT, email: ERIN });
    await e2e.publish(toErin('evt-muted', 'a.muted', 'Muted, while online'));
    await e2e.publish(toErin('evt-online', 'b.offline', 'Offline-only, while online'));
    await eventually(() =>
      expect(erin.notifications().map((n) => n.eventId)).toEqual(
        expect.arrayContaining(['evt-muted', 'evt-online']),
      ),
    );
    await e2e.publish(toErin('evt-marker-1', 'z.marker', 'Marker 1'));
    await emailQueueDrained('Marker 1');

    // Offline: the offline-only type is mailed now.
    erin.socket.close();
    await eventually(async () =>
      expect((await connections.listForUser(TENANT, 'erin')).items).toEqual([]),
    );
    await e2e.publish(toErin('evt-offline', 'b.offline', 'Offline-only, while offline'));
    await e2e.publish(toErin('evt-muted-2', 'a.muted', 'Muted, while offline'));
    await e2e.publish(toErin('evt-marker-2', 'z.marker', 'Marker 2'));
    await emailQueueDrained('Marker 2');

    expect((await subjectsMailedTo(ERIN)).sort()).toEqual([
      'Marker 1',
      'Marker 2',
      'Offline-only, while offline',
    ]);
  });
});
