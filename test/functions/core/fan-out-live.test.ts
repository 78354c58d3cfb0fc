/** Change events (`channels: ["live"]`) through the fan-out: pushed, coalesced, never stored. */
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '#core/envelope';
import { type Arrival, DEFAULT_FAN_OUT_SETTINGS, FanOutBatch } from '#core/fan-out';
import type { Recipient } from '#core/model';
import { ManualClock } from '#test/support/fakes';
import {
  connection,
  connector,
  drain,
  FIRST,
  fakeWorld,
  fanOutOver,
  PUBLISHED_AT,
  REDELIVERED,
  setup,
  TENANT,
} from '#test/support/fan-out-fixtures';

const WINDOW = DEFAULT_FAN_OUT_SETTINGS.coalescing.windowMs;
const alice: Recipient = { kind: 'user', tenant: TENANT, userId: 'alice' };

/** A change event `seq` to `to`, with `extra` over the defaults. */
function change(seq: number, to: object = { users: ['alice'] }, extra: object = {}) {
  return parseEnvelope({
    id: `evt-${seq}`,
    type: 'events-changed',
    tenant: TENANT,
    to,
    channels: ['live'],
    data: { seq },
    ...extra,
  });
}

function at(seq: number, extra: Partial<Arrival> = {}): Arrival {
  return { publishedAt: PUBLISHED_AT + seq, redelivered: false, ...extra };
}

type ChangeFrame = { type: string; change: { data: { seq: number } } };
const seqs = (frames: unknown[]) => (frames as ChangeFrame[]).map((f) => f.change.data.seq);

