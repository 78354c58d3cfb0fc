import { describe, expect, it } from 'vitest';
import { FanOutBatch } from '#core/fan-out';
import type { PreferenceKey } from '#core/ports';
import { connection, envelope, FIRST, setup } from '#test/support/fan-out-fixtures';

describe('preferences shared by a batch', () => {
  it('reads each preference once for a whole batch', async () => {
    const { fanOut, preferences } = setup();
    const batch = new FanOutBatch();
    await Promise.all(
      ['evt-1', 'evt-2', 'evt-3'].map((id) =>
        fanOut.publish(envelope({ users: ['alice'] }, { id }), { ...FIRST, batch }),
      ),
    );
    expect(preferences.reads.sort()).toEqual(['tenant acme', 'user acme/alice']);
  });

  it('reads the preferences of a batch’s envelopes in one request', async () => {
    const { fanOut, preferences } = setup();
    const batch = new FanOutBatch();
    const users = ['alice', 'bob', 'carol', 'dave'];
    await Promise.all(
      users.map((user, i) =>
        fanOut.publish(envelope({ users: [user] }, { id: `evt-${i}` }), { ...FIRST, batch }),
      ),
    );
    expect(preferences.manyReads).toEqual([users.length + 1]);
  });

  it('still reads them in one request when the ledger answers each record at its own time', async () => {
    const { fanOut, preferences, ledger } = setup();
    const first = ledger.firstPublished.bind(ledger);
    let calls = 0;
    // As over a network: each record's ledger write finishes in a later turn than the last.
    ledger.firstPublished = async (...args) => {
      const turns = ++calls;
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
      return first(...args);
    };
    const batch = new FanOutBatch();
    const users = ['alice', 'bob', 'carol', 'dave'];
    await Promise.all(
      users.map((user, i) =>
        fanOut.publish(envelope({ users: [user] }, { id: `evt-${i}` }), { ...FIRST, batch }),
      ),
    );
    expect(preferences.manyReads).toEqual([users.length + 1]);
  });

  it('asks again for a preference whose read failed, in a later read', async () => {
    const { fanOut, delivery, preferences, connect } = setup();
    await connect(connection('a1', 'alice'));
    const batch = new FanOutBatch();
    const many = preferences.many.bind(preferences);
    let fail = true;
    preferences.many = async (keys) => {
      if (fail) {
        fail = false;
        throw new Error('throttled');
      }
      return many(keys);
    };
    const first = await fanOut.publish(envelope({ users: ['alice'] }), { ...FIRST, batch });
    expect(first.problems).toHaveLength(1);
    await fanOut.publish(envelope({ users: ['alice'] }, { id: 'evt-2' }), { ...FIRST, batch });
    expect(delivery.delivered('a1')).toHaveLength(1);
  });
});

describe('FanOutBatch', () => {
  const prefs = (label: string) => ({ channels: { inapp: label !== 'off' } });

  function reader(fail = { next: false }) {
    const reads: string[][] = [];
    const read = async (keys: readonly PreferenceKey[]) => {
      reads.push(keys.map((key) => `${key.tenant}/${key.userId ?? '*'}`));
      if (fail.next) {
        fail.next = false;
        throw new Error('throttled');
      }
      return keys.map((key) => (key.userId === 'carol' ? undefined : prefs(key.userId ?? 'on')));
    };
    return { read, reads };
  }

  it('gathers the keys asked for in one turn into one read, answered each in its place', async () => {
    const batch = new FanOutBatch();
    const { read, reads } = reader();
    const answers = await Promise.all([
      batch.preferences({ tenant: 'acme', userId: 'off' }, read),
      batch.preferences({ tenant: 'acme' }, read),
      batch.preferences({ tenant: 'acme', userId: 'carol' }, read),
    ]);
    expect(reads).toEqual([['acme/off', 'acme/*', 'acme/carol']]);
    expect(answers).toEqual([prefs('off'), prefs('on'), undefined]);
  });

  it('reads a key once per batch, however often and whenever it is asked for', async () => {
    const batch = new FanOutBatch();
    const { read, reads } = reader();
    const [a, b] = await Promise.all([
      batch.preferences({ tenant: 'acme', userId: 'alice' }, read),
      batch.preferences({ tenant: 'acme', userId: 'alice' }, read),
    ]);
    const later = await batch.preferences({ tenant: 'acme', userId: 'alice' }, read);
    expect(reads).toEqual([['acme/alice']]);
    expect(a).toEqual(prefs('alice'));
    expect(b).toBe(a);
    expect(later).toBe(a);
    // Another batch reads again: lookups never outlive the invocation's batch.
    await new FanOutBatch().preferences({ tenant: 'acme', userId: 'alice' }, read);
    expect(reads).toHaveLength(2);
  });

  it('fails every asker of a failed read, and reads those keys again when asked again', async () => {
    const batch = new FanOutBatch();
    const fail = { next: true };
    const { read, reads } = reader(fail);
    const asked = [
      batch.preferences({ tenant: 'acme', userId: 'alice' }, read),
      batch.preferences({ tenant: 'acme' }, read),
    ];
    for (const each of asked) await expect(each).rejects.toThrow('throttled');
    expect(await batch.preferences({ tenant: 'acme', userId: 'alice' }, read)).toEqual(
      prefs('alice'),
    );
    expect(reads).toEqual([['acme/alice', 'acme/*'], ['acme/alice']]);
  });

  it('tells a tenant’s defaults from a user of the same name', async () => {
    const batch = new FanOutBatch();
    const { read, reads } = reader();
    await Promise.all([
      batch.preferences({ tenant: 'acme' }, read),
      batch.preferences({ tenant: 'acme', userId: '' }, read),
    ]);
    expect(reads).toEqual([['acme/*', 'acme/']]);
  });
});
