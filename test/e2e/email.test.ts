/**
 * Email exactly once and at any audience size, end to end on the launched local stack:
 * SNS publishes, the email consumer on its SQS queue (and the tasks it hands itself),
 * DynamoDB Local for addresses and the mail log, and the SES emulator's store as the
 * record of what was mailed.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDirectory } from '#adapters/dynamo-directory';
import { type E2e, eventually, queuesEmpty, startE2e } from '#test/support/e2e';

let e2e: E2e;
let doc: DynamoDBDocumentClient;
let directory: DynamoDirectory;

beforeAll(async () => {
  e2e = await startE2e();
  doc = e2e.doc;
  directory = new DynamoDirectory(doc, e2e.stack.tables.notifications);
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const TENANT = 'acme';

interface StoredMail {
  destination: { to: string[] };
  subject: string;
  /** When the emulator took it, in whole epoch seconds. */
  at: number;
}

/** The mails of a given subject in the SES emulator's store. */
async function mailsWith(subject: string): Promise<StoredMail[]> {
  const response = await fetch(`${e2e.stack.urls.ses}/store`);
  const store = (await response.json()) as { emails: StoredMail[] };
  return store.emails.filter((mail) => mail.subject === subject);
}

/** Addresses mailed a given subject, one entry per mail. */
async function mailedWith(subject: string): Promise<string[]> {
  return (await mailsWith(subject)).flatMap((mail) => mail.destination.to);
}

/** Everything published has been through the email consumer, and none of it failed. */
function emailQueuesDrained(): Promise<void> {
  const { url, deadLetterUrl } = e2e.stack.queues.email;
  return queuesEmpty(e2e.sqs, [url, deadLetterUrl]);
}

async function withAddresses(users: string[]): Promise<string[]> {
  const addresses = users.map((user) => `${user}@example.com`);
  await Promise.all(
    users.map((user, i) => directory.rememberEmail(TENANT, user, addresses[i] as string)),
  );
  return addresses;
}

function envelope(id: string, users: string[], title: string) {
  return { id, type: 'comment.created', tenant: TENANT, to: { users }, title, channels: ['email'] };
}

describe('email, end to end', () => {
  it('mails each recipient once when the same envelope id is published three times at once', async () => {
    const users = ['dup-ann', 'dup-ben', 'dup-cat'];
    const addresses = await withAddresses(users);
    const title = 'Published three times';
    const same = envelope('evt-dup-email', users, title);
    await Promise.all([e2e.publish(same), e2e.publish(same), e2e.publish(same)]);

    await eventually(async () =>
      expect((await mailedWith(title)).length).toBeGreaterThanOrEqual(3),
    );
    await eventually(emailQueuesDrained, 60_000);
    expect((await mailedWith(title)).sort()).toEqual(addresses.sort());
  }, 120_000);

  it('mails a 200-recipient envelope to each of the 200, once', async () => {
    const users = Array.from({ length: 200 }, (_, index) => `big-${index}`);
    const addresses = await withAddresses(users);
    const title = 'To two hundred';
    await e2e.publish(envelope('evt-big-email', users, title));

    // At SES's default rate of 14 a second this takes some 15 s at the least.
    await eventually(
      async () => expect((await mailedWith(title)).length).toBeGreaterThanOrEqual(200),
      120_000,
    );
    await eventually(emailQueuesDrained, 60_000);
    const mailed = await mailedWith(title);
    expect(mailed).toHaveLength(200);
    expect(new Set(mailed)).toEqual(new Set(addresses));
    // Paced at 14 a second (HERALD_SES_RATE's default), the 200 sends start at least
    // 199/14 = 14.2 s apart, first to last. The store counts whole seconds and the first
    // mail may reach it late, so this asks for 13 (unpaced, 200 mails take a few seconds).
    const seconds = (await mailsWith(title)).map((mail) => mail.at);
    expect(Math.max(...seconds) - Math.min(...seconds)).toBeGreaterThanOrEqual(13);
  }, 240_000);
});
