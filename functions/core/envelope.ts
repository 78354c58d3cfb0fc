import * as z from 'zod';
import { InvalidEnvelopeError } from './errors';
import type { Change, Envelope, Notification } from './model';
import { notificationId } from './notification-id';
import { type PlainJsonProblem, plainJsonProblem, STORABLE_NUMBERS } from './plain-json';
import { isValidTopic } from './topics';

export const DEFAULT_TENANT = 'default';

/**
 * Limits that keep every envelope that passes them storable and deliverable: a rendered
 * notification frame far below API Gateway's 128 KB, an item far below DynamoDB's 400 KB.
 */
export const ENVELOPE_LIMITS = {
  users: 1000,
  userIdLength: 256,
  titleLength: 256,
  bodyLength: 4096,
  urlLength: 2048,
  dataBytes: 16 * 1024,
  /**
   * Levels of objects and arrays in `data`, its own object counting as 1: DynamoDB refuses
   * an item whose attributes nest 32 levels deep (measured on DynamoDB Local).
   */
  dataDepth: 31,
  /** An envelope's JSON text: the most an SNS message carries. */
  textBytes: 256 * 1024,
  /**
   * The envelope as Herald writes it again (in retry tasks on SQS, in collapse windows in
   * DynamoDB), leaving room for what surrounds it there.
   */
  envelopeBytes: 192 * 1024,
  /**
   * API Gateway's WebSocket message limit, which the largest frame the limits above allow
   * stays below (the tests build it).
   */
  frameBytes: 128 * 1024,
  tags: 5,
  tagLength: 32,
  actions: 2,
  actionLabelLength: 64,
} as const;

/** A tag: what `GET /notifications?tag=` and the counts filter by. */
export const TAG_PATTERN = /^[A-Za-z0-9._:-]{1,32}$/;
export const TAG_RULE = `must be 1 to ${ENVELOPE_LIMITS.tagLength} characters of [A-Za-z0-9._:-]`;

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

const tags = z
  .array(z.string().regex(TAG_PATTERN, TAG_RULE))
  .max(ENVELOPE_LIMITS.tags)
  .transform((values) => [...new Set(values)]);

const actions = z
  .array(
    z.strictObject({
      label: z.string().min(1).max(ENVELOPE_LIMITS.actionLabelLength),
      url: httpUrl,
    }),
  )
  .max(ENVELOPE_LIMITS.actions);

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
    .array(z.enum(['inapp', 'email', 'live']))
    .min(1)
    .transform((channels) => [...new Set(channels)])
    .refine((channels) => !channels.includes('live') || channels.length === 1, {
      message: '"live" stands alone: a change event is never stored or mailed',
    })
    .default(['inapp']),
  collapseKey: z.string().min(1).max(128).optional(),
  tags: tags.optional(),
  actions: actions.optional(),
});

/** What a change event carries; the rest of a notification has no place in a `change` frame. */
const NOT_LIVE = ['title', 'body', 'url'] as const;

/**
 * Validates an already-decoded envelope; throws InvalidEnvelopeError naming every problem
 * (the rules and fields, never the values). Its shape is checked first, without recursion,
 * so that nothing after it (zod, `JSON.stringify`, marshalling) can overflow the stack.
 */
export function parseEnvelope(input: unknown): Envelope {
  const shape = plainJsonProblem(input, {
    // The envelope's own object, then `data`'s levels.
    maxDepth: ENVELOPE_LIMITS.dataDepth + 1,
    maxValues: ENVELOPE_LIMITS.textBytes,
  });
  if (shape) throw invalidEnvelope([describeShapeProblem(shape)]);
  const result = envelopeSchema.safeParse(input);
  if (!result.success) {
    throw invalidEnvelope(
      result.error.issues.map((issue) => {
        const path = issue.path.join('.');
        return path ? `${path}: ${issue.message}` : issue.message;
      }),
    );
  }
  const notLive = isLive(result.data)
    ? NOT_LIVE.filter((field) => result.data[field] !== undefined).map(
        (field) => `${field}: not sent with channels ["live"] (put what the app needs in data)`,
      )
    : [];
  if (notLive.length > 0) throw invalidEnvelope(notLive);
  const oversize = sizeProblems(result.data);
  if (oversize.length > 0) throw invalidEnvelope(oversize);
  return result.data;
}

function invalidEnvelope(problems: string[]): InvalidEnvelopeError {
  return new InvalidEnvelopeError(`invalid envelope: ${problems.join('; ')}`);
}

/** Names the envelope's field the problem is in, never a key or value from inside it. */
function describeShapeProblem({ rule, path }: PlainJsonProblem): string {
  const field = String(path[0] ?? '') || 'envelope';
  switch (rule) {
    case 'depth':
      return `${field}: must nest at most ${ENVELOPE_LIMITS.dataDepth} levels`;
    case 'values':
      return `envelope: must hold at most ${ENVELOPE_LIMITS.textBytes} values`;
    case 'type':
      return `${field}: must be plain JSON (objects, arrays, strings, finite numbers, booleans, null)`;
    case 'number':
      return (
        `${field}: numbers must be at most ${STORABLE_NUMBERS.maxMagnitude} and, unless 0, ` +
        `at least ${STORABLE_NUMBERS.minMagnitude} in magnitude (send others as strings)`
      );
    case 'key':
      return `${field}: object keys must not be empty`;
  }
}

/**
 * What would not fit where Herald writes a valid envelope again. The notification frame
 * needs no check: the field limits keep it far below `frameBytes` (the tests prove it).
 */
function sizeProblems(envelope: Envelope): string[] {
  if (Buffer.byteLength(JSON.stringify(envelope)) <= ENVELOPE_LIMITS.envelopeBytes) return [];
  return [`envelope: must serialize to at most ${ENVELOPE_LIMITS.envelopeBytes} bytes`];
}

/** Decodes and validates an envelope from a message body. */
export function decodeEnvelope(text: string): Envelope {
  if (Buffer.byteLength(text) > ENVELOPE_LIMITS.textBytes) {
    throw new InvalidEnvelopeError(
      `invalid envelope: must be at most ${ENVELOPE_LIMITS.textBytes} bytes of JSON`,
    );
  }
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
    seen: false,
    archived: false,
    interacted: false,
    ...(envelope.tags && envelope.tags.length > 0 ? { tags: envelope.tags } : {}),
    ...(envelope.actions && envelope.actions.length > 0 ? { actions: envelope.actions } : {}),
  };
}

/** Whether the envelope is a change event (`channels: ["live"]`): pushed, never stored. */
export function isLive(envelope: Pick<Envelope, 'channels'>): boolean {
  return envelope.channels.includes('live');
}

/** What a change event's recipients are told they may have missed: its collapse key, else its type. */
export function changeKind(envelope: Pick<Envelope, 'type' | 'collapseKey'>): string {
  return envelope.collapseKey ?? envelope.type;
}

/** The change a live envelope published at `publishedAt` is, the same on every redelivery. */
export function toChange(envelope: Envelope, publishedAt: number): Change {
  const change: Change = {
    id: notificationId(publishedAt, envelope.tenant, envelope.id),
    eventId: envelope.id,
    type: envelope.type,
    at: new Date(publishedAt).toISOString(),
  };
  if (envelope.collapseKey !== undefined) change.collapseKey = envelope.collapseKey;
  if ('topic' in envelope.to) change.topic = envelope.to.topic;
  if (envelope.data !== undefined) change.data = envelope.data;
  return change;
}
