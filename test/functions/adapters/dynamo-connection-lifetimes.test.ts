/** Token lifetimes and frame budgets on DynamoDB Local, as the connection store writes them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoConnectionLifetimes } from '#adapters/dynamo-connection-lifetimes';
import { DynamoConnectionStore } from '#adapters/dynamo-connection-store';
import { DynamoFrameBudget } from '#adapters/dynamo-frame-budget';
import { connection, HOUR_S, START_MS } from '#test/support/connection-fixtures';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

let local: DynamoLocal;
let store: DynamoConnectionStore;
let lifetimes: DynamoConnectionLifetimes;
let budget: DynamoFrameBudget;

beforeAll(async () => {
  local = await startDynamoLocal();
  store = new DynamoConnectionStore(local.doc, local.tables.connections, () => START_MS);
  lifetimes = new DynamoConnectionLifetimes(local.doc, local.tables.connections);
  budget = new DynamoFrameBudget(local.doc, local.tables.connections);
});

afterAll(async () => {
  await local?.stop();
});

const start = START_MS / 1000;
const minuteOf = (seconds: number) => Math.floor(seconds / 60);
const ids = (items: Array<{ connectionId: string }>) => items.map((item) => item.connectionId);

describe('token lifetimes', () => {
  it('lists a connection under the minute its token expires, and no longer once removed', async () => {
    const conn = connection({ tokenExpiresAt: start + 600 });
    await store.put(conn, start + 3 * HOUR_S);
    expect(ids((await lifetimes.expiringIn(minuteOf(start + 600))).items)).toContain(
      conn.connectionId,
    );
    await store.remove(conn.connectionId);
    expect(ids((await lifetimes.expiringIn(minuteOf(start + 600))).items)).not.toContain(
      conn.connectionId,
    );
  });

  it('extends the expiry, moves the sweep entry and copies the expiry to the listing entries', async () => {
    const conn = connection({ tokenExpiresAt: start + 60 });
    await store.put(conn, start + 3 * HOUR_S);
    await store.subscribe(conn, ['project.1'], start + 3 * HOUR_S);
    expect(await lifetimes.extend(conn.connectionId, start + 3600)).toBe(start + 3600);
    expect((await store.get(conn.connectionId))?.tokenExpiresAt).toBe(start + 3600);
    expect(ids((await lifetimes.expiringIn(minuteOf(start + 60))).items)).not.toContain(
      conn.connectionId,
    );
    expect(ids((await lifetimes.expiringIn(minuteOf(start + 3600))).items)).toContain(
      conn.connectionId,
    );
    const [userEntry] = (await store.listForUser('acme', conn.userId)).items;
    expect(userEntry?.tokenExpiresAt).toBe(start + 3600);
    const topic = await store.listForTopic('acme', 'project.1', { limit: 10 });
    expect(topic.items.find((ref) => ref.connectionId === conn.connectionId)?.tokenExpiresAt).toBe(
      start + 3600,
    );
  });

  it('never shortens, and answers not_found for a connection that is gone', async () => {
    const conn = connection({ tokenExpiresAt: start + 600 });
    await store.put(conn, start + 3 * HOUR_S);
    expect(await lifetimes.extend(conn.connectionId, start + 300)).toBe(start + 600);
    await expect(lifetimes.extend('no-such-connection', start + 900)).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('frame budget', () => {
  it('admits a burst, refuses past it counting refusals, and refills with time', async () => {
    const conn = connection();
    await store.put(conn, start + 3 * HOUR_S);
    const rule = { perSecond: 10, burst: 3 };
    for (let i = 0; i < 3; i++) {
      expect(await budget.take(conn.connectionId, rule, START_MS)).toEqual({ admitted: true });
    }
    expect(await budget.take(conn.connectionId, rule, START_MS)).toEqual({
      admitted: false,
      refusals: 1,
    });
    expect(await budget.take(conn.connectionId, rule, START_MS)).toEqual({
      admitted: false,
      refusals: 2,
    });
    expect(await budget.take(conn.connectionId, rule, START_MS + 100)).toEqual({ admitted: true });
  });

  it('lets a frame of an unknown connection through to its action', async () => {
    expect(await budget.take('never-recorded', { perSecond: 1, burst: 1 }, START_MS)).toEqual({
      admitted: true,
    });
  });
});
