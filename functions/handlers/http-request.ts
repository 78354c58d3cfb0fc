/**
 * What an HTTP API request carries, read and validated at the edge: the bearer token, the
 * `{id}` path parameter, the list query and a JSON body. Schemas are compiled once, here;
 * a value that fails one is a BadRequestError (an UnauthorizedError for the token) whose
 * message names the rule, never the value, so the core gets typed values only.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { BadRequestError, UnauthorizedError } from '#core/errors';
import { isNotificationId } from '#core/notification-id';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;
/** Preferences are small; anything near this is not a preferences document. */
export const MAX_BODY_BYTES = 64 * 1024;
/** RFC 6750's `Bearer <token>`: the scheme in any case, exactly one token68 credential. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const ID_REQUIRED = 'a notification id is required';
const LIMIT_RANGE = `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`;

/** `{id}` of the notification routes: present, and shaped as Herald's notification ids. */
const idParameters = z.object({
  id: z
    .string({ error: ID_REQUIRED })
    .min(1, ID_REQUIRED)
    .refine(isNotificationId, 'not a notification id'),
});

/**
 * `GET /notifications?limit&cursor&unread`; other parameters are ignored. A repeated
 * parameter arrives comma-joined and fails these rules, as it should.
 */
const listParameters = z
  .object({
    limit: z
      .string()
      .regex(/^[0-9]{1,3}$/, LIMIT_RANGE)
      .transform(Number)
      .refine((limit) => limit >= 1 && limit <= MAX_PAGE_LIMIT, LIMIT_RANGE)
      .default(DEFAULT_PAGE_LIMIT),
    unread: z.enum(['true', 'false'], { error: 'unread must be "true" or "false"' }).optional(),
    cursor: z.string().min(1, 'cursor is not valid').optional(),
  })
  .transform(({ limit, cursor, unread }) => ({ limit, cursor, unreadOnly: unread === 'true' }));

/** A JSON document of at most MAX_BODY_BYTES; what it must hold is the route's service's to say. */
const jsonText = z
  .string()
  .refine((text) => Buffer.byteLength(text) <= MAX_BODY_BYTES, 'body is too large')
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', input: text, message: 'body must be JSON' });
      return z.NEVER;
    }
  });

/** `input` as `schema` reads it, or a BadRequestError with the first rule it broke. */
function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? 'request is not valid';
  throw new BadRequestError(message, 'bad_request', { cause: result.error });
}

export function notificationIdOf(event: APIGatewayProxyEventV2): string {
  return parseInput(idParameters, event.pathParameters ?? {}).id;
}

export function listQueryOf(event: APIGatewayProxyEventV2) {
  return parseInput(listParameters, event.queryStringParameters ?? {});
}

export function jsonBodyOf(event: APIGatewayProxyEventV2): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  return parseInput(jsonText, text);
}

const ACTION_RULE = "action must be the index of one of the notification's actions (0 or 1)";

/** `POST /notifications/{id}/interact` `{"action": 0|1}`: which button was pressed. */
const interactBody = z.object(
  { action: z.number({ error: ACTION_RULE }).int(ACTION_RULE).min(0, ACTION_RULE) },
  { error: 'body must be a JSON object with "action"' },
);

export function interactionOf(event: APIGatewayProxyEventV2): number {
  return parseInput(interactBody, jsonBodyOf(event)).action;
}

/** What carries the headers: a route's event, or an HTTP API authorizer's. */
type HeadersOf = { headers?: APIGatewayProxyEventV2['headers'] };

/** The Authorization header's value. API Gateway lower-cases names; a hand-made event may not. */
function authorizationOf(event: HeadersOf): string | undefined {
  let found: string | undefined;
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() !== 'authorization' || value === undefined) continue;
    // Two spellings of one header: which one would count is unclear.
    if (found !== undefined) throw new UnauthorizedError('authorization header repeated');
    found = value;
  }
  return found;
}

/**
 * The bearer token, or an UnauthorizedError (a 401, not a 400: the contract answers any
 * credential problem so). A repeated header arrives comma-joined and fails the pattern.
 */
export function bearerTokenOf(event: HeadersOf): string {
  const header = authorizationOf(event)?.trim();
  if (header === undefined || header === '') throw new UnauthorizedError('bearer token missing');
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) {
    throw new UnauthorizedError('authorization is not a single bearer token');
  }
  return token;
}
