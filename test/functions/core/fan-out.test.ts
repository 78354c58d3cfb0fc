import { describe, expect, it } from 'vitest';
import { DEFAULT_FAN_OUT_SETTINGS } from '#core/fan-out';
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

describe('publish: an envelope id produces its notifications once, within the horizon', () => {
  const HORIZON_S = DEFAULT_FAN_OUT_SETTINGS.idempotencySeconds;
  const at = (ms: number) => ({ publishedAt: PUBLISHED_AT + ms, redelivered: false });
  const ids = (frames: unknown[]) =>
    (frames as Array<{ notification: { id: string; eventId: string } }>).map(
      (frame) => frame.notification.eventId,
    );
  const others = (n: number) => Array.from({ length: n }, (_, i) => `other-${i}`);

  it('stores and pushes a re-published user envelope once, 40 notifications later', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('a1', 'alice'));
    const first = await fanOut.publish(envelope({ users: ['alice'] }, { id: 'X' }), FIRST);
    for (const [i, id] of others(40).entries()) {
      await fanOut.publish(envelope({ users: ['alice'] }, { id }), at(1000 * (i + 1)));
    }

    const again = await fanOut.publish(envelope({ users: ['alice'] }, { id: 'X' }), at(3_600_000));

    expect(again.notificationId).toBe(first.notificationId);
    expect(again.duplicates).toBe(1);
    expect(again.delivered).toBe(0);
    expect(ids(delivery.delivered('a1')).filter((id) => id === 'X')).toHaveLength(1);
    expect(inbox.items.size).toBe(41);
    expect(await inbox.unreadCount('acme', 'alice')).toBe(41);
  });

  it('stores and broadcasts a re-published topic envelope once, 40 notifications later', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('s1', 'alice', { topics: ['project.42'] }));
    const to = { topic: 'project.42' };
    await fanOut.publish(envelope(to, { id: 'X' }), FIRST);
    for (const [i, id] of others(40).entries()) {
      await fanOut.publish(envelope(to, { id }), at(1000 * (i + 1)));
    }

    const again = await fanOut.publish(envelope(to, { id: 'X' }), at(3_600_000));

    expect(again.duplicates).toBe(1);
    expect(ids(delivery.delivered('s1')).filter((id) => id === 'X')).toHaveLength(1);
    expect(inbox.items.size).toBe(41);
  });

  it('does nothing new for a re-published coalesced envelope, 40 notifications later', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('a1', 'alice'));
    const to = { users: ['alice'] };
    await fanOut.publish(envelope(to, { id: 'X', collapseKey: 'post.42' }), FIRST);
    for (const [i, id] of others(40).entries()) {
      await fanOut.publish(envelope(to, { id }), at(1000 * (i + 1)));
    }

    const again = await fanOut.publish(
      envelope(to, { id: 'X', collapseKey: 'post.42' }),
      at(3_600_000),
    );

    expect(again.delivered).toBe(0);
    expect(ids(delivery.delivered('a1')).filter((id) => id === 'X')).toHaveLength(1);
    expect(inbox.items.size).toBe(41);
  });

  it('still knows the id a second before the horizon ends', async () => {
    const { fanOut, delivery, inbox, connect } = setup();
    await connect(connection('a1', 'alice'));
    const first = await fanOut.publish(envelope({ users: ['alice'] }, { id: 'X' }), FIRST);

    const late = await fanOut.publish(
      envelope({ users: ['alice'] }, { id: 'X' }),
      at(HORIZON_S * 1000 - 1000),
    );

    expect(late.notificationId).toBe(first.notificationId);
    expect(delivery.delivered('a1')).toHaveLength(1);
    expect(inbox.items.size).toBe(1);
  });

  it('makes a new notification of an id re-published once the horizon has passed', async () => {
    const { fanOut, delivery, inbox, connect } = setup({ idempotencySeconds: 3600 });
    await connect(connection('a1', 'alice'));
    const first = await fanOut.publish(envelope({ users: ['alice'] }, { id: 'X' }), FIRST);

    const after = await fanOut.publish(envelope({ users: ['alice'] }, { id: 'X' }), at(3_600_000));
    // From then on, that later publish is the one the id stands for.
    const again = await fanOut.publish(envelope({ users: ['alice'] }, { id: 'X' }), at(3_700_000));

    expect(after.notificationId).not.toBe(first.notificationId);
    expect(after.duplicates).toBe(0);
    expect(again.notificationId).toBe(after.notificationId);
    expect(again.duplicates).toBe(1);
    expect(ids(delivery.delivered('a1'))).toEqual(['X', 'X']);
    expect(inbox.items.size).toBe(2);
    expect(await inbox.unreadCount('acme', 'alice')).toBe(2);
  });

  it('records each envelope in the ledger once, whatever its audience', async () => {
    const { fanOut, ledger } = setup();
    await fanOut.publish(envelope({ users: ['alice', 'bob', 'carol'] }, { id: 'X' }), FIRST);
    await fanOut.publish(envelope({ topic: 'project.42' }, { id: 'Y' }), FIRST);

    expect([...ledger.first.keys()]).toEqual(['acme/X', 'acme/Y']);
    expect(ledger.first.get('acme/X')).toEqual({
      publishedAt: PUBLISHED_AT,
      expiresAt: Math.floor(PUBLISHED_AT / 1000) + HORIZON_S,
    });
  });
});
