/**
 * The `MailLog` contract (see `functions/core/ports.ts`): a claim before each mail, one
 * holder at a time, a lease that runs out so a dead sender's mail is claimed again, and a
 * sent mark that ends all claims, per tenant, user and notification.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MailLease, MailLog } from '#core/ports';
import { unique } from './names';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const LEASE_MS = 60_000;
const EXPIRES_AT = Math.floor(T0 / 1000) + 86_400;

function lease(claimant: string, now = T0): MailLease {
  return { claimant, leaseUntil: now + LEASE_MS, now, expiresAt: EXPIRES_AT };
}

export function mailLogContract(make: () => MailLog): void {
  describe('MailLog', () => {
    let log: MailLog;
    let tenant: string;

    beforeEach(() => {
      log = make();
      tenant = unique('tenant');
    });

    it('lets one claimant hold a mail until it is marked sent, then nobody', async () => {
      expect(await log.claim(tenant, 'alice', 'N1', lease('a'))).toBe('claimed');
      expect(await log.claim(tenant, 'alice', 'N1', lease('b', T0 + 1000))).toBe('held');
      expect(await log.markSent(tenant, 'alice', 'N1', 'a')).toBe(true);

      expect(await log.claim(tenant, 'alice', 'N1', lease('b', T0 + 1000))).toBe('sent');
      // Marked sent, the record is never claimed again, however late.
      expect(await log.claim(tenant, 'alice', 'N1', lease('c', T0 + 10 * LEASE_MS))).toBe('sent');
    });

    it('keeps tenants, users and notifications apart', async () => {
      expect(await log.claim(tenant, 'alice', 'N1', lease('a'))).toBe('claimed');
      await log.markSent(tenant, 'alice', 'N1', 'a');

      expect(await log.claim(tenant, 'bob', 'N1', lease('b'))).toBe('claimed');
      expect(await log.claim(tenant, 'alice', 'N2', lease('b'))).toBe('claimed');
      expect(await log.claim(unique('tenant'), 'alice', 'N1', lease('b'))).toBe('claimed');
    });

    it('gives a claim whose lease ran out, unmarked, to the next claimant only', async () => {
      expect(await log.claim(tenant, 'alice', 'N1', lease('dead'))).toBe('claimed');
      const late = T0 + LEASE_MS;
      expect(await log.claim(tenant, 'alice', 'N1', lease('retry', late))).toBe('claimed');
      expect(await log.claim(tenant, 'alice', 'N1', lease('other', late + 1))).toBe('held');

      // The first sender lost its claim: its mark fails, the holder's succeeds.
      expect(await log.markSent(tenant, 'alice', 'N1', 'dead')).toBe(false);
      expect(await log.markSent(tenant, 'alice', 'N1', 'retry')).toBe(true);
      expect(await log.claim(tenant, 'alice', 'N1', lease('other', late + 2))).toBe('sent');
    });

    it('lets exactly one of many simultaneous claims through', async () => {
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((claimant) =>
          log.claim(tenant, 'alice', 'N1', lease(claimant)),
        ),
      );
      expect(claims.filter((claim) => claim === 'claimed')).toHaveLength(1);
      expect(claims.filter((claim) => claim === 'held')).toHaveLength(4);
    });

    it("frees a claim on its holder's release only, and never a sent mail", async () => {
      expect(await log.claim(tenant, 'alice', 'N1', lease('a'))).toBe('claimed');
      await log.release(tenant, 'alice', 'N1', 'b');
      expect(await log.claim(tenant, 'alice', 'N1', lease('b', T0 + 1))).toBe('held');

      await log.release(tenant, 'alice', 'N1', 'a');
      expect(await log.claim(tenant, 'alice', 'N1', lease('b', T0 + 2))).toBe('claimed');
      expect(await log.markSent(tenant, 'alice', 'N1', 'b')).toBe(true);

      await log.release(tenant, 'alice', 'N1', 'b');
      expect(await log.claim(tenant, 'alice', 'N1', lease('c', T0 + 3))).toBe('sent');
    });

    it('marks nothing for a claimant that never claimed', async () => {
      expect(await log.markSent(tenant, 'alice', 'N1', 'nobody')).toBe(false);
      expect(await log.claim(tenant, 'alice', 'N1', lease('a'))).toBe('claimed');
    });
  });
}
