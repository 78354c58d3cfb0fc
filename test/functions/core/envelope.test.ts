import { describe, expect, it } from 'vitest';
import {
  changeKind,
  DEFAULT_TENANT,
  decodeEnvelope,
  ENVELOPE_LIMITS,
  isLive,
  parseEnvelope,
  toChange,
  toNotification,
} from '#core/envelope';
import { InvalidEnvelopeError } from '#core/errors';
import { notificationFrame } from '#core/frames';
import { isNotificationId, notificationTime } from '#core/notification-id';

/** The example of DESIGN.md "Publish envelope", without its comments. */
const DESIGN_EXAMPLE = {
  id: 'evt-7f3c',
  type: 'comment.created',
  to: { users: ['alice', 'bob'] },
  tenant: 'acme',
  title: 'New comment',
  body: 'Bob replied to your post',
  data: { postId: 42 },
  url: 'https://app.example/posts/42',
  channels: ['inapp', 'email'],
  collapseKey: 'post.42',
};

const MINIMAL = { id: 'evt-1', type: 'comment.created', to: { users: ['alice'] } };

function refusal(input: unknown): InvalidEnvelopeError {
  try {
    parseEnvelope(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEnvelopeError);
    return error as InvalidEnvelopeError;
  }
  throw new Error('expected the envelope to be refused');
}

