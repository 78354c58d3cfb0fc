/**
 * Critical types end to end on the launched local stack: a tenant locks a type, a user who
 * muted everything still gets it in the app, on their socket and by email, and neither the
 * HTTP API nor the fan-out lets their settings reach it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { parseTenantDefaults } from '#core/preferences';
import { type E2e, eventually, inboxEventIds, queuesEmpty, startE2e } from '#test/support/e2e';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const TENANT = 'locksmiths';
const FRAN = 'fran@example.com';

interface PutAnswer {
  status: number;
  json: { error: { message: string }; locked: string[] };
}

async function putPreferences(body: unknown): Promise<PutAnswer> {
  const response = await fetch(`${e2e.stack.urls.http}/preferences`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${await e2e.token('fran', { tenant: TENANT })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as PutAnswer['json'] };
}

async function subjectsMailedTo(address: string): Promise<string[]> {
  const response = await fetch(`${e2e.stack.urls.ses}/store`);
  const store = (await response.json()) as {
    emails: Array<{ destination: { to: string[] }; subject: string }>;
  };
  return store.emails
    .filter((mail) => mail.destination.to.includes(address))
    .map((mail) => mail.subject);
}

function toFran(id: string, type: string, title: string) {
  return {
    id,
    type,
    tenant: TENANT,
    to: { users: ['fran'] },
    title,
    channels: ['inapp', 'email'],
  };
}

describe('critical types, end to end', () => {
  it('locks a critical type against the user, in the API, the app and email', async () => {
    const store = new DynamoPreferenceStore(e2e.doc, e2e.stack.tables.notifications);
    await store.putTenantDefaults(TENANT, parseTenantDefaults({ critical: ['security.alert'] }));

    const refused = await putPreferences({ types: { 'security.alert': { inapp: false } } });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toContain('types["security.alert"]');
    expect(refused.json.error.message).toContain('critical');

    const muted = await putPreferences({ channels: { inapp: false, email: 'never' } });
    expect(muted.status).toBe(200);
    expect(muted.json.locked).toEqual(['security.alert']);
    const view = await e2e.getJson('/preferences', 'fran', { tenant: TENANT });
    expect(view.locked).toEqual(['security.alert']);
    expect(view.effective).toEqual({
      channels: { inapp: false, email: 'never' },
      types: { 'security.alert': { inapp: true, email: 'always' } },
    });

    const fran = await e2e.connect('fran', { tenant: TENANT, email: FRAN });
    await e2e.publish(toFran('evt-chat', 'chat.message', 'Muted chat'));
    await e2e.publish(toFran('evt-alert', 'security.alert', 'New sign-in'));

    await eventually(() =>
      expect(fran.notifications().map((n) => n.eventId)).toContain('evt-alert'),
    );
    await eventually(async () => expect(await subjectsMailedTo(FRAN)).toEqual(['New sign-in']));
    await eventually(() =>
      queuesEmpty(e2e.sqs, [e2e.stack.queues.fanOut.url, e2e.stack.queues.email.url]),
    );
    expect(fran.notifications().map((n) => n.eventId)).toEqual(['evt-alert']);
    expect(await inboxEventIds(e2e, 'fran', { tenant: TENANT })).toEqual(['evt-alert']);
    expect(await subjectsMailedTo(FRAN)).toEqual(['New sign-in']);
  });
});
