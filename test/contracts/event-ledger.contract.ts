/**
 * The `EventLedger` contract (see `functions/core/ports.ts`): per tenant and event id, the
 * first publish time, whoever asks and however often, until its record expires.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { EventLedger } from '#core/ports';
import { unique } from './names';
import { EXPIRES_AT } from './notifications';

export function eventLedgerContract(make: () => EventLedger): void {
  describe('EventLedger', () => {
    let ledger: EventLedger;
    let tenant: string;

    beforeEach(() => {
      ledger = make();
      tenant = unique('tenant');
    });

    it('keeps the first publish time of an event id', async () => {
      expect(await ledger.firstPublished(tenant, 'evt-1', 1_000, EXPIRES_AT)).toBe(1_000);
      expect(await ledger.firstPublished(tenant, 'evt-1', 9_000, EXPIRES_AT)).toBe(1_000);
      expect(await ledger.firstPublished(tenant, 'evt-1', 500, EXPIRES_AT)).toBe(1_000);
    });

    it('keeps tenants and events apart', async () => {
      await ledger.firstPublished(tenant, 'evt-2', 2_000, EXPIRES_AT);

      expect(await ledger.firstPublished(unique('tenant'), 'evt-2', 3_000, EXPIRES_AT)).toBe(3_000);
      expect(await ledger.firstPublished(tenant, 'evt-3', 4_000, EXPIRES_AT)).toBe(4_000);
    });

    it('forgets an event once its record expired: a publish then is first again', async () => {
      const horizon = 86_400;
      const first = 1_000_000_000;
      const until = Math.floor(first / 1000) + horizon;
      expect(await ledger.firstPublished(tenant, 'evt-h', first, until)).toBe(first);
      const justBefore = (until - 1) * 1000;
      expect(await ledger.firstPublished(tenant, 'evt-h', justBefore, until + horizon)).toBe(first);

      const after = until * 1000;
      expect(await ledger.firstPublished(tenant, 'evt-h', after, until + horizon)).toBe(after);
      expect(await ledger.firstPublished(tenant, 'evt-h', after + 5_000, until + 2 * horizon)).toBe(
        after,
      );
    });

    it('agrees under concurrent first publishes', async () => {
      const answers = await Promise.all(
        [10, 20, 30, 40, 50].map((at) => ledger.firstPublished(tenant, 'evt-race', at, EXPIRES_AT)),
      );

      expect(new Set(answers).size).toBe(1);
      expect(await ledger.firstPublished(tenant, 'evt-race', 60, EXPIRES_AT)).toBe(answers[0]);
    });
  });
}
