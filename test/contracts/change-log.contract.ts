/**
 * The `ChangeLog` contract (see `functions/core/changes.ts`): per recipient, each kind's
 * last change by id, at most `keep` kinds, the least recently recorded dropped first.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChangeLog, RecordedChange } from '#core/changes';
import type { Recipient } from '#core/model';
import { unique } from './names';
import { EXPIRES_AT } from './notifications';

const OPTIONS = { expiresAt: EXPIRES_AT, keep: 100 };

/** A change of `kind` with an id that sorts by `n`, recorded at `n`. */
function change(kind: string, n: number, type = 'events-changed'): RecordedChange {
  const id = `01J${String(n).padStart(23, '0')}`;
  return { kind, type, id, at: new Date(n).toISOString(), recordedAt: n };
}

export function changeLogContract(make: () => ChangeLog): void {
  describe('ChangeLog', () => {
    let log: ChangeLog;
    let user: Recipient;

    beforeEach(() => {
      log = make();
      user = { kind: 'user', tenant: unique('tenant'), userId: 'alice' };
    });

    it('has nothing on record for a recipient never noted', async () => {
      expect(await log.last(user)).toEqual([]);
    });

    it('keeps the last change of each kind, by id, whatever order they are noted in', async () => {
      await log.note(user, change('doc.1', 2), OPTIONS);
      await log.note(user, change('doc.1', 5), OPTIONS);
      await log.note(user, change('doc.1', 3), OPTIONS);
      await log.note(user, change('streams-changed', 4, 'streams-changed'), OPTIONS);

      const last = await log.last(user);
      expect(last.sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
        change('doc.1', 5),
        change('streams-changed', 4, 'streams-changed'),
      ]);
    });

    it('keeps recipients apart: users, topics and tenants', async () => {
      const topic: Recipient = { kind: 'topic', tenant: user.tenant, topic: 'project.7' };
      const other: Recipient = { ...user, tenant: unique('tenant') };
      await log.note(user, change('doc.1', 1), OPTIONS);
      await log.note(topic, change('doc.2', 2), OPTIONS);

      expect((await log.last(user)).map((each) => each.kind)).toEqual(['doc.1']);
      expect((await log.last(topic)).map((each) => each.kind)).toEqual(['doc.2']);
      expect(await log.last(other)).toEqual([]);
    });

    it('keeps at most `keep` kinds, dropping the least recently recorded', async () => {
      const keep = { ...OPTIONS, keep: 3 };
      for (const [n, kind] of ['a', 'b', 'c', 'd'].entries()) {
        await log.note(user, change(kind, n + 1), keep);
      }
      // `b` again, newer: `a` is now the least recently recorded, and goes next.
      await log.note(user, change('b', 5), keep);
      await log.note(user, change('e', 6), keep);

      const kinds = (await log.last(user)).map((each) => each.kind).sort();
      expect(kinds).toEqual(['b', 'd', 'e']);
    });

    it('takes concurrent first notes of one recipient without losing a kind', async () => {
      await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((kind, n) => log.note(user, change(kind, n + 1), OPTIONS)),
      );
      expect((await log.last(user)).map((each) => each.kind).sort()).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
      ]);
    });
  });
}
