/**
 * SES reputation end to end on the launched local stack: a bounce or complaint, as SES
 * reports it, runs the real `ses-feedback` handler; the email consumer then skips a
 * suppressed address (the SES emulator's store shows what was mailed), and a soft bounce
 * changes nothing.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDirectory } from '#adapters/dynamo-directory';
import { suppressionKey } from '#adapters/dynamo-suppression-list';
import { type E2e, eventually, queuesEmpty, startE2e } from '#test/support/e2e';

let e2e: E2e;
let directory: DynamoDirectory;

beforeAll(async () => {
  e2e = await startE2e();
  directory = new DynamoDirectory(e2e.doc, e2e.stack.tables.notifications);
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const TENANT = 'acme';

async function mailedWith(subject: string): Promise<string[]> {
  const response = await fetch(`${e2e.stack.urls.ses}/store`);
  const store = (await response.json()) as {
    emails: Array<{ subject: string; destination: { to: string[] } }>;
  };
  return store.emails.filter((mail) => mail.subject === subject).flatMap((m) => m.destination.to);
}

async function suppressionOf(address: string) {
  const { Item } = await e2e.doc.send(
    new GetCommand({ TableName: e2e.stack.tables.notifications, Key: suppressionKey(address) }),
  );
  return Item;
}

function emailEnvelope(id: string, users: string[], title: string) {
  return { id, type: 'comment.created', tenant: TENANT, to: { users }, title, channels: ['email'] };
}

function emailQueuesDrained(): Promise<void> {
  const { url, deadLetterUrl } = e2e.stack.queues.email;
  return queuesEmpty(e2e.sqs, [url, deadLetterUrl]);
}

/** Publishes `envelope` and, once the email queues are quiet, finds it mailed to `addresses` alone. */
async function expectMailedOnly(
  envelope: ReturnType<typeof emailEnvelope>,
  addresses: string[],
): Promise<void> {
  await e2e.publish(envelope);
  await eventually(async () => expect(await mailedWith(envelope.title)).toEqual(addresses));
  await eventually(emailQueuesDrained, 60_000);
  expect(await mailedWith(envelope.title)).toEqual(addresses);
}

describe('SES suppression, end to end', () => {
  it('stops mailing an address that hard-bounced, and records why', async () => {
    await directory.rememberEmail(TENANT, 'sup-ann', 'Ann.Bounced@example.com');
    await directory.rememberEmail(TENANT, 'sup-ben', 'ben@example.com');
    await e2e.stack.injectSesFeedback({
      kind: 'bounce',
      bounceType: 'Permanent',
      bounceSubType: 'NoEmail',
      addresses: ['ann.bounced@example.com'],
    });
    expect(await suppressionOf('ann.bounced@example.com')).toMatchObject({
      address: 'ann.bounced@example.com',
      reason: 'bounce',
      bounceType: 'Permanent',
      bounceSubType: 'NoEmail',
      at: expect.any(Number),
    });

    await expectMailedOnly(emailEnvelope('evt-sup-1', ['sup-ann', 'sup-ben'], 'After the bounce'), [
      'ben@example.com',
    ]);
  }, 90_000);

  it('stops mailing an address that complained', async () => {
    await directory.rememberEmail(TENANT, 'sup-cat', 'cat@example.com');
    await e2e.stack.injectSesFeedback({
      kind: 'complaint',
      complaintFeedbackType: 'abuse',
      addresses: ['cat@example.com'],
    });
    expect(await suppressionOf('cat@example.com')).toMatchObject({
      reason: 'complaint',
      complaintFeedbackType: 'abuse',
    });
    await expectMailedOnly(
      emailEnvelope('evt-sup-2', ['sup-cat', 'sup-ben'], 'After the complaint'),
      ['ben@example.com'],
    );
  }, 90_000);

  it('keeps mailing an address after a soft (Transient) bounce', async () => {
    await directory.rememberEmail(TENANT, 'sup-dan', 'dan@example.com');
    await e2e.stack.injectSesFeedback({
      kind: 'bounce',
      bounceType: 'Transient',
      bounceSubType: 'MailboxFull',
      addresses: ['dan@example.com'],
    });
    expect(await suppressionOf('dan@example.com')).toBeUndefined();
    const title = 'After a full mailbox';
    await e2e.publish(emailEnvelope('evt-sup-3', ['sup-dan'], title));
    await eventually(async () => expect(await mailedWith(title)).toEqual(['dan@example.com']));
  }, 90_000);
});