describe('parseEnvelope', () => {
  it('accepts the DESIGN.md example as it is', () => {
    expect(parseEnvelope(DESIGN_EXAMPLE)).toEqual(DESIGN_EXAMPLE);
  });

  it('defaults the tenant and the channels', () => {
    const envelope = parseEnvelope(MINIMAL);
    expect(envelope.tenant).toBe(DEFAULT_TENANT);
    expect(DEFAULT_TENANT).toBe('default');
    expect(envelope.channels).toEqual(['inapp']);
  });

  it('accepts a topic audience', () => {
    expect(parseEnvelope({ ...MINIMAL, to: { topic: 'project.42' } }).to).toEqual({
      topic: 'project.42',
    });
  });

  it('accepts the limits themselves', () => {
    const users = Array.from({ length: ENVELOPE_LIMITS.users }, (_, i) => `user-${i}`);
    const envelope = parseEnvelope({
      ...MINIMAL,
      id: 'x'.repeat(128),
      type: 'a'.repeat(64),
      to: { users },
      url: 'http://localhost:3000/x',
    });
    expect(envelope.to).toEqual({ users });
  });

  it('collapses duplicate users and channels, keeping first-seen order', () => {
    const envelope = parseEnvelope({
      ...MINIMAL,
      to: { users: ['bob', 'alice', 'bob', 'alice'] },
      channels: ['email', 'inapp', 'email'],
    });
    expect(envelope.to).toEqual({ users: ['bob', 'alice'] });
    expect(envelope.channels).toEqual(['email', 'inapp']);
  });

  it.each([
    ['an empty id', { ...MINIMAL, id: '' }, /\bid\b/],
    ['a 129-character id', { ...MINIMAL, id: 'x'.repeat(129) }, /\bid\b/],
    ['a missing id', { type: 'a', to: { users: ['alice'] } }, /\bid\b/],
    ['an upper-case type', { ...MINIMAL, type: 'Comment.Created' }, /\btype\b/],
    ['a type with a space', { ...MINIMAL, type: 'comment created' }, /\btype\b/],
    ['an empty type', { ...MINIMAL, type: '' }, /\btype\b/],
    ['a 65-character type', { ...MINIMAL, type: 'a'.repeat(65) }, /\btype\b/],
    ['both users and topic', { ...MINIMAL, to: { users: ['a'], topic: 'p' } }, /\bto\b/],
    ['neither users nor topic', { ...MINIMAL, to: {} }, /\bto\b/],
    ['a missing audience', { id: 'e', type: 'a' }, /\bto\b/],
    ['an empty user list', { ...MINIMAL, to: { users: [] } }, /to\.users/],
    ['an empty user id', { ...MINIMAL, to: { users: [''] } }, /to\.users\.0/],
    [
      'a user id with a control character',
      { ...MINIMAL, to: { users: ['al\nice'] } },
      /to\.users\.0/,
    ],
    [
      'more than 1000 users',
      { ...MINIMAL, to: { users: Array.from({ length: 1001 }, (_, i) => `u${i}`) } },
      /\bto\b.*users.*1000/,
    ],
    ['a topic with an empty token', { ...MINIMAL, to: { topic: 'project..42' } }, /to\.topic/],
    ['a topic with a wildcard', { ...MINIMAL, to: { topic: 'project.*' } }, /to\.topic/],
    ['a tenant with a space', { ...MINIMAL, tenant: 'acme corp' }, /\btenant\b/],
    ['an empty tenant', { ...MINIMAL, tenant: '' }, /\btenant\b/],
    ['a 65-character tenant', { ...MINIMAL, tenant: 't'.repeat(65) }, /\btenant\b/],
    ['a javascript: url', { ...MINIMAL, url: 'javascript:alert(1)' }, /\burl\b/],
    ['an ftp url', { ...MINIMAL, url: 'ftp://files.example/x' }, /\burl\b/],
    ['a relative url', { ...MINIMAL, url: '/posts/42' }, /\burl\b/],
    ['data that is an array', { ...MINIMAL, data: [1, 2] }, /\bdata\b/],
    ['data that is a string', { ...MINIMAL, data: 'postId=42' }, /\bdata\b/],
    ['data that is null', { ...MINIMAL, data: null }, /\bdata\b/],
    [
      'data over 16 KB',
      { ...MINIMAL, data: { blob: 'x'.repeat(ENVELOPE_LIMITS.dataBytes) } },
      /\bdata\b/,
    ],
    ['an unknown field', { ...MINIMAL, priority: 'high' }, /priority/],
    ['no channels', { ...MINIMAL, channels: [] }, /\bchannels\b/],
    ['an unknown channel', { ...MINIMAL, channels: ['inapp', 'sms'] }, /\bchannels\b/],
    ['a title over 256 characters', { ...MINIMAL, title: 't'.repeat(257) }, /\btitle\b/],
    ['a body over 4096 characters', { ...MINIMAL, body: 'b'.repeat(4097) }, /\bbody\b/],
  ])('refuses %s, naming the field', (_what, input, field) => {
    const error = refusal(input);
    expect(error.code).toBe('invalid_envelope');
    expect(error.message).toMatch(field);
  });

  it('names every problem at once', () => {
    const { message } = refusal({ ...MINIMAL, id: '', tenant: 'a b' });
    expect(message).toMatch(/\bid\b/);
    expect(message).toMatch(/\btenant\b/);
  });

  it.each([null, 42, 'text', [MINIMAL]])('refuses a non-object (%j)', (input) => {
    expect(refusal(input).message).toMatch(/^invalid envelope/);
  });
});

/** `levels` objects nested in each other, the outermost counting as 1. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 'x' };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/**
 * The largest notification the limits allow: every field at its limit, in characters JSON
 * escapes as six bytes each (`\u0001`), and `data` at its byte limit.
 */
const WORST_CASE = {
  id: '\u0001'.repeat(128),
  type: 't'.repeat(64),
  to: { topic: 'a'.repeat(256) },
  tenant: 'n'.repeat(64),
  title: '\u0001'.repeat(ENVELOPE_LIMITS.titleLength),
  body: '\u0001'.repeat(ENVELOPE_LIMITS.bodyLength),
  data: { blob: '\u0001'.repeat(Math.floor((ENVELOPE_LIMITS.dataBytes - 11) / 6)) },
  url: `https://app.example/${'\u0001'.repeat(ENVELOPE_LIMITS.urlLength - 20)}`,
  channels: ['inapp', 'email'],
  collapseKey: 'k'.repeat(128),
};

