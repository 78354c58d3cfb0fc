/** The `Directory` contract (see `functions/core/ports.ts`): a user's latest address, per tenant. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Directory } from '#core/ports';
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