describe('fan-out of change events', () => {
  it('pushes a change frame to every connection of each user, stores nothing, notes the kind', async () => {
    const { fanOut, delivery, inbox, ledger, changes, connect } = setup();
    await connect(connection('a1', 'alice'), connection('a2', 'alice'), connection('b1', 'bob'));

    const report = await fanOut.publish(change(1, { users: ['alice', 'bob'] }), FIRST);

    expect(report.delivered).toBe(3);
    expect(delivery.delivered('a1')).toEqual([
      {
        type: 'change',
        change: {
          id: report.notificationId,
          eventId: 'evt-1',
          type: 'events-changed',
          data: { seq: 1 },
          at: new Date(PUBLISHED_AT).toISOString(),
        },
      },
    ]);
    expect(seqs(delivery.delivered('b1'))).toEqual([1]);
    expect(inbox.items.size).toBe(0);
    expect(ledger.first.size).toBe(0);
    expect((await changes.last(alice)).map((c) => [c.kind, c.id])).toEqual([
      ['events-changed', report.notificationId],
    ]);
  });

  it('pushes to users without asking their preferences: a change event is no notification', async () => {
    const { fanOut, delivery, preferences, connect } = setup();
    await preferences.putUser(TENANT, 'alice', { channels: { inapp: false } });
    await connect(connection('a1', 'alice'));
    await fanOut.publish(change(1), FIRST);
    expect(seqs(delivery.delivered('a1'))).toEqual([1]);
  });

  it('turns a burst with one collapseKey into one push of the last per socket, noted once', async () => {
    const shared = fakeWorld();
    const clock = new ManualClock(PUBLISHED_AT);
    await connector(shared)(connection('a1', 'alice'), connection('a2', 'alice'));
    const fanOut = fanOutOver(shared, clock, DEFAULT_FAN_OUT_SETTINGS);
    const batch = new FanOutBatch();
    const runs = Array.from({ length: 50 }, (_, seq) =>
      fanOut.publish(change(seq, undefined, { collapseKey: 'doc.1' }), at(seq, { batch })),
    );
    await clock.untilSleeping(1);
    expect(shared.delivery.posts).toEqual([]);
    clock.advance(WINDOW);
    const reports = await Promise.all(runs);

    expect(seqs(shared.delivery.delivered('a1'))).toEqual([49]);
    expect(seqs(shared.delivery.delivered('a2'))).toEqual([49]);
    expect(reports.reduce((sum, report) => sum + report.coalesced, 0)).toBe(49);
    expect(shared.collapses.calls).toEqual(['offer', 'close', 'settle']);
    expect(shared.changes.notes.map((note) => note.change.kind)).toEqual(['doc.1']);
    expect(shared.inbox.items.size).toBe(0);
  });

  it('keeps change events and notifications of one collapseKey in slots apart', async () => {
    const shared = fakeWorld();
    const clock = new ManualClock(PUBLISHED_AT);
    await connector(shared)(connection('a1', 'alice'));
    const fanOut = fanOutOver(shared, clock, DEFAULT_FAN_OUT_SETTINGS);
    const notification = parseEnvelope({
      id: 'evt-note',
      type: 'comment.created',
      tenant: TENANT,
      to: { users: ['alice'] },
      collapseKey: 'doc.1',
    });
    const runs = [
      fanOut.publish(notification, at(0)),
      fanOut.publish(change(1, undefined, { collapseKey: 'doc.1' }), at(1)),
    ];
    await clock.untilSleeping(2);
    clock.advance(WINDOW);
    await Promise.all(runs);

    const types = shared.delivery.delivered('a1').map((frame) => (frame as { type: string }).type);
    expect(types.sort()).toEqual(['change', 'notification']);
    expect(shared.inbox.items.size).toBe(1);
  });

  it('pushes a redelivered change again: at least once, clients drop repeats by id', async () => {
    const { fanOut, delivery, connect } = setup();
    await connect(connection('a1', 'alice'));
    await fanOut.publish(change(1), FIRST);
    await fanOut.publish(change(1), REDELIVERED);
    expect(seqs(delivery.delivered('a1'))).toEqual([1, 1]);
  });

  it('hands a user whose note failed to a retry task, which pushes a change frame again', async () => {
    const { fanOut, delivery, changes, continuations, connect } = setup();
    await connect(connection('a1', 'alice'));
    changes.failNotes = true;
    const report = await fanOut.publish(change(1), FIRST);
    expect(report.problems).toHaveLength(1);
    expect(continuations.tasks.map(({ task }) => task.kind)).toEqual(['retry-users']);

    changes.failNotes = false;
    await drain(fanOut, continuations);
    expect(seqs(delivery.delivered('a1'))).toEqual([1, 1]);
    expect(await changes.last(alice)).toHaveLength(1);
  });

  it('broadcasts a change to a topic to its subscribers only, noted once for the topic', async () => {
    const { fanOut, delivery, inbox, changes, connect } = setup();
    await connect(
      connection('s1', 'alice', { topics: ['project.7'] }),
      connection('s2', 'bob', { topics: ['project.7'] }),
      connection('x1', 'carol', { topics: ['project.8'] }),
    );
    const report = await fanOut.publish(change(1, { topic: 'project.7' }), FIRST);

    expect(report.delivered).toBe(2);
    const [frame] = delivery.delivered('s1') as Array<{ change: { topic?: string } }>;
    expect(frame?.change.topic).toBe('project.7');
    expect(delivery.delivered('x1')).toEqual([]);
    expect(inbox.items.size).toBe(0);
    const topic: Recipient = { kind: 'topic', tenant: TENANT, topic: 'project.7' };
    expect((await changes.last(topic)).map((c) => c.kind)).toEqual(['events-changed']);
  });

  it('hands further pages of a big topic on as change frames too', async () => {
    const { fanOut, delivery, continuations, connect } = setup({ pageSize: 2 });
    for (let i = 0; i < 5; i++) await connect(connection(`s${i}`, `u${i}`, { topics: ['big'] }));
    await fanOut.publish(change(1, { topic: 'big' }), FIRST);
    await drain(fanOut, continuations);
    const frames = delivery.posts.map((post) => JSON.parse(post.data).type);
    expect(frames).toEqual(['change', 'change', 'change', 'change', 'change']);
  });
});
