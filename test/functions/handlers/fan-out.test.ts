import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#adapters/powertools';
import { encodeTask } from '#adapters/queue-messages';
import { METRIC } from '#config/metric-names';
import { ENVELOPE_LIMITS, parseEnvelope, toNotification } from '#core/envelope';
import { RetryableError } from '#core/errors';
import { createFanOut, DEFAULT_FAN_OUT_SETTINGS, type FanOut } from '#core/fan-out';
import type { Connection } from '#core/model';
import { notificationTime } from '#core/notification-id';
import type { Clock } from '#core/ports';
import { makeHandler } from '#handlers/fan-out';
import { lambdaContext } from '#local/lambda-context';
import {
  FakeChangeLog,
  FakeClock,
  FakeCollapseStore,
  FakeConnectionStore,
  FakeContinuations,
  FakeDeadLetters,
  FakeDelivery,
  FakeEventLedger,
  FakeInbox,
  FakePreferenceStore,
  ManualClock,
  snsNotificationBody,
  sqsEvent,
  sqsRecord,
} from '#test/support/fakes';

const TIMESTAMP = '2026-11-23T12:00:00.123Z';

function envelopeJson(users: string[], id = 'evt-1', extra: object = {}): string {
  return JSON.stringify({ id, type: 'comment.created', tenant: 'acme', to: { users }, ...extra });
}

function sns(message: string): string {
  return snsNotificationBody(message, TIMESTAMP);
}

function connection(connectionId: string, userId: string): Connection {
  return { connectionId, userId, tenant: 'acme', topicPatterns: [], connectedAt: 0, topics: [] };
}

async function setup(clock: Clock = new FakeClock(), now?: () => number) {
  const store = new FakeConnectionStore();
  const inbox = new FakeInbox();
  const ledger = new FakeEventLedger();
  const delivery = new FakeDelivery();
  const continuations = new FakeContinuations();
  const deadLetters = new FakeDeadLetters();
  const preferences = new FakePreferenceStore();
  const collapses = new FakeCollapseStore();
  for (const c of [connection('a1', 'alice'), connection('b1', 'bob'), connection('c1', 'carol')]) {
    await store.put(c, 0);
  }
  const fanOut = createFanOut({
    connections: store,
    inbox,
    ledger,
    delivery,
    continuations,
    preferences,
    collapses,
    changes: new FakeChangeLog(),
    clock,
    random: () => 0.5,
    settings: {
      ...DEFAULT_FAN_OUT_SETTINGS,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    },
  });
  const handler = makeHandler({ fanOut, deadLetters, now });
  const context = lambdaContext('herald-fan-out');
  return {
    store,
    inbox,
    delivery,
    continuations,
    deadLetters,
    preferences,
    collapses,
    handler,
    context,
  };
}

