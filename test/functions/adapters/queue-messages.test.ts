import { describe, expect, it } from 'vitest';
import { decodeQueueMessage, encodeTask, encodeWelcome } from '#adapters/queue-messages';
import { ENVELOPE_LIMITS, parseEnvelope } from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import type { FanOutTask } from '#core/ports';

const SENT_AT = Date.parse('2026-11-23T12:00:05.000Z');
const RAW = {
  id: 'evt-1',
  type: 'comment.created',
  tenant: 'acme',
  to: { users: ['alice'] },
  title: 'New comment',
};

/** The body SQS holds for an SNS publish (raw message delivery off). */
function snsWrapper(message: string, timestamp = '2026-11-23T12:00:00.123Z'): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: '6c3b5d1e-0f0e-5c4f-9d3b-7a1e2f3c4d5e',
    TopicArn: 'arn:aws:sns:us-east-1:000000000000:herald-notifications',
    Message: message,
    Timestamp: timestamp,
    SignatureVersion: '1',
    Signature: 'c2lnbmF0dXJl',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/cert.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
    MessageAttributes: { channels: { Type: 'String.Array', Value: '["inapp"]' } },
  });
}

function refusal(body: string): InvalidEnvelopeError {
  try {
    decodeQueueMessage(body, SENT_AT);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEnvelopeError);
    return error as InvalidEnvelopeError;
  }
  throw new Error('expected the message to be refused');
}

