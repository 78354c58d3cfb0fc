import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoEventLedger } from '#adapters/dynamo-event-ledger';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

const EXPIRES_AT = Math.floor(Date.UTC(2030, 0, 1) / 1000);
let local: DynamoLocal;
let ledger: DynamoEventLedger;

beforeAll(async () => {
  local = await startDynamoLocal();
  ledger = new DynamoEventLedger(local.doc, local.tables.notifications);
});

afterAll(async () => {
  await local?.stop();
});

describe('DynamoEventLedger', () => {
  it('keeps the first publish time of an event id', async () => {
    expect(await ledger.firstPublished('acme', 'evt-1', 1_000, EXPIRES_AT)).toBe(1_000);
    expect(await ledger.firstPublished('acme', 'evt-1', 9_000, EXPIRES_AT)).toBe(1_000);
  });

  it('keeps tenants apart: the same id in another tenant is another event', async () => {
    await ledger.firstPublished('acme', 'evt-2', 2_000, EXPIRES_AT);
    expect(await ledger.firstPublished('globex', 'evt-2', 3_000, EXPIRES_AT)).toBe(3_000);
  });

  it('agrees under concurrent first publishes', async () => {
    const answers = await Promise.all(
      [10, 20, 30, 40, 50].map((at) => ledger.firstPublished('acme', 'evt-race', at, EXPIRES_AT)),
    );
    expect(new Set(answers).size).toBe(1);
  });
});
