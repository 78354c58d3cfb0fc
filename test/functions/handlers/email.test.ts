import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '#adapters/powertools';
import { encodeTask } from '#adapters/queue-messages';
import { parseEnvelope } from '#core/envelope';
import { makeHandler } from '#handlers/email';
import { lambdaContext } from '#local/lambda-context';
import {
  FakeConnectionStore,
  FakeDeadLetters,
  FakeDirectory,
  FakeEventLedger,
  FakeMailer,
  FakeMailLog,
  FakePreferenceStore,
  snsNotificationBody,
  sqsEvent,
  sqsRecord,
} from '#test/support/fakes';

const TIMESTAMP = '2026-11-23T12:00:00.123Z';

function publish(users: string[], id: string, type = 'comment.created', tenant = 'acme'): string {
  return snsNotificationBody(
    JSON.stringify({
      id,
      type,
      tenant,
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
  const preferences = new FakePreferenceStore();
  const connections = new FakeConnectionStore();
  await directory.rememberEmail('acme', 'alice', 'alice@example.com');
  await directory.rememberEmail('acme', 'bob', 'bob@example.com');
  const handler = makeHandler({
    directory,
    mailLog,
    mailer,
    deadLetters,
    preferences,
    connections,
    ledger: new FakeEventLedger(),
    retentionSeconds: 86_400,
  });
  const context = lambdaContext('herald-email');
  return { mailer, deadLetters, preferences, connections, handler, context };
}

afterEach(() => {
  vi.restoreAllMocks();
});

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

  it("obeys each user's email preferences and logs why it did not send", async () => {
    const { handler, context, mailer, preferences, connections } = await setup();
    const info = vi.spyOn(logger, 'info');
    preferences.users.set('acme/alice', {
      types: { 'a.muted': { email: 'never' }, 'b.offline': { email: 'offline' } },
    });
    await connections.put(
      {
        connectionId: 'alice-1',
        tenant: 'acme',
        userId: 'alice',
        topicPatterns: [],
        topics: [],
        connectedAt: 1,
      },
      2_000_000_000,
    );
    const response = await handler(
      sqsEvent(
        sqsRecord('m-muted', publish(['alice'], 'evt-1', 'a.muted'), queue),
        sqsRecord('m-online', publish(['alice'], 'evt-2', 'b.offline'), queue),
        sqsRecord('m-bob', publish(['bob'], 'evt-3', 'b.offline'), queue),
      ),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
    const notSent = info.mock.calls.filter(([message]) => message === 'email not sent');
    expect(notSent.map(([, extra]) => extra)).toEqual([
      expect.objectContaining({
        messageId: 'm-muted',
        userId: 'alice',
        reason: 'preference_never',
      }),
      expect.objectContaining({ messageId: 'm-online', userId: 'alice', reason: 'user_online' }),
    ]);
  });

  it('retries a record whose tenant defaults could not be read', async () => {
    const { handler, context, mailer, preferences } = await setup();
    preferences.tenantDefaults = async (tenant) => {
      if (tenant === 'acme') throw new Error('throttled');
      return undefined;
    };
    const response = await handler(
      sqsEvent(
        sqsRecord('m1', publish(['alice'], 'evt-1'), queue),
        sqsRecord('m2', publish(['alice'], 'evt-2', 'comment.created', 'globex'), queue),
      ),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(mailer.mails).toEqual([]);
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