describe('fan-out handler', () => {
  it('pushes each published envelope of a batch and reports no failures', async () => {
    const { handler, context, delivery } = await setup();
    const response = await handler(
      sqsEvent(
        sqsRecord('m1', snsNotificationBody(envelopeJson(['alice']), TIMESTAMP)),
        sqsRecord('m2', snsNotificationBody(envelopeJson(['bob'], 'evt-2'), TIMESTAMP)),
      ),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(delivery.delivered('a1')).toHaveLength(1);
    expect(delivery.delivered('b1')).toHaveLength(1);
    const [frame] = delivery.delivered('a1') as Array<{ notification: { id: string } }>;
    expect(notificationTime(frame?.notification.id ?? '')).toBe(Date.parse(TIMESTAMP));
  });

  it('dead-letters an invalid envelope with its reason instead of failing it', async () => {
    const { handler, context, deadLetters, delivery } = await setup();
    const bad = snsNotificationBody(
      JSON.stringify({ id: 'evt-9', type: 'Not Valid', to: { users: ['alice'] } }),
      TIMESTAMP,
    );
    const response = await handler(
      sqsEvent(
        sqsRecord('bad', bad),
        sqsRecord('good', snsNotificationBody(envelopeJson(['bob']), TIMESTAMP)),
      ),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.rejected).toEqual([
      { body: bad, reason: expect.stringMatching(/\btype\b/) },
    ]);
    expect(delivery.delivered('a1')).toEqual([]);
    expect(delivery.delivered('b1')).toHaveLength(1);
  });

  it('dead-letters a body that is not JSON', async () => {
    const { handler, context, deadLetters } = await setup();
    const response = await handler(
      sqsEvent(
        sqsRecord('junk', 'hello'),
        sqsRecord('good', snsNotificationBody(envelopeJson(['bob']), TIMESTAMP)),
      ),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.rejected.map((r) => r.body)).toEqual(['hello']);
  });

  /** An envelope for alice as JSON text, with `data` written as the raw JSON `dataJson`. */
  function withDataJson(dataJson: string): string {
    return envelopeJson(['alice'], 'evt-poison', { data: { x: 1 } }).replace('{"x":1}', dataJson);
  }

  const task = (value: object) => JSON.stringify({ heraldTask: value });
  const users = (count: number, length = 8) =>
    Array.from({ length: count }, (_, i) => `${i}-`.padEnd(length, 'u'));

  it.each<[string, string, RegExp]>([
    [
      'data nested 5,000 levels',
      sns(withDataJson(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`)),
      /^invalid envelope: data: must nest at most 31 levels$/,
    ],
    [
      'data nested one level too deep for DynamoDB',
      sns(withDataJson(`${'{"a":'.repeat(32)}1${'}'.repeat(32)}`)),
      /data: must nest/,
    ],
    ['data that is an array', sns(withDataJson('[1,2]')), /\bdata\b/],
    ['data that is a string', sns(withDataJson('"x"')), /\bdata\b/],
    [
      'a number in data beyond 2^53',
      sns(withDataJson('{"big":9007199254740993}')),
      /data: numbers must be/,
    ],
    [
      'a number in data below 1e-130',
      sns(withDataJson('{"tiny":1e-200}')),
      /data: numbers must be/,
    ],
    [
      'a number in data that JSON reads as Infinity',
      sns(withDataJson('{"huge":1e400}')),
      /data: numbers must be/,
    ],
    ['an empty key in data', sns(withDataJson('{"":1}')), /data: object keys must not be empty/],
    [
      'data over its byte limit',
      sns(withDataJson(JSON.stringify({ s: 'x'.repeat(ENVELOPE_LIMITS.dataBytes) }))),
      /data: must serialize/,
    ],
    ['more recipients than the cap', sns(envelopeJson(users(ENVELOPE_LIMITS.users + 1))), /\bto\b/],
    [
      'an envelope too big to hand on',
      sns(envelopeJson(users(ENVELOPE_LIMITS.users, ENVELOPE_LIMITS.userIdLength))),
      /envelope: must serialize/,
    ],
    [
      'an SNS message over 256 KiB',
      sns(envelopeJson(['alice'], 'evt-big', { body: ' '.repeat(ENVELOPE_LIMITS.textBytes) })),
      /at most 262144 bytes/,
    ],
    [
      'an envelope sent directly over 256 KiB',
      envelopeJson(['alice'], 'evt-big', { body: ' '.repeat(ENVELOPE_LIMITS.textBytes) }),
      /at most 262144 bytes/,
    ],
    ['an SNS message that is not JSON', sns('{"id": "evt-'), /not JSON/],
    [
      'an SNS wrapper without its Message',
      JSON.stringify({ Type: 'Notification', Timestamp: TIMESTAMP }),
      /^invalid SNS notification: .*Message/s,
    ],
    [
      'an SNS wrapper with a bad Timestamp',
      JSON.stringify({ Type: 'Notification', Message: envelopeJson(['alice']), Timestamp: 'now' }),
      /^invalid SNS notification: .*Timestamp/s,
    ],
    ['an invalid id', sns(envelopeJson(['alice'], '')), /\bid\b/],
    ['an invalid type', sns(envelopeJson(['alice'], 'e', { type: 'A B' })), /\btype\b/],
    ['an invalid tenant', sns(envelopeJson(['alice'], 'e', { tenant: 'a#b' })), /\btenant\b/],
    [
      'an invalid url',
      sns(envelopeJson(['alice'], 'e', { url: 'javascript:alert(1)' })),
      /\burl\b/,
    ],
    [
      'an invalid collapseKey',
      sns(envelopeJson(['alice'], 'e', { collapseKey: '' })),
      /\bcollapseKey\b/,
    ],
    [
      'an unknown channel',
      sns(envelopeJson(['alice'], 'e', { channels: ['sms'] })),
      /\bchannels\b/,
    ],
    ['an unknown field', sns(envelopeJson(['alice'], 'e', { priority: 1 })), /priority/],
    [
      'a broadcast page without a topic',
      task({
        kind: 'broadcast-page',
        envelope: JSON.parse(envelopeJson(['alice'])),
        publishedAt: 1,
        cursor: 'c',
      }),
      /topic audience/,
    ],
    [
      'a task published past the year 9999',
      task({
        kind: 'retry-users',
        envelope: JSON.parse(envelopeJson(['alice'])),
        publishedAt: 9e15,
        attempt: 1,
      }),
      /publishedAt/,
    ],
  ])(
    'dead-letters %s at once, with the reason, and processes the rest of the batch',
    async (_what, body, reason) => {
      const { handler, context, deadLetters, delivery } = await setup();
      const response = await handler(
        sqsEvent(
          sqsRecord('poison', body),
          sqsRecord('good', snsNotificationBody(envelopeJson(['bob'], 'evt-good'), TIMESTAMP)),
        ),
        context,
      );
      expect(response.batchItemFailures).toEqual([]);
      expect(deadLetters.rejected).toEqual([{ body, reason: expect.stringMatching(reason) }]);
      expect(delivery.delivered('a1')).toEqual([]);
      expect(delivery.delivered('b1')).toHaveLength(1);
    },
  );

  it('gives reasons that name rules and fields, never what the body holds', async () => {
    const { handler, context, deadLetters } = await setup();
    const secret = 'card-4111111111111111';
    const bodies = [
      sns(withDataJson(`{"${secret}":${'['.repeat(40)}${']'.repeat(40)}}`)),
      sns(withDataJson(`{"${secret}":90071992547409930}`)),
      sns(envelopeJson(['alice'], secret, { url: secret })),
      sns(`{"id": "${secret}`),
    ];
    await handler(sqsEvent(...bodies.map((body, i) => sqsRecord(`m${i}`, body))), context);
    expect(deadLetters.rejected).toHaveLength(bodies.length);
    for (const { reason } of deadLetters.rejected) expect(reason).not.toContain('4111');
  });

  it('retries a record whose processing failed on a throttled call, and dead-letters nothing', async () => {
    const { handler, context, inbox, continuations, deadLetters } = await setup();
    inbox.failFor.add('acme/user/alice');
    continuations.failure = new RetryableError('SQS throttled');
    const response = await handler(
      sqsEvent(
        sqsRecord('m-alice', snsNotificationBody(envelopeJson(['alice']), TIMESTAMP)),
        sqsRecord('m-bob', snsNotificationBody(envelopeJson(['bob'], 'evt-2'), TIMESTAMP)),
      ),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-alice' }] });
    expect(deadLetters.rejected).toEqual([]);
  });

  it('dead-letters a record whose processing throws a RangeError; retries one whose processing failed transiently', async () => {
    const deadLetters = new FakeDeadLetters();
    const fanOut = {
      publish: async (envelope: { id: string }) => {
        if (envelope.id === 'evt-range') throw new RangeError('Maximum call stack size exceeded');
        throw new RetryableError('ProvisionedThroughputExceededException');
      },
      run: async () => {
        throw new Error('no tasks here');
      },
    } as unknown as FanOut;
    const handler = makeHandler({ fanOut, deadLetters });
    const range = snsNotificationBody(envelopeJson(['alice'], 'evt-range'), TIMESTAMP);
    const throttled = snsNotificationBody(envelopeJson(['alice'], 'evt-throttled'), TIMESTAMP);
    const response = await handler(
      sqsEvent(sqsRecord('range', range), sqsRecord('throttled', throttled)),
      lambdaContext('herald-fan-out'),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'throttled' }] });
    expect(deadLetters.rejected).toEqual([
      { body: range, reason: 'cannot be processed: processing threw RangeError' },
    ]);
  });

  it('reports exactly the record whose processing threw and processes the others', async () => {
    const { handler, context, inbox, continuations, delivery } = await setup();
    // Bob's store fails and the retry task cannot be queued: nothing else would retry it.
    inbox.failFor.add('acme/user/bob');
    continuations.failure = new Error('SQS unavailable');
    const response = await handler(
      sqsEvent(
        sqsRecord('m-alice', snsNotificationBody(envelopeJson(['alice']), TIMESTAMP)),
        sqsRecord('m-bob', snsNotificationBody(envelopeJson(['bob'], 'evt-2'), TIMESTAMP)),
        sqsRecord('m-carol', snsNotificationBody(envelopeJson(['carol'], 'evt-3'), TIMESTAMP)),
      ),
      context,
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bob' }] });
    expect(delivery.delivered('a1')).toHaveLength(1);
    expect(delivery.delivered('c1')).toHaveLength(1);
    expect(delivery.delivered('b1')).toEqual([]);
  });

  it('pushes again only when SQS says the record was received before', async () => {
    const { handler, context, delivery } = await setup();
    const body = snsNotificationBody(envelopeJson(['alice']), TIMESTAMP);
    await handler(sqsEvent(sqsRecord('m1', body, { receiveCount: 1 })), context);
    // The same publish delivered again as a new message (SNS retry): a duplicate.
    await handler(sqsEvent(sqsRecord('m1-dup', body, { receiveCount: 1 })), context);
    expect(delivery.delivered('a1')).toHaveLength(1);
    // The same message received a second time (after a failure or timeout): redelivered.
    await handler(sqsEvent(sqsRecord('m1', body, { receiveCount: 2 })), context);
    const frames = delivery.delivered('a1') as Array<{ notification: { id: string } }>;
    expect(frames).toHaveLength(2);
    expect(frames[1]?.notification.id).toBe(frames[0]?.notification.id);
  });

  it('runs a task handed on through the queue', async () => {
    const { handler, context, delivery } = await setup();
    const envelope = parseEnvelope(JSON.parse(envelopeJson(['alice'])));
    const publishedAt = Date.parse(TIMESTAMP);
    const body = encodeTask({
      kind: 'retry-connections',
      envelope,
      publishedAt,
      connections: [{ connectionId: 'a1', userId: 'alice' }],
      attempt: 1,
    });
    const response = await handler(sqsEvent(sqsRecord('t1', body)), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(delivery.delivered('a1')).toEqual([
      { type: 'notification', notification: toNotification(envelope, publishedAt) },
    ]);
  });

  it('takes SentTimestamp as the publish time of an envelope sent without SNS', async () => {
    const { handler, context, delivery } = await setup();
    const sentAt = Date.parse('2026-11-23T11:59:00.000Z');
    await handler(sqsEvent(sqsRecord('raw', envelopeJson(['alice']), { sentAt })), context);
    const [frame] = delivery.delivered('a1') as Array<{ notification: { id: string } }>;
    expect(notificationTime(frame?.notification.id ?? '')).toBe(sentAt);
  });

  it('coalesces the records of one batch that share a collapseKey in memory', async () => {
    const clock = new ManualClock(Date.parse(TIMESTAMP));
    const { handler, context, delivery, inbox, collapses } = await setup(clock);
    const records = Array.from({ length: 10 }, (_, i) =>
      sqsRecord(
        `m${i}`,
        snsNotificationBody(
          envelopeJson(['alice'], `evt-${i}`, { collapseKey: 'post.42', data: { i } }),
          new Date(Date.parse(TIMESTAMP) + i).toISOString(),
        ),
      ),
    );
    const response = handler(sqsEvent(...records), context);
    await clock.untilSleeping(1);
    clock.advance(1000);

    expect(await response).toEqual({ batchItemFailures: [] });
    const frames = delivery.delivered('a1') as Array<{ notification: { data: { i: number } } }>;
    expect(frames.map((frame) => frame.notification.data.i)).toEqual([9]);
    expect(inbox.items.size).toBe(1);
    // One write to open the window, one to close it, one to settle it: none per record.
    expect(collapses.calls).toEqual(['offer', 'close', 'settle']);
  });

  it('stores and pushes nothing for a user who turned the type off in-app', async () => {
    const { handler, context, delivery, inbox, preferences } = await setup();
    preferences.users.set('acme/alice', { types: { 'comment.created': { inapp: false } } });
    const response = await handler(
      sqsEvent(sqsRecord('m1', snsNotificationBody(envelopeJson(['alice', 'bob']), TIMESTAMP))),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(delivery.delivered('a1')).toEqual([]);
    expect(delivery.delivered('b1')).toHaveLength(1);
    expect([...inbox.items.keys()].map((key) => key.split('/')[2])).toEqual(['bob']);
  });
});

describe('publish-to-push latency', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const latencies = (spy: { mock: { calls: unknown[][] } }) =>
    spy.mock.calls.filter(([name]) => name === METRIC.publishToPushLatency);

  it('emits now minus the SNS timestamp, in ms, once per record that pushed', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const { handler, context } = await setup(new FakeClock(), () => Date.parse(TIMESTAMP) + 250);
    await handler(
      sqsEvent(
        sqsRecord('m1', sns(envelopeJson(['alice', 'bob']))),
        sqsRecord('m2', sns(envelopeJson(['carol'], 'evt-2'))),
      ),
      context,
    );
    expect(latencies(addMetric)).toEqual([
      [METRIC.publishToPushLatency, MetricUnit.Milliseconds, 250],
      [METRIC.publishToPushLatency, MetricUnit.Milliseconds, 250],
    ]);
  });

  it('emits nothing for a record that reached no connection', async () => {
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const { handler, context } = await setup(new FakeClock(), () => Date.parse(TIMESTAMP) + 5);
    await handler(sqsEvent(sqsRecord('m1', sns(envelopeJson(['nobody'])))), context);
    expect(latencies(addMetric)).toEqual([]);
  });
});
