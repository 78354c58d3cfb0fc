import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDirectory, DynamoMailLog } from '#adapters/dynamo-directory';
import { type DynamoLocal, startDynamoLocal } from '#test/support/dynamo-local';

let local: DynamoLocal;

beforeAll(async () => {
  local = await startDynamoLocal();
});

afterAll(async () => {
  await local?.stop();
});

describe('DynamoDirectory', () => {
  it('remembers the latest address per tenant and user', async () => {
    const directory = new DynamoDirectory(local.doc, local.tables.notifications);
    expect(await directory.emailOf('acme', 'alice')).toBeUndefined();
    await directory.rememberEmail('acme', 'alice', 'old@example.com');
    await directory.rememberEmail('acme', 'alice', 'alice@example.com');
    expect(await directory.emailOf('acme', 'alice')).toBe('alice@example.com');
    expect(await directory.emailOf('globex', 'alice')).toBeUndefined();
  });
});

describe('DynamoMailLog', () => {
  it('records a sent mail per user and notification', async () => {
    const log = new DynamoMailLog(local.doc, local.tables.notifications);
    expect(await log.wasSent('acme', 'alice', 'N1')).toBe(false);
    await log.recordSent('acme', 'alice', 'N1');
    expect(await log.wasSent('acme', 'alice', 'N1')).toBe(true);
    expect(await log.wasSent('acme', 'bob', 'N1')).toBe(false);
    expect(await log.wasSent('acme', 'alice', 'N2')).toBe(false);
  });
});