describe('decodeQueueMessage', () => {
  it('reads an SNS notification: the envelope, published at SNS Timestamp', () => {
    expect(decodeQueueMessage(snsWrapper(JSON.stringify(RAW)), SENT_AT)).toEqual({
      kind: 'publish',
      envelope: parseEnvelope(RAW),
      publishedAt: Date.parse('2026-11-23T12:00:00.123Z'),
    });
  });

  it('accepts an SNS Timestamp with an offset', () => {
    const message = decodeQueueMessage(
      snsWrapper(JSON.stringify(RAW), '2026-11-23T13:00:00.123+01:00'),
      SENT_AT,
    );
    expect(message).toMatchObject({ publishedAt: Date.parse('2026-11-23T12:00:00.123Z') });
  });

  it('reads an envelope sent to the queue directly, published at SentTimestamp', () => {
    expect(decodeQueueMessage(JSON.stringify(RAW), SENT_AT)).toEqual({
      kind: 'publish',
      envelope: parseEnvelope(RAW),
      publishedAt: SENT_AT,
    });
  });

  it.each<[string, FanOutTask]>([
    [
      'broadcast-page',
      {
        kind: 'broadcast-page',
        envelope: parseEnvelope({ ...RAW, to: { topic: 'project.42' } }),
        publishedAt: 1_795_000_000_123,
        cursor: 'eyJwayI6IngifQ==',
      },
    ],
    [
      'broadcast-page with the end of its page',
      {
        kind: 'broadcast-page',
        envelope: parseEnvelope({ ...RAW, to: { topic: 'project.42' } }),
        publishedAt: 1_795_000_000_123,
        cursor: 'eyJwayI6IngifQ==',
        until: 'eyJwayI6InkifQ==',
      },
    ],
    [
      'retry-users',
      {
        kind: 'retry-users',
        envelope: parseEnvelope({ ...RAW, to: { users: ['bob'] }, data: { n: 1 } }),
        publishedAt: 1_795_000_000_123,
        attempt: 2,
      },
    ],
    [
      'retry-connections',
      {
        kind: 'retry-connections',
        envelope: parseEnvelope(RAW),
        publishedAt: 1_795_000_000_123,
        connections: [
          { connectionId: 'Ab1=', userId: 'alice' },
          { connectionId: 'Cd2=', userId: 'alice' },
        ],
        attempt: 1,
      },
    ],
  ])('round-trips a %s task through encodeTask', (_kind, task) => {
    expect(decodeQueueMessage(encodeTask(task), SENT_AT)).toEqual({ kind: 'task', task });
  });

  it('refuses a body that is not JSON', () => {
    expect(refusal('{"Type": "Notif').message).toMatch(/not JSON/);
  });

  it('refuses an SNS notification whose message is not JSON', () => {
    expect(refusal(snsWrapper('plain text')).message).toMatch(/not JSON/);
  });

  it('refuses an SNS notification whose envelope is invalid, naming the field', () => {
    expect(refusal(snsWrapper(JSON.stringify({ ...RAW, type: 'Bad Type' }))).message).toMatch(
      /\btype\b/,
    );
  });

  it('refuses a raw envelope that is invalid, naming the field', () => {
    expect(refusal(JSON.stringify({ ...RAW, tenant: 'a b' })).message).toMatch(/\btenant\b/);
  });

  it.each([
    ['an unknown kind', { kind: 'replay' }, /kind/],
    [
      'a negative publishedAt',
      { kind: 'retry-users', envelope: RAW, publishedAt: -1, attempt: 1 },
      /publishedAt/,
    ],
    ['attempt 0', { kind: 'retry-users', envelope: RAW, publishedAt: 1, attempt: 0 }, /attempt/],
    [
      'no connections',
      { kind: 'retry-connections', envelope: RAW, publishedAt: 1, connections: [], attempt: 1 },
      /connections/,
    ],
    [
      'an empty cursor',
      { kind: 'broadcast-page', envelope: RAW, publishedAt: 1, cursor: '' },
      /cursor/,
    ],
    [
      'an empty page end',
      { kind: 'broadcast-page', envelope: RAW, publishedAt: 1, cursor: 'x', until: '' },
      /until/,
    ],
    [
      'an extra field',
      { kind: 'retry-users', envelope: RAW, publishedAt: 1, attempt: 1, sneaky: true },
      /sneaky/,
    ],
    ['not an object', 'retry-users', /invalid task/],
  ])('refuses a task with %s, saying why', (_what, task, reason) => {
    expect(refusal(JSON.stringify({ heraldTask: task })).message).toMatch(reason);
  });

  it('refuses a task whose envelope is invalid, naming the field', () => {
    const task = { kind: 'retry-users', envelope: { ...RAW, id: '' }, publishedAt: 1, attempt: 1 };
    expect(refusal(JSON.stringify({ heraldTask: task })).message).toMatch(/\bid\b/);
  });

  it('refuses an SNS notification whose data nests 5,000 levels, with the depth rule', () => {
    const message = JSON.stringify({ ...RAW, data: { x: 1 } }).replace(
      '{"x":1}',
      `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
    );
    expect(refusal(snsWrapper(message)).message).toMatch(/^invalid envelope: data: must nest/);
  });

  it.each([
    ['a message that is not a string', { Message: { ...RAW } }, /Message/],
    ['no message', { Message: undefined }, /Message/],
    ['a timestamp that is not one', { Timestamp: 'yesterday' }, /Timestamp/],
    ['another type', { Type: 'SubscriptionConfirmation' }, /Type/],
  ])('refuses an SNS wrapper with %s, naming the field', (_what, change, field) => {
    const wrapper = { ...JSON.parse(snsWrapper(JSON.stringify(RAW))), ...change };
    const { message } = refusal(JSON.stringify(wrapper));
    expect(message).toMatch(/^invalid SNS notification: /);
    expect(message).toMatch(field);
  });

  it('refuses an SNS message over the most SNS carries', () => {
    const big = JSON.stringify({ ...RAW, title: 'x'.repeat(ENVELOPE_LIMITS.textBytes) });
    expect(refusal(snsWrapper(big)).message).toMatch(/at most 262144 bytes/);
  });

  it('refuses an envelope sent to the queue directly over the most SNS carries', () => {
    const big = JSON.stringify({ ...RAW, title: 'x'.repeat(ENVELOPE_LIMITS.textBytes) });
    expect(refusal(big).message).toMatch(/at most 262144 bytes/);
  });

  it('refuses a broadcast page whose envelope has no topic', () => {
    const task = { kind: 'broadcast-page', envelope: RAW, publishedAt: 1, cursor: 'x' };
    expect(refusal(JSON.stringify({ heraldTask: task })).message).toMatch(/topic audience/);
  });

  it('refuses a task published after the year 9999, which no notification time can state', () => {
    const task = { kind: 'retry-users', envelope: RAW, publishedAt: 8.64e15 + 1, attempt: 1 };
    expect(refusal(JSON.stringify({ heraldTask: task })).message).toMatch(/publishedAt/);
  });

  it.each(['null', '42', '"text"', '[]'])('refuses the JSON value %s', (body) => {
    expect(refusal(body).message).toMatch(/^invalid envelope/);
  });

  it('reads a welcome, and refuses one that is malformed, naming the field', () => {
    const welcome = { tenant: 'acme', userId: 'alice', connectionId: 'c-1', attempt: 0 };
    expect(decodeQueueMessage(encodeWelcome(welcome), 0)).toEqual({ kind: 'welcome', welcome });
    expect(() =>
      decodeQueueMessage(JSON.stringify({ heraldWelcome: { ...welcome, tenant: 'a#b' } }), 0),
    ).toThrow(/invalid welcome: .*tenant/s);
  });
});
