import { describe, expect, it } from 'vitest';
import { connection, envelope, FIRST, PUBLISHED_AT, setup } from '#test/support/fan-out-fixtures';

describe('publish', () => {
  it('neither stores nor pushes an email-only envelope', async () => {
    const { fanOut, delivery, inbox, continuations, connect } = setup();
    await connect(connection('a1', 'alice'));
    const report = await fanOut.publish(
      envelope({ users: ['alice'] }, { channels: ['email'] }),
      FIRST,
    );
    expect(report.delivered).toBe(0);
    expect(delivery.posts).toEqual([]);
    expect(inbox.storeCalls).toBe(0);
    expect(inbox.items.size).toBe(0);
    expect(continuations.tasks).toEqual([]);
  });

  it('looks nothing up for an email-only envelope', async () => {
    const { fanOut, preferences } = setup();
    await fanOut.publish(envelope({ users: ['alice'] }, { channels: ['email'] }), FIRST);
    expect(preferences.reads).toEqual([]);
  });

  it('gives a re-published topic envelope its first publish time, through the ledger', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('s1', 'alice', { topics: ['project.42'] }));
    const first = await fanOut.publish(envelope({ topic: 'project.42' }), FIRST);
    const later = { publishedAt: PUBLISHED_AT + 5_000, redelivered: false };
    const second = await fanOut.publish(envelope({ topic: 'project.42' }), later);
    expect(second.notificationId).toBe(first.notificationId);
    expect(second.duplicates).toBe(1);
    expect(delivery.posts).toHaveLength(1);
    expect(inbox.items.size).toBe(1);
  });
});

describe('run', () => {
  it('refuses a broadcast page whose envelope names no topic', async () => {
    const { fanOut, delivery } = setup();
    await expect(
      fanOut.run({
        kind: 'broadcast-page',
        envelope: envelope({ users: ['alice'] }),
        publishedAt: PUBLISHED_AT,
        cursor: 's1',
      }),
    ).rejects.toThrow(TypeError);
    expect(delivery.posts).toEqual([]);
  });
});
