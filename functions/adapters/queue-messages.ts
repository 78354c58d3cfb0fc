/**
 * The shapes of messages on Herald's queues: SNS notifications wrapping a publish
 * envelope (raw delivery is off, so SNS's `Timestamp` is there), tasks the fan-out hands
 * to itself, and envelopes someone sent to the queue directly.
 */
import * as z from 'zod';
import { decodeEnvelope, parseEnvelope } from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import type { Envelope } from '#core/model';
import type { FanOutTask } from '#core/ports';

export type QueueMessage =
  | { kind: 'publish'; envelope: Envelope; publishedAt: number }
  | { kind: 'task'; task: FanOutTask };

const snsNotification = z.looseObject({
  Type: z.literal('Notification'),
  Message: z.string(),
  Timestamp: z.iso.datetime({ offset: true }),
});

const connectionRef = z.strictObject({ connectionId: z.string().min(1), userId: z.string() });
const envelopeField = z.unknown().transform((value) => parseEnvelope(value));
const task = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('broadcast-page'),
    envelope: envelopeField,
    publishedAt: z.number().int().nonnegative(),
    cursor: z.string().min(1),
    until: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal('retry-users'),
    envelope: envelopeField,
    publishedAt: z.number().int().nonnegative(),
    attempt: z.number().int().positive(),
  }),
  z.strictObject({
    kind: z.literal('retry-connections'),
    envelope: envelopeField,
    publishedAt: z.number().int().nonnegative(),
    connections: z.array(connectionRef).min(1),
    attempt: z.number().int().positive(),
  }),
]);

const TASK_KEY = 'heraldTask';

export function encodeTask(value: FanOutTask): string {
  return JSON.stringify({ [TASK_KEY]: value });
}

/**
 * Reads one queue message body. `sentAt` (the SQS SentTimestamp) stands in for the publish
 * time when an envelope arrives without SNS. Throws InvalidEnvelopeError for anything
 * that can never be processed.
 */
export function decodeQueueMessage(body: string, sentAt: number): QueueMessage {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (error) {
    throw new InvalidEnvelopeError('invalid envelope: not JSON', { cause: error });
  }
  const notification = snsNotification.safeParse(input);
  if (notification.success) {
    return {
      kind: 'publish',
      envelope: decodeEnvelope(notification.data.Message),
      publishedAt: Date.parse(notification.data.Timestamp),
    };
  }
  if (typeof input === 'object' && input !== null && TASK_KEY in input) {
    const parsed = task.safeParse((input as Record<string, unknown>)[TASK_KEY]);
    if (!parsed.success) {
      throw new InvalidEnvelopeError(`invalid task: ${z.prettifyError(parsed.error)}`);
    }
    return { kind: 'task', task: parsed.data };
  }
  return { kind: 'publish', envelope: parseEnvelope(input), publishedAt: sentAt };
}
