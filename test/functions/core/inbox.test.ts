import { describe, expect, it } from 'vitest';
import { BadRequestError, NotFoundError, RetryableError } from '#core/errors';
import { createInboxService, type InboxServiceDeps } from '#core/inbox';
import type { Connection, Notification, Recipient } from '#core/model';
import { notificationId } from '#core/notification-id';
import { FakeClock, FakeConnectionStore, FakeDelivery, FakeInbox } from '#test/support/fakes';

const ALICE = { tenant: 'acme', userId: 'alice', topicPatterns: [] };
const NOW = Date.parse('2026-11-23T12:00:00.000Z');
let sequence = 0;

function note(): Notification {
  sequence += 1;
  return {
    id: notificationId(NOW + sequence, 'acme', `evt-${sequence}`),
    eventId: `evt-${sequence}`,
    type: 'comment.created',
    createdAt: new Date(NOW + sequence).toISOString(),
    read: false,
    seen: false,
    archived: false,
    interacted: false,
  };
}

function connection(connectionId: string, userId: string, tenant = 'acme'): Connection {
  return {
    connectionId,
    userId,
    tenant,
    topicPatterns: [],
    topics: [],
    connectedAt: NOW - 1000,
  };
}

function setup(overrides: Partial<InboxServiceDeps> = {}) {
  const inbox = new FakeInbox();
  const connections = new FakeConnectionStore();
  const delivery = new FakeDelivery();
  const clock = new FakeClock(NOW);
  const problems: Array<{ what: string; error: unknown }> = [];
  const service = createInboxService({
    inbox,
    connections,
    delivery,
    clock,
    random: () => 0.5,
    onPushProblem: (problem) => problems.push(problem),
    ...overrides,
  });
  const stored = async (userId = 'alice', tenant = 'acme', count = 1) => {
    const recipient: Recipient = { kind: 'user', tenant, userId };
    const notes = Array.from({ length: count }, note);
    for (const each of notes) await inbox.store(recipient, each);
    return notes;
  };
  const online = async (...all: Connection[]) => {
    for (const each of all) await connections.put(each, 0);
  };
  /** The state frames each connection received, in order: their unread counts (unseen: below). */
  const states = (connectionId: string) =>
    delivery
      .delivered(connectionId)
      .filter((frame) => (frame as { type: string }).type === 'state')
      .map((frame) => ({ type: 'state', unread: (frame as { unread: number }).unread }));
  return { inbox, connections, delivery, service, problems, stored, online, states };
}