describe('parseEnvelope: what could never be stored or pushed', () => {
  /** The reason an envelope is refused: an InvalidEnvelopeError, never another error. */
  function reason(input: unknown): string {
    let thrown: unknown;
    try {
      parseEnvelope(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidEnvelopeError);
    return (thrown as InvalidEnvelopeError).message;
  }

  it('accepts data nested as deep as DynamoDB stores it', () => {
    const data = nested(ENVELOPE_LIMITS.dataDepth);
    expect(parseEnvelope({ ...MINIMAL, data }).data).toEqual(data);
  });

  it.each([ENVELOPE_LIMITS.dataDepth + 1, 5_000, 100_000])(
    'refuses data nested %i levels with the depth rule, not a RangeError',
    (levels) => {
      const text = JSON.stringify({ ...MINIMAL, data: { x: 1 } }).replace(
        '{"x":1}',
        `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`,
      );
      expect(reason(JSON.parse(text))).toBe(
        `invalid envelope: data: must nest at most ${ENVELOPE_LIMITS.dataDepth} levels`,
      );
    },
  );

  it('refuses another field nested deep, before any recursive check sees it', () => {
    expect(reason({ ...MINIMAL, to: nested(10_000) })).toMatch(/^invalid envelope: to: must nest/);
  });

  it.each([
    ['beyond 2^53 - 1', 2 ** 53],
    ['below -(2^53 - 1)', -(2 ** 53)],
    ['1e21', 1e21],
    ['below 1e-130', 1e-131],
    ['a denormal', 5e-324],
  ])('refuses a number in data %s, naming the rule', (_what, value) => {
    expect(reason({ ...MINIMAL, data: { deep: { n: [value] } } })).toMatch(
      /^invalid envelope: data: numbers must be at most 9007199254740991 .* 1e-130/,
    );
  });

  it('accepts the numbers at the edges of what is stored', () => {
    const data = { max: Number.MAX_SAFE_INTEGER, min: Number.MIN_SAFE_INTEGER, tiny: 1e-130 };
    expect(parseEnvelope({ ...MINIMAL, data }).data).toEqual(data);
  });

  it('refuses an empty key in data', () => {
    expect(reason({ ...MINIMAL, data: { a: { '': 1 } } })).toBe(
      'invalid envelope: data: object keys must not be empty',
    );
  });

  it.each<[string, unknown]>([
    ['a Date', { at: new Date(0) }],
    ['a bigint', { n: 1n }],
    ['a function', { f: () => 1 }],
    ['a Map', { m: new Map() }],
  ])('refuses data holding %s (from code, not JSON)', (_what, data) => {
    expect(reason({ ...MINIMAL, data })).toMatch(/^invalid envelope: data: must be plain JSON/);
  });

  it('refuses data holding a cycle', () => {
    const data: Record<string, unknown> = {};
    data.self = data;
    expect(reason({ ...MINIMAL, data })).toMatch(/^invalid envelope: data: must nest/);
  });

  it('refuses an envelope too big to hand on in a retry task, though each field is within its limit', () => {
    const users = Array.from({ length: ENVELOPE_LIMITS.users }, (_, i) =>
      `${i}-`.padEnd(ENVELOPE_LIMITS.userIdLength, 'u'),
    );
    expect(reason({ ...MINIMAL, to: { users } })).toBe(
      `invalid envelope: envelope: must serialize to at most ${ENVELOPE_LIMITS.envelopeBytes} bytes`,
    );
  });

  it('names the rule and the field, never the values', () => {
    const secret = 'hunter2-secret';
    const messages = [
      reason({ ...MINIMAL, data: { [secret]: nested(40) } }),
      reason({ ...MINIMAL, data: { [secret]: 2 ** 60 } }),
      reason({ ...MINIMAL, data: { [secret]: { '': secret } } }),
      reason({ ...MINIMAL, type: secret.toUpperCase() }),
    ];
    for (const message of messages) expect(message.toLowerCase()).not.toContain(secret);
  });

  it('keeps the largest notification the limits allow below the WebSocket frame limit', () => {
    const envelope = parseEnvelope(WORST_CASE);
    const latest = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    const frame = notificationFrame(toNotification(envelope, latest));
    expect(Buffer.byteLength(JSON.stringify(envelope.data))).toBeLessThanOrEqual(
      ENVELOPE_LIMITS.dataBytes,
    );
    expect(Buffer.byteLength(frame)).toBeGreaterThan(50 * 1024);
    expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(ENVELOPE_LIMITS.frameBytes);
  });
});

describe('decodeEnvelope', () => {
  it('decodes and validates JSON text', () => {
    expect(decodeEnvelope(JSON.stringify(DESIGN_EXAMPLE))).toEqual(DESIGN_EXAMPLE);
  });

  it('refuses text that is not JSON with a reason', () => {
    expect(() => decodeEnvelope('{"id": ')).toThrow(InvalidEnvelopeError);
    expect(() => decodeEnvelope('not json')).toThrow(/not JSON/);
  });

  it('refuses text over the most an SNS message carries, before parsing it', () => {
    const text = JSON.stringify({ ...MINIMAL, body: ' '.repeat(ENVELOPE_LIMITS.textBytes) });
    expect(() => decodeEnvelope(text)).toThrow(
      `invalid envelope: must be at most ${ENVELOPE_LIMITS.textBytes} bytes of JSON`,
    );
  });

  it('refuses valid JSON that is not a valid envelope', () => {
    expect(() => decodeEnvelope(JSON.stringify({ ...MINIMAL, id: '' }))).toThrow(
      InvalidEnvelopeError,
    );
  });
});

describe('toNotification', () => {
  const publishedAt = Date.parse('2026-11-23T12:00:00.123Z');
  const envelope = parseEnvelope(DESIGN_EXAMPLE);

  it('carries the envelope into the notification clients see', () => {
    const notification = toNotification(envelope, publishedAt);
    expect(notification).toEqual({
      id: expect.any(String),
      eventId: 'evt-7f3c',
      type: 'comment.created',
      title: 'New comment',
      body: 'Bob replied to your post',
      data: { postId: 42 },
      url: 'https://app.example/posts/42',
      topic: undefined,
      createdAt: '2026-11-23T12:00:00.123Z',
      read: false,
      seen: false,
      archived: false,
      interacted: false,
    });
    expect(isNotificationId(notification.id)).toBe(true);
    expect(notificationTime(notification.id)).toBe(publishedAt);
  });

  it('names the topic for a topic audience', () => {
    const topical = parseEnvelope({ ...MINIMAL, to: { topic: 'project.42' } });
    expect(toNotification(topical, publishedAt).topic).toBe('project.42');
  });

  it('is deterministic: the same envelope and publish time give the same notification', () => {
    const again = parseEnvelope(JSON.parse(JSON.stringify(DESIGN_EXAMPLE)));
    expect(toNotification(again, publishedAt)).toEqual(toNotification(envelope, publishedAt));
  });

  it('gives a different id for another tenant, event id or publish time', () => {
    const { id } = toNotification(envelope, publishedAt);
    expect(toNotification({ ...envelope, tenant: 'other' }, publishedAt).id).not.toBe(id);
    expect(toNotification({ ...envelope, id: 'evt-7f3d' }, publishedAt).id).not.toBe(id);
    expect(toNotification(envelope, publishedAt + 1).id).not.toBe(id);
  });
});

describe('tags and actions', () => {
  const actions = [
    { label: 'Open', url: 'https://app.example/1' },
    { label: 'Mute', url: 'http://app.example/mute' },
  ];

  it('carries them into the notification, tags once each; leaves them out when absent or empty', () => {
    const envelope = parseEnvelope({
      ...MINIMAL,
      tags: ['billing', 'team:red', 'billing'],
      actions,
    });
    const notification = toNotification(envelope, Date.parse('2026-11-23T12:00:00Z'));
    expect(notification).toMatchObject({ tags: ['billing', 'team:red'], actions });
    const plain = toNotification(parseEnvelope({ ...MINIMAL, tags: [], actions: [] }), 0);
    expect(Object.keys(plain)).not.toContain('tags');
    expect(Object.keys(plain)).not.toContain('actions');
  });

  it.each([
    ['six tags', { tags: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'tags:'],
    ['an empty tag', { tags: [''] }, 'tags.0: must be 1 to 32 characters'],
    ['a tag of 33 characters', { tags: ['x'.repeat(33)] }, 'tags.0:'],
    ['a tag with a space', { tags: ['a b'] }, 'tags.0:'],
    ['three actions', { actions: [...actions, actions[0]] }, 'actions:'],
    ['an action without a label', { actions: [{ url: 'https://x.example' }] }, 'actions.0.label'],
    [
      'an action label of 65 characters',
      { actions: [{ label: 'x'.repeat(65), url: 'https://x.example' }] },
      'actions.0.label',
    ],
    [
      'an action url that is not http(s)',
      { actions: [{ label: 'x', url: 'javascript:alert(1)' }] },
      'actions.0.url: must be an http(s) URL',
    ],
    [
      'an action with an unknown field',
      { actions: [{ label: 'x', url: 'https://x.example', style: 'red' }] },
      'actions.0',
    ],
  ])('refuses %s, naming the field', (_what, extra, named) => {
    expect(refusal({ ...MINIMAL, ...extra }).message).toContain(named);
  });
});

describe('parseEnvelope: change events (channels ["live"])', () => {
  const LIVE = { ...MINIMAL, type: 'events-changed', channels: ['live'], collapseKey: 'doc.1' };

  it('accepts a live envelope to users or to a topic', () => {
    expect(parseEnvelope(LIVE).channels).toEqual(['live']);
    expect(parseEnvelope({ ...LIVE, to: { topic: 'project.7' } }).to).toEqual({
      topic: 'project.7',
    });
  });

  it.each([[['live', 'inapp']], [['email', 'live']]])(
    'refuses %j: live stands alone',
    (channels) => {
      expect(refusal({ ...LIVE, channels }).message).toMatch(/channels: "live" stands alone/);
    },
  );

  it('refuses what a change frame has no place for, naming the fields', () => {
    const { message } = refusal({ ...LIVE, title: 'Changed', url: 'https://app.example/' });
    expect(message).toMatch(/title: not sent with channels \["live"\]/);
    expect(message).toMatch(/url: not sent with channels \["live"\]/);
  });

  it('makes the same change on every redelivery, its kind the collapse key (else the type)', () => {
    const envelope = parseEnvelope({ ...LIVE, data: { doc: 1 }, to: { topic: 'project.7' } });
    const change = toChange(envelope, 1_790_000_000_000);
    expect(change).toEqual({
      id: toNotification(envelope, 1_790_000_000_000).id,
      eventId: 'evt-1',
      type: 'events-changed',
      collapseKey: 'doc.1',
      topic: 'project.7',
      data: { doc: 1 },
      at: new Date(1_790_000_000_000).toISOString(),
    });
    expect(toChange(envelope, 1_790_000_000_000)).toEqual(change);
    expect(changeKind(envelope)).toBe('doc.1');
    expect(changeKind(parseEnvelope({ ...MINIMAL, channels: ['live'] }))).toBe('comment.created');
    expect(isLive(envelope)).toBe(true);
    expect(isLive(parseEnvelope(MINIMAL))).toBe(false);
  });
});
