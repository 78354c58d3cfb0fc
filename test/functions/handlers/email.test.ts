import { describe, expect, it } from 'vitest';
import { encodeTask } from '../../../functions/adapters/queue-messages';
import { parseEnvelope } from '../../../functions/core/envelope';
import { makeHandler } from '../../../functions/handlers/email';
import { lambdaContext } from '../../../local/lambda-context';
import {
  FakeDeadLetters,
  FakeDirectory,
  FakeEventLedger,
  FakeMailer,
  FakeMailLog,
  snsNotificationBody,
  sqsEvent,
  sqsRecord,
} from '../../support/fakes';

const TIMESTAMP = '2026-11-23T12:00:00.123Z';

function publish(users: string[], id: string): string {
  return snsNotificationBody(
    JSON.stringify({
      id,
      type: 'comment.created',
      tenant: 'acme',
      to: { users },
      title: 'New comment',
      channels: ['inapp', 'email'],
    }),
    TIMESTAMP,
  );
}

async function setup() {
  const directory = new FakeDirectory();
  const mailLog = new FakeMailLog();
  const mailer = new FakeMailer();
  const deadLetters = new FakeDeadLetters();
  await directory.rememberEmail('acme', 'alice', 'alice@example.com');
  await directory.rememberEmail('acme', 'bob', 'bob@example.com');
  const handler = makeHandler({
    directory,
    mailLog,
    mailer,
    deadLetters,
    ledger: new FakeEventLedger(),
    retentionSeconds: 86_400,
  });
  const context = lambdaContext('herald-email');
  return { mailer, deadLetters, handler, context };
}

const queue = { queue: 'herald-email' };

describe('email handler', () => {
  it('mails the recipients of each record', async () => {
    const { handler, context, mailer } = await setup();
    const response = await handler(
      sqsEvent(
        sqsRecord('m1', publish(['alice'], 'evt-1'), queue),
        sqsRecord('m2', publish(['bob'], 'evt-2'), queue),
      ),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(mailer.mails.map((mail) => [mail.to, mail.subject])).toEqual([
      ['alice@example.com', 'New comment'],
      ['bob@example.com', 'New comment'],
    ]);
  });

  it('reports the record whose send failed, and its retry mails only who was missed', async () => {
    const { handler, context, mailer } = await setup();
    mailer.failFor.add('bob@example.com');
    const failing = sqsRecord('m-both', publish(['alice', 'bob'], 'evt-1'), queue);
    const response = await handler(
      sqsEvent(failing, sqsRecord('m-other', publish(['alice'], 'evt-2'), queue)),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-both' }] });
    expect(mailer.mails).toHaveLength(2);

    mailer.failFor.clear();
    const retry = await handler(
      sqsEvent({ ...failing, attributes: { ...failing.attributes, ApproximateReceiveCount: '2' } }),
      context,
    );
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(mailer.mails.map((mail) => mail.to)).toEqual([
      'alice@example.com',
      'alice@example.com',
      'bob@example.com',
    ]);
  });

  it('dead-letters an invalid envelope with its reason', async () => {
    const { handler, context, deadLetters, mailer } = await setup();
    const bad = snsNotificationBody(JSON.stringify({ id: 'evt-1', type: 'x' }), TIMESTAMP);
    const response = await handler(
      sqsEvent(sqsRecord('bad', bad, queue), sqsRecord('m2', publish(['bob'], 'evt-2'), queue)),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.rejected).toEqual([{ body: bad, reason: expect.stringMatching(/\bto\b/) }]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
  });

  it('ignores a fan-out task that reached the email queue', async () => {
    const { handler, context, mailer, deadLetters } = await setup();
    const task = encodeTask({
      kind: 'retry-users',
      envelope: parseEnvelope({
        id: 'e',
        type: 't',
        to: { users: ['alice'] },
        channels: ['email'],
      }),
      publishedAt: 1,
      attempt: 1,
    });
    const response = await handler(
      sqsEvent(sqsRecord('t1', task, queue), sqsRecord('m2', publish(['bob'], 'evt-2'), queue)),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
    expect(deadLetters.rejected).toEqual([]);
  });
});
