/**
 * The per-user state hash end to end on the local stack (issue 14): services write it through
 * envelopes (SNS, the real client) and the HTTP route under a service credential; users read
 * it over HTTP and the socket; every socket gets it on connect and after every change.
 */
import { randomUUID } from 'node:crypto';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STATE_LIMITS } from '#core/user-state';
import { type E2e, eventually, startE2e, type TestClient } from '#test/support/e2e';

let e2e: E2e;

beforeAll(async () => {
  e2e = await startE2e();
}, 120_000);

afterAll(async () => {
  await e2e?.stop();
});

const user = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

type StateFrame = { type: 'state'; unread: number; unseen: number; state: Record<string, unknown> };

const stateFrames = (client: TestClient) =>
  client.frames.filter((frame) => frame.type === 'state') as StateFrame[];
const lastState = (client: TestClient) => stateFrames(client).at(-1)?.state;

function stateEnvelope(userId: string, state: Record<string, unknown>, id = randomUUID()) {
  return { id, type: 'counters.changed', to: { users: [userId] }, state };
}

async function http(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${e2e.stack.urls.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const serviceToken = (tenant?: string) =>
  e2e.token('billing-service', { service: true, ...(tenant ? { tenant } : {}) });

async function stateOf(userId: string): Promise<Record<string, unknown>> {
  return (await e2e.getJson('/state', userId)).state as Record<string, unknown>;
}

describe('per-user state, end to end', () => {
  it('sends a raw socket that says nothing its state on connect', async () => {
    const alice = user('alice');
    const token = await serviceToken();
    const set = await http('POST', `/users/${alice}/state`, token, {
      id: randomUUID(),
      set: { plan: 'pro', beta: true },
    });
    expect(set.status).toBe(200);
    const socket = new WebSocket(`${e2e.stack.urls.websocket}/?token=${await e2e.token(alice)}`);
    const frames: Array<Record<string, unknown>> = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    try {
      await eventually(() => {
        expect(frames.find((frame) => frame.type === 'state')).toEqual({
          type: 'state',
          unread: 0,
          unseen: 0,
          state: { plan: 'pro', beta: true, unread: 0, unseen: 0 },
        });
      });
    } finally {
      socket.terminate();
    }
  });

  it('lands incr from 10 concurrent publishers exactly', async () => {
    const bob = user('bob');
    await Promise.all(
      Array.from({ length: 10 }, () => e2e.publish(stateEnvelope(bob, { incr: { messages: 1 } }))),
    );
    await eventually(
      async () => expect(await stateOf(bob)).toMatchObject({ messages: 10 }),
      60_000,
    );
    // Each applied once: a later one lands on 10, not on a lost or a doubled count.
    await e2e.publish(stateEnvelope(bob, { incr: { messages: 5 } }));
    await eventually(async () => expect((await stateOf(bob)).messages).toBe(15), 30_000);
  });

  it('applies a retried state envelope (same id, published twice) once', async () => {
    const carol = user('carol');
    const envelope = stateEnvelope(carol, { incr: { invites: 2 } });
    await e2e.publish(envelope);
    await e2e.publish(envelope);
    // A marker envelope after both: once it applied, the two before it had their turn.
    await e2e.publish(stateEnvelope(carol, { set: { done: true } }));
    await eventually(async () => expect(await stateOf(carol)).toMatchObject({ done: true }));
    await eventually(async () => expect((await stateOf(carol)).invites).toBe(2));
    // The HTTP route's id is the same guarantee.
    const token = await serviceToken();
    const id = randomUUID();
    const first = await http('POST', `/users/${carol}/state`, token, { id, incr: { invites: 1 } });
    const again = await http('POST', `/users/${carol}/state`, token, { id, incr: { invites: 1 } });
    expect(first.body).toMatchObject({ applied: true, state: { invites: 3 } });
    expect(again.body).toMatchObject({ applied: false, state: { invites: 3 } });
  });

  it('shows a second device the state on connect and every change live', async () => {
    const dave = user('dave');
    const phone = await e2e.connect(dave);
    await eventually(() => expect(lastState(phone)).toEqual({ unread: 0, unseen: 0 }));
    await e2e.publish(stateEnvelope(dave, { set: { drafts: 1 } }));
    await eventually(() => expect(lastState(phone)).toMatchObject({ drafts: 1 }));

    const laptop = await e2e.connect(dave);
    await eventually(() => expect(lastState(laptop)).toMatchObject({ drafts: 1, unread: 0 }));

    await e2e.publish(stateEnvelope(dave, { incr: { drafts: 2 }, set: { theme: 'dark' } }));
    const token = await serviceToken();
    await http('POST', `/users/${dave}/state`, token, { id: randomUUID(), unset: ['theme'] });
    for (const device of [phone, laptop]) {
      await eventually(() =>
        expect(lastState(device)).toEqual({ drafts: 3, unread: 0, unseen: 0 }),
      );
      expect(stateFrames(device).some((frame) => frame.state.theme === 'dark')).toBe(true);
    }
    // A notification moves `unread`; reading it pushes the whole hash with the new count.
    await e2e.publish({ id: randomUUID(), type: 'comment.created', to: { users: [dave] } });
    await eventually(() => expect(laptop.notifications()).toHaveLength(1));
    const reply = await laptop.request('state');
    expect(reply.result).toEqual({
      unread: 1,
      unseen: 1,
      state: { drafts: 3, unread: 1, unseen: 1 },
    });
    // Read is not seen: the bell keeps counting it until the feed is opened.
    await laptop.request('markRead', { all: true });
    await eventually(() => expect(lastState(phone)).toEqual({ drafts: 3, unread: 0, unseen: 1 }));
  });

  it('dead-letters an envelope that sets unread, and the HTTP route answers 400', async () => {
    const erin = user('erin');
    const id = randomUUID();
    await e2e.publish(stateEnvelope(erin, { set: { unread: 0 } }, id));
    const seen: Message[] = [];
    await eventually(async () => {
      const received = await e2e.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: e2e.stack.queues.fanOut.deadLetterUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      );
      seen.push(...(received.Messages ?? []));
      const letter = seen.find((message) => message.Body?.includes(id));
      expect(letter?.MessageAttributes?.['herald.reason']?.StringValue).toMatch(
        /state\.set\.unread: "unread" is kept by Herald/,
      );
    }, 30_000);

    const token = await serviceToken();
    for (const key of ['unread', 'unseen', 'heraldVersion']) {
      const refused = await http('POST', `/users/${erin}/state`, token, {
        id: randomUUID(),
        set: { [key]: 1 },
      });
      expect(refused.status).toBe(400);
      expect((refused.body.error as { message: string }).message).toContain(
        `set.${key}: "${key}" is kept by Herald`,
      );
    }
    expect(await stateOf(erin)).toEqual({ unread: 0, unseen: 0 });
  });

  it('answers limits with clear errors', async () => {
    const frank = user('frank');
    const token = await serviceToken();
    const post = (body: Record<string, unknown>) =>
      http('POST', `/users/${frank}/state`, token, { id: randomUUID(), ...body });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { set: { 'bad key': 1 } },
        /set\.bad key: keys must be 1 to 64 characters of \[A-Za-z0-9._:-\]/,
      ],
      [
        { set: { note: 'x'.repeat(STATE_LIMITS.stringLength + 1) } },
        /set\.note: strings hold at most 256 characters/,
      ],
      [{ set: { nested: { a: 1 } } }, /set\.nested: values must be/],
      [{ incr: { count: 'one' } }, /incr\.count: must be a number/],
      [{}, /give at least one key/],
      [{ set: { a: 1 }, unset: ['a'] }, /"a" appears twice/],
    ];
    for (const [body, message] of cases) {
      const refused = await post(body);
      expect({ body, status: refused.status }).toEqual({ body, status: 400 });
      expect((refused.body.error as { message: string }).message).toMatch(message);
    }
    expect((await post({ set: { label: 'text' } })).status).toBe(200);
    const notNumber = await post({ incr: { label: 1 } });
    expect(notNumber.status).toBe(400);
    expect((notNumber.body.error as { message: string }).message).toMatch(
      /state\.incr\.label: the key holds a string, not a number/,
    );
    const many = Object.fromEntries(
      Array.from({ length: STATE_LIMITS.keys }, (_, n) => [`k${n}`, n]),
    );
    const tooMany = await post({ set: many });
    expect(tooMany.status).toBe(400);
    expect((tooMany.body.error as { message: string }).message).toMatch(/at most 64 keys/);
    const big = Object.fromEntries(
      Array.from({ length: 40 }, (_, n) => [`big${n}`, 'y'.repeat(STATE_LIMITS.stringLength)]),
    );
    const tooBig = await post({ set: big });
    expect(tooBig.status).toBe(400);
    expect((tooBig.body.error as { message: string }).message).toMatch(/at most 8192 bytes/);
    expect(await stateOf(frank)).toEqual({ label: 'text', unread: 0, unseen: 0 });
  });

  it("refuses a user's token on the service route, and a service token on a user's", async () => {
    const gina = user('gina');
    const asUser = await http('POST', `/users/${gina}/state`, await e2e.token(gina), {
      id: randomUUID(),
      set: { a: 1 },
    });
    expect(asUser.status).toBe(403);
    const asService = await http('GET', '/state', await serviceToken());
    expect(asService.status).toBe(403);
    expect(await stateOf(gina)).toEqual({ unread: 0, unseen: 0 });
  });

  it("never shows user A user B's state, nor another tenant's", async () => {
    const a = user('a');
    const b = user('b');
    await http('POST', `/users/${b}/state`, await serviceToken(), {
      id: randomUUID(),
      set: { secret: 'b' },
    });
    // The same user id in another tenant is another user.
    await http('POST', `/users/${a}/state`, await serviceToken('globex'), {
      id: randomUUID(),
      set: { secret: 'globex' },
    });
    expect(await stateOf(b)).toEqual({ secret: 'b', unread: 0, unseen: 0 });
    expect(await stateOf(a)).toEqual({ unread: 0, unseen: 0 });
    const other = await e2e.getJson('/state', a, { tenant: 'globex' });
    expect(other.state).toEqual({ secret: 'globex', unread: 0, unseen: 0 });
  });
});
