import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BadRequestError, UnauthorizedError } from '#core/errors';
import { notificationId } from '#core/notification-id';
import {
  bearerTokenOf,
  DEFAULT_PAGE_LIMIT,
  jsonBodyOf,
  listQueryOf,
  MAX_BODY_BYTES,
  MAX_PAGE_LIMIT,
  notificationIdOf,
} from '#handlers/http-request';

/** Just the parts of an event these readers look at. */
function event(parts: Partial<APIGatewayProxyEventV2>): APIGatewayProxyEventV2 {
  return { headers: {}, isBase64Encoded: false, ...parts } as APIGatewayProxyEventV2;
}

/** The BadRequestError `read` throws: its message, and that it keeps the schema's verdict. */
function badRequest(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).code).toBe('bad_request');
    expect((error as BadRequestError).cause).toBeDefined();
    return (error as BadRequestError).message;
  }
  throw new Error('expected a bad request');
}

describe('notificationIdOf', () => {
  const id = notificationId(Date.parse('2026-11-23T12:00:00Z'), 'acme', 'evt-1');

  it('reads a notification id from the path', () => {
    expect(notificationIdOf(event({ pathParameters: { id } }))).toBe(id);
  });

  it('refuses a missing id and one that is not a notification id, by rule', () => {
    expect(badRequest(() => notificationIdOf(event({})))).toBe('a notification id is required');
    expect(badRequest(() => notificationIdOf(event({ pathParameters: { id: '' } })))).toBe(
      'a notification id is required',
    );
    expect(badRequest(() => notificationIdOf(event({ pathParameters: { id: 'nope' } })))).toBe(
      'not a notification id',
    );
  });
});

describe('listQueryOf', () => {
  it('defaults the limit and reads unread and cursor, ignoring other parameters', () => {
    expect(listQueryOf(event({}))).toEqual({
      limit: DEFAULT_PAGE_LIMIT,
      cursor: undefined,
      unreadOnly: false,
      filter: {},
    });
    expect(
      listQueryOf(
        event({ queryStringParameters: { limit: '100', unread: 'true', cursor: 'c', x: 'y' } }),
      ),
    ).toEqual({ limit: MAX_PAGE_LIMIT, cursor: 'c', unreadOnly: true, filter: {} });
    expect(listQueryOf(event({ queryStringParameters: { unread: 'false' } })).unreadOnly).toBe(
      false,
    );
  });

  it('reads the filters, booleans as true|false', () => {
    expect(
      listQueryOf(
        event({
          queryStringParameters: {
            tag: 'team:red',
            type: 'invoice.due',
            topic: 'project.42',
            read: 'false',
            seen: 'true',
            archived: 'true',
            snoozed: 'false',
          },
        }),
      ).filter,
    ).toEqual({
      tag: 'team:red',
      type: 'invoice.due',
      topic: 'project.42',
      read: false,
      seen: true,
      archived: true,
      snoozed: false,
    });
  });

  it.each([
    [{ tag: 'a b' }, 'tag must be 1 to 32 characters of [A-Za-z0-9._:-]'],
    [{ seen: 'yes' }, 'seen must be "true" or "false"'],
    [{ type: 'A' }, 'type must be 1 to 64 characters of [a-z0-9._-]'],
  ])('refuses the filter %j, naming the rule', (query, message) => {
    expect(() => listQueryOf(event({ queryStringParameters: query }))).toThrow(message);
  });

  it.each([
    [{ limit: '0' }, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`],
    [{ limit: '101' }, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`],
    [{ limit: '1000' }, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`],
    [{ limit: '5.0' }, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`],
    [{ limit: '5,6' }, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`],
    [{ limit: '' }, `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`],
    [{ unread: 'yes' }, 'unread must be "true" or "false"'],
    [{ cursor: '' }, 'cursor is not valid'],
    // The first rule broken wins, in the order limit, unread, cursor.
    [
      { cursor: '', unread: 'no', limit: 'x' },
      `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`,
    ],
  ])('refuses %o: %s', (queryStringParameters, message) => {
    expect(badRequest(() => listQueryOf(event({ queryStringParameters })))).toBe(message);
  });
});

describe('jsonBodyOf', () => {
  it('parses a JSON body, base64-encoded or not', () => {
    const body = JSON.stringify({ channels: { email: 'never' } });
    expect(jsonBodyOf(event({ body }))).toEqual({ channels: { email: 'never' } });
    expect(
      jsonBodyOf(event({ body: Buffer.from(body).toString('base64'), isBase64Encoded: true })),
    ).toEqual({ channels: { email: 'never' } });
  });

  it('refuses no body, a body that is not JSON, and one too large', () => {
    expect(badRequest(() => jsonBodyOf(event({})))).toBe('body must be JSON');
    expect(badRequest(() => jsonBodyOf(event({ body: '{channels:' })))).toBe('body must be JSON');
    const large = JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES) });
    expect(badRequest(() => jsonBodyOf(event({ body: large })))).toBe('body is too large');
    // Counted in bytes: 40,000 two-byte characters are over 64 KiB.
    const wide = JSON.stringify('é'.repeat(40_000));
    expect(badRequest(() => jsonBodyOf(event({ body: wide })))).toBe('body is too large');
  });
});

describe('bearerTokenOf', () => {
  const refusal = (headers: Record<string, string>): string => {
    try {
      bearerTokenOf(event({ headers }));
    } catch (error) {
      expect(error).toBeInstanceOf(UnauthorizedError);
      return (error as UnauthorizedError).message;
    }
    throw new Error('expected a refusal');
  };

  it('reads one bearer token, whatever the case of scheme and header name', () => {
    expect(bearerTokenOf(event({ headers: { authorization: 'Bearer a.b.c' } }))).toBe('a.b.c');
    expect(bearerTokenOf(event({ headers: { Authorization: 'bearer  a.b.c ' } }))).toBe('a.b.c');
  });

  it('refuses with 401 reasons, never a 400', () => {
    expect(refusal({})).toBe('bearer token missing');
    expect(refusal({ authorization: 'Basic x' })).toBe(
      'authorization is not a single bearer token',
    );
    expect(refusal({ authorization: 'Bearer a, Bearer b' })).toBe(
      'authorization is not a single bearer token',
    );
    expect(refusal({ authorization: 'Bearer a', Authorization: 'Bearer a' })).toBe(
      'authorization header repeated',
    );
  });
});
