/**
 * What every UserStateStore promises: a change applies once per marker id (until the marker
 * expires), a refused change writes nothing, and concurrent changes of one user all land.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { UserStateStore } from '#core/ports';
import { applyChange, StateRefusedError } from '#core/user-state';
import { unique } from './names';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const marker = (id: string, now = NOW) => ({
  id,
  now,
  expiresAt: Math.floor(now / 1000) + 3600,
});
const change = (state: Partial<Parameters<typeof applyChange>[1]>) => (current: object) =>
  applyChange(current as Record<string, never>, { set: {}, incr: {}, unset: [], ...state });

export function userStateStoreContract(make: () => UserStateStore): void {
  describe('UserStateStore', () => {
    let store: UserStateStore;
    let tenant: string;

    beforeEach(() => {
      store = make();
      tenant = unique('tenant');
    });

    it('reads an empty hash for a user nobody wrote, and what was applied after', async () => {
      expect(await store.read(tenant, 'alice')).toEqual({});
      const applied = await store.apply(tenant, 'alice', marker('m1'), change({ set: { a: 'x' } }));
      expect(applied).toEqual({ applied: true, state: { a: 'x' } });
      expect(await store.read(tenant, 'alice')).toEqual({ a: 'x' });
      expect(await store.read(tenant, 'bob')).toEqual({});
      expect(await store.read(unique('tenant'), 'alice')).toEqual({});
    });

    it('applies one marker id once, until its marker expires', async () => {
      const incr = change({ incr: { n: 1 } });
      expect((await store.apply(tenant, 'u', marker('same'), incr)).applied).toBe(true);
      expect(await store.apply(tenant, 'u', marker('same'), incr)).toEqual({
        applied: false,
        state: { n: 1 },
      });
      // The same id for another user is another change.
      expect((await store.apply(tenant, 'v', marker('same'), incr)).applied).toBe(true);
      const later = marker('same', NOW + 3601 * 1000);
      expect(await store.apply(tenant, 'u', later, incr)).toEqual({
        applied: true,
        state: { n: 2 },
      });
    });

    it('writes nothing for a refused change, not even its marker', async () => {
      await store.apply(tenant, 'u', marker('set'), change({ set: { label: 'text' } }));
      await expect(
        store.apply(tenant, 'u', marker('bad'), change({ incr: { label: 1 } })),
      ).rejects.toBeInstanceOf(StateRefusedError);
      expect(await store.read(tenant, 'u')).toEqual({ label: 'text' });
      const fixed = await store.apply(tenant, 'u', marker('bad'), change({ unset: ['label'] }));
      expect(fixed).toEqual({ applied: true, state: {} });
    });

    it('lands every one of concurrent increments of one user', async () => {
      await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          store.apply(tenant, 'busy', marker(`c${n}`), change({ incr: { count: 1 } })),
        ),
      );
      expect(await store.read(tenant, 'busy')).toEqual({ count: 10 });
    });
  });
}
