import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '#adapters/powertools';
import { encodeTask } from '#adapters/queue-messages';
import { encodeEmailTask } from '#adapters/sqs-email-tasks';
import { parseEnvelope } from '#core/envelope';
import { makeHandler } from '#handlers/email';
import { lambdaContext } from '#local/lambda-context';
import {
  FakeClock,
  FakeConnectionStore,
  FakeDeadLetters,
  FakeDirectory,
  FakeEmailContinuations,
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
  const continuations = new FakeEmailContinuations();
  await directory.rememberEmail('acme', 'alice', 'alice@example.com');
  await directory.rememberEmail('acme', 'bob', 'bob@example.com');
  const handler = makeHandler({
    directory,
    mailLog,
    mailer,
    deadLetters,
    preferences,
    connections,
    continuations,
    ledger: new FakeEventLedger(),
    idempotencySeconds: 86_400,
    clock: new FakeClock(),
    settings: { recipientsPerInvocation: 50, recipientsPerTask: 5 },
  });
  const context = lambdaContext('herald-email');
  return {
    directory,
    mailer,
    deadLetters,
    preferences,
    connections,
    continuations,
    handler,
    context,
  };
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

  it('mails a big audience through the tasks it hands itself, each invocation bounded', async () => {
    const { handler, context, mailer, directory, continuations } = await setup();
    const users = Array.from({ length: 120 }, (_, index) => `user${index}`);
    for (const user of users) await directory.rememberEmail('acme', user, `${user}@example.com`);
    const first = await handler(
      sqsEvent(sqsRecord('m1', publish(users, 'evt-big'), queue)),
      context,
    );
    expect(first).toEqual({ batchItemFailures: [] });
    expect(mailer.mails).toHaveLength(50);

    const perInvocation: number[] = [];
    for (let round = 0; continuations.tasks.length > 0 && round < 100; round++) {
      const before = mailer.mails.length;
      const records = continuations
        .take(10)
        .map((task, index) => sqsRecord(`t${round}-${index}`, encodeEmailTask(task), queue));
      expect(await handler(sqsEvent(...records), context)).toEqual({ batchItemFailures: [] });
      perInvocation.push(mailer.mails.length - before);
    }
    expect(continuations.tasks).toEqual([]);
    expect(Math.max(...perInvocation)).toBeLessThanOrEqual(50);
    const to = mailer.mails.map((mail) => mail.to);
    expect(to).toHaveLength(120);
    expect(new Set(to)).toEqual(new Set(users.map((user) => `${user}@example.com`)));
  });

  it('dead-letters an email task that can never be read, with its reason', async () => {
    const { handler, context, deadLetters, mailer } = await setup();
    const envelope = { id: 'e', type: 't', to: { users: ['bob'] }, channels: ['email'] };
    const bad = JSON.stringify({
      heraldEmailTask: { kind: 'email-recipients', envelope, attempt: 0 },
    });
    const badEnvelope = JSON.stringify({
      heraldEmailTask: { kind: 'email-recipients', publishedAt: 1, attempt: 0 },
    });
    const response = await handler(
      sqsEvent(
        sqsRecord('bad', bad, queue),
        sqsRecord('bad-envelope', badEnvelope, queue),
        sqsRecord('m2', publish(['bob'], 'evt-2'), queue),
      ),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.rejected).toEqual([
      { body: bad, reason: expect.stringMatching(/^invalid email task: .*publishedAt/s) },
      { body: badEnvelope, reason: expect.stringMatching(/^invalid email task: .*envelope/s) },
    ]);
    expect(mailer.mails.map((mail) => mail.to)).toEqual(['bob@example.com']);
  });
});
