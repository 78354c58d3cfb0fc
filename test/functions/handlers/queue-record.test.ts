import { describe, expect, it } from 'vitest';
import { InvalidEnvelopeError, RetryableError } from '#core/errors';
import { deadLetteringPoison, decodeOrReject, poisonReason } from '#handlers/queue-record';
import { FakeDeadLetters, sqsRecord } from '#test/support/fakes';

const ENVELOPE = JSON.stringify({ id: 'evt-1', type: 'comment.created', to: { users: ['al'] } });

function throwing(error: unknown): () => Promise<void> {
  return async () => {
    throw error;
  };
}

describe('decodeOrReject', () => {
  it('returns the decoded message and dead-letters nothing', async () => {
    const deadLetters = new FakeDeadLetters();
    const message = await decodeOrReject(sqsRecord('m1', ENVELOPE), deadLetters);
    expect(message).toMatchObject({ kind: 'publish', envelope: { id: 'evt-1' } });
    expect(deadLetters.rejected).toEqual([]);
  });

  it('dead-letters an invalid envelope with the reason the decoder gave', async () => {
    const deadLetters = new FakeDeadLetters();
    const record = sqsRecord('m1', '{"id": 1}');
    expect(await decodeOrReject(record, deadLetters)).toBeUndefined();
    expect(deadLetters.rejected).toEqual([
      { body: '{"id": 1}', reason: expect.stringMatching(/^invalid envelope: .*\bid\b/) },
    ]);
  });

  it('dead-letters whatever else decoding throws: the same body would throw it again', async () => {
    const deadLetters = new FakeDeadLetters();
    const decode = () => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    expect(await decodeOrReject(sqsRecord('m1', 'body'), deadLetters, decode)).toBeUndefined();
    expect(deadLetters.rejected).toEqual([
      { body: 'body', reason: 'invalid message: decoding threw RangeError' },
    ]);
  });

  it('decodes with the decoder it is given, at the SentTimestamp', async () => {
    const sentAt = Date.parse('2026-11-23T11:00:00.000Z');
    const seen: Array<[string, number]> = [];
    const decode = (body: string, at: number) => {
      seen.push([body, at]);
      return { kind: 'custom' as const };
    };
    const message = await decodeOrReject(
      sqsRecord('m1', 'x', { sentAt }),
      new FakeDeadLetters(),
      decode,
    );
    expect(message).toEqual({ kind: 'custom' });
    expect(seen).toEqual([['x', sentAt]]);
  });

  it('dead-letters a body too big to carry its reason too, cut to leave it room', async () => {
    const deadLetters = new FakeDeadLetters();
    const max = 1024 * 1024;
    const reject = deadLetters.reject.bind(deadLetters);
    // As SQS: the body and the attribute together must fit the queue's limit.
    deadLetters.reject = async (body, reason) => {
      if (Buffer.byteLength(body) + Buffer.byteLength(reason) + 19 > max) {
        throw new Error('Message must be shorter than 1048576 bytes');
      }
      await reject(body, reason);
    };
    const body = JSON.stringify({ id: 'evt-huge', padding: 'x'.repeat(max - 40) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(max);
    await decodeOrReject(sqsRecord('m1', body), deadLetters);
    expect(deadLetters.rejected).toHaveLength(1);
    const [rejected] = deadLetters.rejected;
    expect(body.startsWith(rejected?.body ?? 'nothing')).toBe(true);
    expect(rejected?.reason).toMatch(
      /^invalid envelope: must be at most 262144 bytes of JSON \(dead-lettered cut to its first \d+ bytes\)$/,
    );
  });

  it('fails the record, to be retried, when the dead-letter queue cannot take it', async () => {
    const deadLetters = new FakeDeadLetters();
    deadLetters.reject = async () => {
      throw new Error('SQS unavailable');
    };
    await expect(decodeOrReject(sqsRecord('m1', 'not json'), deadLetters)).rejects.toThrow(
      'SQS unavailable',
    );
  });
});

describe('deadLetteringPoison', () => {
  it('dead-letters an envelope found invalid while processing, and counts it processed', async () => {
    const deadLetters = new FakeDeadLetters();
    const work = throwing(new InvalidEnvelopeError('invalid envelope: data: too big'));
    await deadLetteringPoison(sqsRecord('m1', ENVELOPE), deadLetters, work);
    expect(deadLetters.rejected).toEqual([
      { body: ENVELOPE, reason: 'invalid envelope: data: too big' },
    ]);
  });

  it('dead-letters a RangeError, which the same input raises on every attempt', async () => {
    const deadLetters = new FakeDeadLetters();
    const work = throwing(new RangeError('Maximum call stack size exceeded'));
    await deadLetteringPoison(sqsRecord('m1', ENVELOPE), deadLetters, work);
    expect(deadLetters.rejected).toEqual([
      { body: ENVELOPE, reason: 'cannot be processed: processing threw RangeError' },
    ]);
  });

  it.each<[string, unknown]>([
    ['a throttling error', new RetryableError('throttled')],
    ['a network TypeError', new TypeError('fetch failed')],
    [
      'a conditional conflict',
      Object.assign(new Error('conflict'), { name: 'ConditionalCheckFailedException' }),
    ],
    [
      'a 5xx',
      Object.assign(new Error('internal'), { name: 'InternalServerError', $fault: 'server' }),
    ],
    ['a failure that is not an Error', 'oops'],
    [
      'an aggregate of poison and a transient error',
      new AggregateError([new RangeError('x'), new RetryableError('y')]),
    ],
    ['an empty aggregate', new AggregateError([])],
  ])('throws %s so the record is retried, and dead-letters nothing', async (_what, error) => {
    const deadLetters = new FakeDeadLetters();
    const work = throwing(error);
    await expect(deadLetteringPoison(sqsRecord('m1', ENVELOPE), deadLetters, work)).rejects.toBe(
      error,
    );
    expect(deadLetters.rejected).toEqual([]);
  });

  it('does nothing more when the work succeeds', async () => {
    const deadLetters = new FakeDeadLetters();
    let ran = 0;
    await deadLetteringPoison(sqsRecord('m1', ENVELOPE), deadLetters, async () => {
      ran++;
    });
    expect(ran).toBe(1);
    expect(deadLetters.rejected).toEqual([]);
  });
});

describe('poisonReason', () => {
  it('takes an aggregate of poison as poison, each reason once', () => {
    const error = new AggregateError([
      new RangeError('a'),
      new RangeError('b'),
      new InvalidEnvelopeError('invalid envelope: to: bad'),
    ]);
    expect(poisonReason(error)).toBe(
      'cannot be processed: processing threw RangeError; invalid envelope: to: bad',
    );
  });

  it('keeps the error message out of a RangeError reason', () => {
    expect(poisonReason(new RangeError('Invalid time value: secret'))).not.toMatch(/secret/);
  });
});
