/**
 * The `Directory` and `MailLog` contracts (see `functions/core/ports.ts`): a user's latest
 * address, and which notifications were mailed to whom, per tenant.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Directory, MailLog } from '#core/ports';
import { unique } from './names';

export function directoryContract(make: () => Directory): void {
  describe('Directory', () => {
    let directory: Directory;
    let tenant: string;

    beforeEach(() => {
      directory = make();
      tenant = unique('tenant');
    });

    it('remembers the latest address per tenant and user', async () => {
      expect(await directory.emailOf(tenant, 'alice')).toBeUndefined();
      await directory.rememberEmail(tenant, 'alice', 'old@example.com');
      await directory.rememberEmail(tenant, 'alice', 'alice@example.com');

      expect(await directory.emailOf(tenant, 'alice')).toBe('alice@example.com');
      expect(await directory.emailOf(tenant, 'bob')).toBeUndefined();
      expect(await directory.emailOf(unique('tenant'), 'alice')).toBeUndefined();
    });
  });
}

export function mailLogContract(make: () => MailLog): void {
  describe('MailLog', () => {
    let log: MailLog;
    let tenant: string;

    beforeEach(() => {
      log = make();
      tenant = unique('tenant');
    });

    it('records a sent mail per tenant, user and notification, twice as once', async () => {
      expect(await log.wasSent(tenant, 'alice', 'N1')).toBe(false);
      await log.recordSent(tenant, 'alice', 'N1');
      await log.recordSent(tenant, 'alice', 'N1');

      expect(await log.wasSent(tenant, 'alice', 'N1')).toBe(true);
      expect(await log.wasSent(tenant, 'bob', 'N1')).toBe(false);
      expect(await log.wasSent(tenant, 'alice', 'N2')).toBe(false);
      expect(await log.wasSent(unique('tenant'), 'alice', 'N1')).toBe(false);
    });
  });
}
