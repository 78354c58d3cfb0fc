/**
 * Presence end to end on the launched local stack: watching `presence.<user>` through the
 * normal subscribe (under the token's `topics` patterns), the first connection's online and
 * the last one's offline, the `presence` query, and tenants kept apart.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { type E2e, eventually, roundTrip, startE2e, type TestClient } from '#test/support/e2e';

let e2e: E2e;
let doc: DynamoDBDocumentClient | undefined;
let connections: DynamoConnectionStore;

beforeAll(async () => {
  e2e = await startE2e();
  doc = e2e.doc;
  connections = new DynamoConnectionStore(doc, e2e.stack.tables.connections);
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const WATCHER = { topics: ['presence.*'] };

async function close(client: TestClient): Promise<void> {
  await new Promise<void>((resolve) => {
    client.socket.once('close', () => resolve());
    client.socket.close();
  });
}

const presenceFrames = (client: TestClient) => client.frames.filter((f) => f.type === 'presence');

async function watch(client: TestClient, user: string): Promise<void> {
  expect(await client.request('subscribe', { topics: [`presence.${user}`] })).toMatchObject({
    ok: true,
  });
}

describe('presence', () => {
  it("tells a watcher when a user's first connection opens and their last one closes", async () => {
    const bob = await e2e.connect('bob-presence', WATCHER);
    await watch(bob, 'alice-presence');

    const alice1 = await e2e.connect('alice-presence');
    await eventually(() =>
      expect(presenceFrames(bob)).toEqual([
        { type: 'presence', user: 'alice-presence', online: true },
      ]),
    );
    const alice2 = await e2e.connect('alice-presence');
    await close(alice1);
    // Once its $disconnect has run, alice is still online through alice2: nothing to say.
    await eventually(async () =>
      expect((await connections.listForUser('default', 'alice-presence')).items).toHaveLength(1),
    );
    const stillOnline = await bob.request('presence', { users: ['alice-presence'] });
    expect(stillOnline).toMatchObject({ ok: true, result: { online: { 'alice-presence': true } } });
    await roundTrip(bob);
    expect(presenceFrames(bob)).toHaveLength(1);

    await close(alice2);
    await eventually(() =>
      expect(presenceFrames(bob)).toEqual([
        { type: 'presence', user: 'alice-presence', online: true },
        { type: 'presence', user: 'alice-presence', online: false },
      ]),
    );
    const reply = await bob.request('presence', { users: ['alice-presence'] });
    expect(reply).toMatchObject({ ok: true, result: { online: { 'alice-presence': false } } });
  });

  it('answers who is online among the users asked about', async () => {
    // The query asks for the grant `subscribe` needs: `presence.*` covers all three.
    const asker = await e2e.connect('erin-presence', WATCHER);
    await e2e.connect('frank-presence');
    const reply = await asker.request('presence', {
      users: ['frank-presence', 'nobody-presence', 'erin-presence'],
    });
    expect(reply).toEqual({
      type: 'reply',
      requestId: reply.requestId,
      ok: true,
      result: {
        online: { 'frank-presence': true, 'nobody-presence': false, 'erin-presence': true },
      },
    });
    const refused = await asker.request('presence', { users: [] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('lets only a token whose topics allow it watch presence', async () => {
    const plain = await e2e.connect('gina-presence');
    const other = await e2e.connect('hank-presence', { topics: ['project.*'] });
    for (const client of [plain, other]) {
      const reply = await client.request('subscribe', { topics: ['presence.ivan-presence'] });
      expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    await e2e.connect('ivan-presence');
    await roundTrip(plain);
    await roundTrip(other);
    expect(presenceFrames(plain)).toEqual([]);
    expect(presenceFrames(other)).toEqual([]);
  });

  it("keeps tenants apart: another tenant's user of the same id neither shows nor is announced", async () => {
    const watcher = await e2e.connect('judy-presence', WATCHER);
    await watch(watcher, 'kim-presence');
    const foreign = await e2e.connect('kim-presence', { tenant: 'globex' });
    const reply = await watcher.request('presence', { users: ['kim-presence'] });
    expect(reply).toMatchObject({ ok: true, result: { online: { 'kim-presence': false } } });
    await close(foreign);
    // A same-tenant kim afterwards is announced: the silence above was not a broken push.
    await e2e.connect('kim-presence');
    await eventually(() =>
      expect(presenceFrames(watcher)).toEqual([
        { type: 'presence', user: 'kim-presence', online: true },
      ]),
    );
  });
});
