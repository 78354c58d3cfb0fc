/**
 * The shapes of messages on Herald's queues: SNS notifications wrapping a publish
 * envelope (raw delivery is off, so SNS's `Timestamp` is there), tasks the fan-out hands
 * to itself, and envelopes someone sent to the queue directly.
 */
import * as z from 'zod';
import { decodeEnvelope, parseEnvelope } from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import type { Envelope } from '#core/model';
import type { FanOutTask, WelcomeTask } from '#core/ports';

export type QueueMessage =
  | { kind: 'publish'; envelope: Envelope; publishedAt: number }
  | { kind: 'task'; task: FanOutTask }
  | { kind: 'welcome'; welcome: WelcomeTask };

const snsNotification = z.looseObject({
  Type: z.literal('Notification'),
  Message: z.string(),
  Timestamp: z.iso.datetime({ offset: true }),
});

// A retry carries the token expiry its listing entry held, so the retry still skips expired ones.
const connectionRef = z.strictObject({
  connectionId: z.string().min(1),
  userId: z.string(),
  tokenExpiresAt: z.number().int().positive().optional(),
});
const envelopeField = z.unknown().transform((value) => parseEnvelope(value));
/**
 * The latest time SNS's `Timestamp` can state: a notification's `createdAt` keeps its
 * width up to it, and `toISOString` throws a RangeError not far beyond it.
 */
const LATEST_PUBLISH = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const publishedAt = z.number().int().nonnegative().max(LATEST_PUBLISH);
const task = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('broadcast-page'),
      envelope: envelopeField,
      publishedAt,
      cursor: z.string().min(1),
      until: z.string().min(1).optional(),
    })
    .refine((page) => 'topic' in page.envelope.to, {
      path: ['envelope', 'to'],
      message: 'a broadcast page needs a topic audience',
    }),
  z.strictObject({
    kind: z.literal('retry-users'),
    envelope: envelopeField,
    publishedAt,
    attempt: z.number().int().positive(),
  }),
  z.strictObject({
    kind: z.literal('retry-connections'),
    envelope: envelopeField,
    publishedAt,
    connections: z.array(connectionRef).min(1),
    attempt: z.number().int().positive(),
  }),
]);

const welcome = z.strictObject({
  tenant: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  userId: z.string().min(1).max(256),
  connectionId: z.string().min(1).max(128),
  attempt: z.number().int().nonnegative().max(10),
});

const TASK_KEY = 'heraldTask';
const WELCOME_KEY = 'heraldWelcome';

export function encodeWelcome(value: WelcomeTask): string {
  return JSON.stringify({ [WELCOME_KEY]: value });
}

export function encodeTask(value: FanOutTask): string {
  return JSON.stringify({ [TASK_KEY]: value });
}

/**
 * Reads one queue message body. `sentAt` (the SQS SentTimestamp) stands in for the publish
 * time when an envelope arrives without SNS. Throws InvalidEnvelopeError for anything
 * that can never be processed. (JSON.parse keeps no stack per level, so no nesting
 * overflows it; `parseEnvelope` bounds the depth before anything recursive sees it.)
 */
export function decodeQueueMessage(body: string, sentAt: number): QueueMessage {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (error) {
    throw new InvalidEnvelopeError('invalid envelope: not JSON', { cause: error });
  }
  // An envelope never has `Type` (unknown fields are refused): this is SNS's wrapper.
  if (typeof input === 'object' && input !== null && 'Type' in input) {
    const notification = snsNotification.safeParse(input);
    if (!notification.success) {
      throw new InvalidEnvelopeError(
        `invalid SNS notification: ${z.prettifyError(notification.error)}`,
      );
    }
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
  if (typeof input === 'object' && input !== null && WELCOME_KEY in input) {
    const parsed = welcome.safeParse((input as Record<string, unknown>)[WELCOME_KEY]);
    if (!parsed.success) {
      throw new InvalidEnvelopeError(`invalid welcome: ${z.prettifyError(parsed.error)}`);
    }
    return { kind: 'welcome', welcome: parsed.data };
  }
  // Sent to the queue directly: the text's own limits apply as to an SNS message's.
  return { kind: 'publish', envelope: decodeEnvelope(body), publishedAt: sentAt };
}
