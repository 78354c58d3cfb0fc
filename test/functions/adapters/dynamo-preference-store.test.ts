import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPreferenceStore } from '#adapters/dynamo-preference-store';
import { parsePreferences, resolveChannels } from '#core/preferences';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

let local: DynamoLocal;
let store: DynamoPreferenceStore;
const NOW = Date.parse('2026-11-23T12:00:00Z');

beforeAll(async () => {
  local = await startDynamoLocal();
  store = new DynamoPreferenceStore(local.doc, local.tables.notifications, { now: () => NOW });
});

afterAll(async () => {
  await local?.stop();
});

async function rawItem(pk: string) {
  const { Item } = await local.doc.send(
    new GetCommand({ TableName: local.tables.notifications, Key: { pk, sk: 'PREFS' } }),
  );
  return Item;
}

describe('DynamoPreferenceStore', () => {
  it('reads many at once, users and tenants mixed, in the order asked', async () => {
    const mine = parsePreferences({ channels: { email: 'never' } });
    const theirs = parsePreferences({ types: { 'build.done': { inapp: false } } });
    await store.putUser('many', 'u-7', mine);
    await store.putTenantDefaults('many', theirs);
    const keys = [
      ...Array.from({ length: 230 }, (_, i) => ({ tenant: 'many', userId: `u-${i}` })),
      { tenant: 'many' },
      { tenant: 'many', userId: 'u-7' },
      { tenant: 'nobody-tenant' },
    ];

    const found = await store.many(keys);

    expect(found).toHaveLength(keys.length);
    expect(found[7]).toEqual(mine);
    expect(found[230]).toEqual(theirs);
    expect(found[231]).toEqual(mine);
    expect(found[232]).toBeUndefined();
    expect(found.filter((each) => each !== undefined)).toHaveLength(3);
    expect(await store.many([])).toEqual([]);
  });

  it('answers undefined for a user and a tenant that have none', async () => {
    expect(await store.user('acme', 'nobody')).toBeUndefined();
    expect(await store.tenantDefaults('nobody-tenant')).toBeUndefined();
  });

  it("keeps a user's preferences beside their notifications, and replaces them whole", async () => {
    const first = parsePreferences({
      channels: { inapp: false, email: 'offline' },
      types: { 'comment.created': { email: 'never' }, 'build.done': { inapp: true } },
    });
    await store.putUser('acme', 'alice', first);
    expect(await store.user('acme', 'alice')).toEqual(first);
    expect(await rawItem('U#acme#alice')).toMatchObject({
      channels: { inapp: false, email: 'offline' },
      types: [
        { type: 'comment.created', email: 'never' },
        { type: 'build.done', inapp: true },
      ],
      updatedAt: NOW,
    });

    await store.putUser('acme', 'alice', { channels: { email: 'always' } });
    expect(await store.user('acme', 'alice')).toEqual({ channels: { email: 'always' } });
  });

  it('keeps tenant defaults in their own item, apart from users and other tenants', async () => {
    await store.putTenantDefaults('acme', { types: { 'invoice.ready': { email: 'offline' } } });
    await store.putUser('globex', 'alice', { channels: { inapp: false } });
    expect(await store.tenantDefaults('acme')).toEqual({
      types: { 'invoice.ready': { email: 'offline' } },
    });
    expect(await rawItem('TENANT#acme')).toMatchObject({
      types: [{ type: 'invoice.ready', email: 'offline' }],
    });
    expect(await store.tenantDefaults('globex')).toBeUndefined();
    expect(await store.user('globex', 'alice')).toEqual({ channels: { inapp: false } });
    expect(await store.user('acme', 'carol')).toBeUndefined();
  });

  it('round-trips types named like Object.prototype members', async () => {
    const preferences = parsePreferences(
      JSON.parse('{"types":{"__proto__":{"email":"never"},"constructor":{"inapp":false},"x":{}}}'),
    );
    await store.putUser('acme', 'mallory', preferences);
    const read = await store.user('acme', 'mallory');
    expect(Object.keys(read?.types ?? {})).toEqual(['__proto__', 'constructor', 'x']);
    expect(resolveChannels('__proto__', read, undefined)).toEqual({ inapp: true, email: 'never' });
    expect(resolveChannels('constructor', read, undefined)).toEqual({
      inapp: false,
      email: 'always',
    });
    expect(JSON.stringify(read)).toBe(JSON.stringify(preferences));
  });

  it('stores the largest preferences the schema allows', async () => {
    const types = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [
        `type.${'x'.repeat(56)}${String(i).padStart(3, '0')}`,
        { inapp: false, email: 'offline' },
      ]),
    );
    const preferences = parsePreferences({ channels: { inapp: true, email: 'never' }, types });
    await store.putUser('acme', 'heavy', preferences);
    expect(await store.user('acme', 'heavy')).toEqual(preferences);
  });

  it('reads back only what it could have written when an item was edited by hand', async () => {
    await local.doc.send(
      new PutCommand({
        TableName: local.tables.notifications,
        Item: {
          pk: 'TENANT#hand',
          sk: 'PREFS',
          channels: { email: 'sometimes', inapp: true, sms: true },
          types: [{ type: 'a', email: 'never', extra: 1 }, { email: 'never' }, 'junk'],
        },
      }),
    );
    expect(await store.tenantDefaults('hand')).toEqual({
      channels: { inapp: true },
      types: { a: { email: 'never' } },
    });
  });
});
