import * as z from 'zod';
import { InvalidEnvelopeError } from './errors';
import type { Envelope, Notification } from './model';
import { notificationId } from './notification-id';
import { isValidTopic } from './topics';

export const DEFAULT_TENANT = 'default';

/** Limits that keep a rendered notification frame far below API Gateway's 128 KB. */
export const ENVELOPE_LIMITS = {
  users: 1000,
  userIdLength: 256,
  titleLength: 256,
  bodyLength: 4096,
  urlLength: 2048,
  dataBytes: 16 * 1024,
} as const;

const userId = z
  .string()
  .min(1)
  .max(ENVELOPE_LIMITS.userIdLength)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

const audience = z.union(
  [
    z.strictObject({
      users: z
        .array(userId)
        .min(1)
        .max(ENVELOPE_LIMITS.users)
        .transform((users) => [...new Set(users)]),
    }),
    z.strictObject({
      topic: z.string().refine(isValidTopic, 'must be dot-separated tokens of [A-Za-z0-9_-]'),
    }),
  ],
  // Zod's default for a union matching no branch is a bare "Invalid input".
  { error: `must be {"users": [1 to ${ENVELOPE_LIMITS.users} ids]} or {"topic": "<name>"}` },
);

const httpUrl = z
  .string()
  .max(ENVELOPE_LIMITS.urlLength)
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: 'must be an http(s) URL',
  });

const data = z
  .record(z.string(), z.unknown())
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= ENVELOPE_LIMITS.dataBytes, {
    message: `must serialize to at most ${ENVELOPE_LIMITS.dataBytes} bytes`,
  });

/** The publish envelope contract (DESIGN.md), compiled once. Unknown fields are refused. */
const envelopeSchema = z.strictObject({
  id: z.string().min(1).max(128),
  type: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9._-]+$/, 'must match [a-z0-9._-]'),
  to: audience,
  tenant: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must match [A-Za-z0-9._-]{1,64}')
    .default(DEFAULT_TENANT),
  title: z.string().max(ENVELOPE_LIMITS.titleLength).optional(),
  body: z.string().max(ENVELOPE_LIMITS.bodyLength).optional(),
  data: data.optional(),
  url: httpUrl.optional(),
  channels: z
    .array(z.enum(['inapp', 'email']))
    .min(1)
    .transform((channels) => [...new Set(channels)])
    .default(['inapp']),
  collapseKey: z.string().min(1).max(128).optional(),
});

/** Validates an already-decoded envelope; throws InvalidEnvelopeError naming every problem. */
export function parseEnvelope(input: unknown): Envelope {
  const result = envelopeSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    throw new InvalidEnvelopeError(`invalid envelope: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Decodes and validates an envelope from a message body. */
export function decodeEnvelope(text: string): Envelope {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new InvalidEnvelopeError('invalid envelope: not JSON', { cause: error });
  }
  return parseEnvelope(input);
}

/** The notification a publish becomes, identical on every redelivery of that publish. */
export function toNotification(envelope: Envelope, publishedAt: number): Notification {
  return {
    id: notificationId(publishedAt, envelope.tenant, envelope.id),
    eventId: envelope.id,
    type: envelope.type,
    title: envelope.title,
    body: envelope.body,
    data: envelope.data,
    url: envelope.url,
    topic: 'topic' in envelope.to ? envelope.to.topic : undefined,
    createdAt: new Date(publishedAt).toISOString(),
    read: false,
  };
}
