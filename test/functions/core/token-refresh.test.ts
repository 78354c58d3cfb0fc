import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from '#core/errors';
import type { Identity } from '#core/model';
import type { TokenVerifier } from '#core/ports';
import { createTokenRefresh } from '#core/token-refresh';
import { FakeConnectionStore } from '#test/support/fakes';

const alice: Identity = {
  tenant: 'acme',
  userId: 'alice',
  topicPatterns: [],
  tokenExpiresAt: 1000,
};

/** Reads a token as a JSON identity, or refuses it with the reason it names. */
const verifier: TokenVerifier = {
  async verify(token) {
    if (token.startsWith('refuse:')) throw new UnauthorizedError(token.slice('refuse:'.length));
    return JSON.parse(token) as Identity;
  },
};

async function setup() {
  const store = new FakeConnectionStore();
  await store.put({ ...alice, connectionId: 'c1', connectedAt: 0, topics: [] }, 0);
  const refresh = createTokenRefresh({ verifier, lifetimes: store });
  const caller = { identity: alice, connectionId: 'c1' };
  return { store, refresh, caller };
}

const token = (identity: Partial<Identity>) => JSON.stringify({ ...alice, ...identity });

describe('refresh', () => {
  it("extends the connection to the new token's expiry", async () => {
    const { store, refresh, caller } = await setup();
    await expect(refresh({ token: token({ tokenExpiresAt: 5000 }) }, caller)).resolves.toEqual({
      expiresAt: 5000,
    });
    expect((await store.get('c1'))?.tokenExpiresAt).toBe(5000);
  });

  it('never shortens: an older token leaves the later expiry and says so', async () => {
    const { refresh, caller } = await setup();
    await refresh({ token: token({ tokenExpiresAt: 5000 }) }, caller);
    await expect(refresh({ token: token({ tokenExpiresAt: 3000 }) }, caller)).resolves.toEqual({
      expiresAt: 5000,
    });
  });

  it.each([
    ['another user', { userId: 'mallory' }],
    ['another tenant', { tenant: 'evil' }],
  ])('refuses a token of %s with refresh_mismatch, changing nothing', async (_what, other) => {
    const { store, refresh, caller } = await setup();
    await expect(
      refresh({ token: token({ ...other, tokenExpiresAt: 9000 }) }, caller),
    ).rejects.toMatchObject({ code: 'refresh_mismatch' });
    expect((await store.get('c1'))?.tokenExpiresAt).toBe(1000);
  });

  it.each([
    ['token expired', 'token_expired'],
    ['bad signature', 'unauthorized'],
  ])('answers a token refused with "%s" as %s', async (reason, code) => {
    const { refresh, caller } = await setup();
    await expect(refresh({ token: `refuse:${reason}` }, caller)).rejects.toMatchObject({ code });
  });

  it.each([[{}], [{ token: '' }], [{ token: 42 }], [{ token: 'x'.repeat(9000) }]])(
    'refuses %j as bad_request',
    async (args) => {
      const { refresh, caller } = await setup();
      await expect(refresh(args, caller)).rejects.toMatchObject({ code: 'bad_request' });
    },
  );

  it('answers not_found when the connection is gone', async () => {
    const { store, refresh, caller } = await setup();
    await store.remove('c1');
    await expect(refresh({ token: token({ tokenExpiresAt: 5000 }) }, caller)).rejects.toMatchObject(
      { code: 'not_found' },
    );
  });
});