describe('state pushes', () => {
  it('tells every live connection of the user, and nobody else, the new count after a mark', async () => {
    const { service, stored, online, states, delivery } = setup();
    const [first] = await stored('alice', 'acme', 3);
    await online(
      connection('a1', 'alice'),
      connection('a2', 'alice'),
      connection('b1', 'bob'),
      connection('g1', 'alice', 'globex'),
    );

    const result = await service.markRead(ALICE, [first?.id ?? '']);

    expect(result).toMatchObject({ unread: 2, notFound: [] });
    expect(states('a1')).toEqual([{ type: 'state', unread: 2 }]);
    expect(states('a2')).toEqual([{ type: 'state', unread: 2 }]);
    expect(delivery.delivered('b1')).toEqual([]);
    expect(delivery.delivered('g1')).toEqual([]);
  });

  it('pushes nothing when a change changes nothing', async () => {
    const { service, stored, online, delivery } = setup();
    const [first] = await stored();
    const id = first?.id ?? '';
    await online(connection('a1', 'alice'));
    await service.markRead(ALICE, [id]);
    delivery.posts.length = 0;

    expect(await service.markRead(ALICE, [id])).toMatchObject({ unread: 0, notFound: [] });
    expect(await service.markAllRead(ALICE)).toMatchObject({ unread: 0 });
    expect(delivery.posts).toEqual([]);
  });

  it('pushes after every change: mark unread, read all, deleting an unread one and a read one', async () => {
    const { service, stored, online, states } = setup();
    const [a, b, c] = await stored('alice', 'acme', 3);
    await online(connection('a1', 'alice'));

    await service.markRead(ALICE, [a?.id ?? '']);
    expect(await service.markUnread(ALICE, a?.id ?? '')).toMatchObject({ unread: 3 });
    expect(await service.remove(ALICE, b?.id ?? '')).toMatchObject({ unread: 2 });
    expect(await service.markAllRead(ALICE)).toMatchObject({ unread: 0 });
    expect(await service.remove(ALICE, c?.id ?? '')).toMatchObject({ unread: 0 });

    // Deleting the read `c` moves no unread count, but the list (and the unseen count) changed.
    expect(states('a1').map((frame) => (frame as { unread: number }).unread)).toEqual([
      2, 3, 2, 0, 0,
    ]);
  });

  it('prunes a gone connection, retries a throttled one, and never fails the change for a push', async () => {
    const { service, stored, online, delivery, connections, problems, states } = setup({
      settings: { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    const [first, second] = await stored('alice', 'acme', 2);
    await online(
      connection('a1', 'alice'),
      connection('gone', 'alice'),
      connection('slow', 'alice'),
    );
    delivery.behaviour = (id, attempt) =>
      id === 'gone' ? 'gone' : id === 'slow' && attempt === 1 ? new RetryableError('429') : 'ok';

    expect(await service.markRead(ALICE, [first?.id ?? ''])).toMatchObject({ unread: 1 });
    expect(connections.removed).toEqual(['gone']);
    expect(states('slow')).toEqual([{ type: 'state', unread: 1 }]);

    delivery.behaviour = (id) => (id === 'slow' ? new Error('boom') : 'ok');
    expect(await service.markRead(ALICE, [second?.id ?? ''])).toMatchObject({ unread: 0 });
    expect(states('a1')).toHaveLength(2);
    expect(problems.map((problem) => problem.what)).toEqual(['state push to slow']);
  });

  it('still answers when the connections cannot even be listed', async () => {
    const { service, stored, connections, problems } = setup();
    const [first] = await stored();
    connections.listForUser = async () => {
      throw new Error('DynamoDB unavailable');
    };

    expect(await service.markRead(ALICE, [first?.id ?? ''])).toMatchObject({
      unread: 0,
      notFound: [],
    });
    expect(problems.map((problem) => problem.what)).toEqual(['state push']);
  });
});

describe('a count moved from outside', () => {
  it('announces the count to every live connection of the user after an unread one expired', async () => {
    const { inbox, service, stored, online, states, delivery } = setup();
    const [gone] = await stored('alice', 'acme', 3);
    await online(connection('a1', 'alice'), connection('a2', 'alice'), connection('b1', 'bob'));
    inbox.expire({ kind: 'user', tenant: 'acme', userId: 'alice' }, gone?.id ?? '');

    expect(await service.announceState(ALICE)).toMatchObject({ unread: 2 });
    expect(states('a1')).toEqual([{ type: 'state', unread: 2 }]);
    expect(states('a2')).toEqual([{ type: 'state', unread: 2 }]);
    expect(delivery.delivered('b1')).toEqual([]);
    expect(await service.markAllRead(ALICE)).toMatchObject({ unread: 0 });
    expect(states('a1')).toEqual([
      { type: 'state', unread: 2 },
      { type: 'state', unread: 0 },
    ]);
  });
});

describe('ownership', () => {
  it('never touches another user’s or tenant’s notification: not found, and it stays as it was', async () => {
    const { service, stored, inbox } = setup();
    const [bobs] = await stored('bob');
    const [otherAlices] = await stored('alice', 'globex');
    const bobId = bobs?.id ?? '';
    const globexId = otherAlices?.id ?? '';

    expect(await service.markRead(ALICE, [bobId, globexId])).toMatchObject({
      unread: 0,
      notFound: [bobId, globexId],
    });
    await expect(service.markUnread(ALICE, bobId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.remove(ALICE, globexId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.get(ALICE, bobId)).rejects.toBeInstanceOf(NotFoundError);

    expect(await inbox.unreadCount('acme', 'bob')).toBe(1);
    expect(await inbox.unreadCount('globex', 'alice')).toBe(1);
    expect(await inbox.get('acme', 'bob', bobId)).toMatchObject({ read: false });
    // Every call was addressed by the caller's own partition.
    expect(inbox.calls.every((call) => call.includes(' acme/alice'))).toBe(true);
  });
});

describe('input', () => {
  it('refuses ids that are not notification ids, and empty or oversized batches', async () => {
    const { service, inbox } = setup({ settings: { maxIds: 3 } });
    const ids = Array.from({ length: 4 }, () => note().id);

    for (const call of [
      () => service.markRead(ALICE, ['not-an-id']),
      () => service.markRead(ALICE, []),
      () => service.markRead(ALICE, ids),
      () => service.markUnread(ALICE, '../../etc'),
      () => service.remove(ALICE, ''),
      () => service.get(ALICE, 'x'),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(BadRequestError);
    }
    expect(inbox.calls).toEqual([]);
  });

  it('takes a repeated id once', async () => {
    const { service, stored, inbox } = setup({ settings: { maxIds: 2 } });
    const [first] = await stored();
    const id = first?.id ?? '';

    expect(await service.markRead(ALICE, [id, id, id])).toMatchObject({ unread: 0, notFound: [] });
    expect(inbox.calls).toEqual([`markRead acme/alice ${id}`]);
  });

  it('lists a page within the limits only', async () => {
    const { service, stored } = setup();
    const notes = await stored('alice', 'acme', 3);

    const page = await service.list(ALICE, { limit: 2 });
    expect(page.items.map((item) => item.id)).toEqual([notes[2]?.id, notes[1]?.id]);
    const rest = await service.list(ALICE, { limit: 2, cursor: page.cursor });
    expect(rest).toEqual({ items: [notes[0]] });
    for (const limit of [0, 101, 1.5, Number.NaN]) {
      await expect(service.list(ALICE, { limit })).rejects.toBeInstanceOf(BadRequestError);
    }
  });

  it('lists only unread ones when asked', async () => {
    const { service, stored } = setup();
    const [a, b] = await stored('alice', 'acme', 2);
    await service.markRead(ALICE, [b?.id ?? '']);

    expect((await service.list(ALICE, { limit: 10, unreadOnly: true })).items).toEqual([a]);
  });

  it('answers the state of a user who never got anything with zero', async () => {
    const { service } = setup();

    expect(await service.state({ tenant: 'acme', userId: 'newcomer' })).toMatchObject({
      unread: 0,
    });
  });
});

describe('seen, archived, interacted', () => {
  it('pushes both counts and the state hash to every connection after each change', async () => {
    const { service, stored, online, delivery } = setup();
    const [a] = await stored('alice', 'acme', 2);
    await online(connection('a1', 'alice'), connection('a2', 'alice'));

    expect(await service.change(ALICE, a?.id ?? '', 'seen')).toEqual({ unread: 2, unseen: 1 });
    for (const connectionId of ['a1', 'a2']) {
      expect(delivery.delivered(connectionId)).toEqual([
        { type: 'state', unread: 2, unseen: 1, state: { unread: 2, unseen: 1 } },
      ]);
    }
  });

  it('hides an archived one from both counts and the default list, and brings it back', async () => {
    const { service, stored, online, delivery } = setup();
    const [a, b] = await stored('alice', 'acme', 2);
    await online(connection('a1', 'alice'));

    expect(await service.change(ALICE, a?.id ?? '', 'archive')).toEqual({ unread: 1, unseen: 1 });
    expect((await service.list(ALICE, { limit: 10 })).items.map((item) => item.id)).toEqual([
      b?.id,
    ]);
    // Archiving again changes nothing and tells nobody.
    expect(await service.change(ALICE, a?.id ?? '', 'archive')).toEqual({ unread: 1, unseen: 1 });
    expect(await service.change(ALICE, a?.id ?? '', 'unarchive')).toEqual({ unread: 2, unseen: 2 });
    expect(delivery.delivered('a1')).toHaveLength(2);
    expect((await service.get(ALICE, a?.id ?? '')).archived).toBe(false);
  });

  it('marks every unseen one seen, leaving them unread', async () => {
    const { service, stored } = setup();
    await stored('alice', 'acme', 3);

    expect(await service.markAllSeen(ALICE)).toEqual({ unread: 3, unseen: 0 });
    expect(await service.markAllSeen(ALICE)).toEqual({ unread: 3, unseen: 0 });
  });

  it('records a press of an action as interacted, read and seen; refuses an action it lacks', async () => {
    const { service, inbox } = setup();
    const alice: Recipient = { kind: 'user', tenant: 'acme', userId: 'alice' };
    const withAction = { ...note(), actions: [{ label: 'Open', url: 'https://app.example/1' }] };
    const plain = note();
    await inbox.store(alice, withAction);
    await inbox.store(alice, plain);

    await expect(service.interact(ALICE, withAction.id, 1)).rejects.toThrow(
      'action must be an integer from 0 to 0',
    );
    await expect(service.interact(ALICE, plain.id, 0)).rejects.toThrow(
      'action: this notification has no actions',
    );
    expect(await service.interact(ALICE, withAction.id, 0)).toEqual({ unread: 1, unseen: 1 });
    expect(await service.get(ALICE, withAction.id)).toMatchObject({
      interacted: true,
      read: true,
      seen: true,
    });
  });

  it('answers not found for another user’s notification', async () => {
    const { service, stored } = setup();
    const [bobs] = await stored('bob');

    for (const change of ['seen', 'archive', 'unarchive'] as const) {
      await expect(service.change(ALICE, bobs?.id ?? '', change)).rejects.toBeInstanceOf(
        NotFoundError,
      );
    }
    await expect(service.interact(ALICE, bobs?.id ?? '', 0)).rejects.toBeInstanceOf(NotFoundError);
  });
});
