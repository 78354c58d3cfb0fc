import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  deliveryConcurrency,
  idempotencySeconds,
  intEnv,
  messageLimits,
  optionalEnv,
  requireEnv,
  retentionSeconds,
  wiredOnFirstCall,
} from '#config/config';
import { ENV } from '#config/env-names';

describe('ConfigError', () => {
  it('is named, so a cold start that fails says which kind of failure it is', () => {
    const cause = new TypeError('Invalid URL');
    const error = new ConfigError('HERALD_X is wrong', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(String(error)).toBe('ConfigError: HERALD_X is wrong');
    expect(error.cause).toBe(cause);
  });
});

describe('reading variables', () => {
  it('requires a set, non-blank value, trimmed, naming the variable when missing', () => {
    expect(requireEnv(ENV.connectionsTable, { [ENV.connectionsTable]: ' t ' })).toBe('t');
    for (const env of [{}, { [ENV.connectionsTable]: '  ' }]) {
      expect(() => requireEnv(ENV.connectionsTable, env)).toThrow(ConfigError);
      expect(() => requireEnv(ENV.connectionsTable, env)).toThrow(
        `${ENV.connectionsTable} must be set`,
      );
    }
    expect(optionalEnv(ENV.emailFrom, { [ENV.emailFrom]: ' ' })).toBeUndefined();
  });

  it('reads an integer in range, the fallback when unset, and refuses anything else', () => {
    const range = { min: 1, max: 10 };
    expect(intEnv(ENV.deliveryConcurrency, 4, range, {})).toBe(4);
    expect(intEnv(ENV.deliveryConcurrency, 4, range, { [ENV.deliveryConcurrency]: '10' })).toBe(10);
    for (const raw of ['0', '11', '2.5', 'ten']) {
      expect(() =>
        intEnv(ENV.deliveryConcurrency, 4, range, { [ENV.deliveryConcurrency]: raw }),
      ).toThrow(
        new ConfigError(`${ENV.deliveryConcurrency} must be an integer from 1 to 10, got "${raw}"`),
      );
      expect(() =>
        intEnv(ENV.deliveryConcurrency, 4, range, { [ENV.deliveryConcurrency]: raw }),
      ).toThrow(ConfigError);
    }
  });

  it('reads the delivery concurrency from 1 to 10,000, the caller’s default when unset', () => {
    expect(deliveryConcurrency(64, {})).toBe(64);
    expect(deliveryConcurrency(64, { [ENV.deliveryConcurrency]: '10000' })).toBe(10_000);
    for (const raw of ['0', '10001']) {
      expect(() => deliveryConcurrency(64, { [ENV.deliveryConcurrency]: raw })).toThrow(
        ConfigError,
      );
    }
  });

  it('keeps notifications 90 days unless told otherwise', () => {
    expect(retentionSeconds({})).toBe(90 * 24 * 3600);
    expect(retentionSeconds({ [ENV.retentionDays]: '7' })).toBe(7 * 24 * 3600);
    expect(() => retentionSeconds({ [ENV.retentionDays]: '0' })).toThrow(ConfigError);
  });

  it('remembers an envelope id for 24 hours unless told otherwise, a minute at least', () => {
    expect(idempotencySeconds({})).toBe(24 * 3600);
    expect(idempotencySeconds({ [ENV.idempotencySeconds]: '172800' })).toBe(172_800);
    expect(() => idempotencySeconds({ [ENV.idempotencySeconds]: '10' })).toThrow(ConfigError);
    // A horizon past the retention would outlive the rows that recognise a re-publish.
    expect(() =>
      idempotencySeconds({
        [ENV.idempotencySeconds]: String(3 * 86_400),
        [ENV.retentionDays]: '2',
      }),
    ).toThrow(/must not exceed the retention/);
    expect(
      idempotencySeconds({
        [ENV.idempotencySeconds]: String(2 * 86_400),
        [ENV.retentionDays]: '2',
      }),
    ).toBe(2 * 86_400);
  });
});

describe('messageLimits', () => {
  const defaults = { subscriptionsPerConnection: 100, idsPerRequest: 100, presenceUsers: 100 };

  it('takes the defaults, each overridden by its own variable, and refuses nonsense', () => {
    expect(messageLimits(defaults, {})).toEqual(defaults);
    expect(
      messageLimits(defaults, {
        [ENV.maxSubscriptionsPerConnection]: '5',
        [ENV.maxIdsPerRequest]: '6',
        [ENV.maxPresenceUsers]: '7',
      }),
    ).toEqual({ subscriptionsPerConnection: 5, idsPerRequest: 6, presenceUsers: 7 });
    expect(() => messageLimits(defaults, { [ENV.maxIdsPerRequest]: '0' })).toThrow(ConfigError);
  });
});

describe('wiredOnFirstCall', () => {
  it('builds on the first call, not at import, and once only', async () => {
    const build = vi.fn(() => async (n: number) => n * 2);
    const handler = wiredOnFirstCall(build);
    expect(build).not.toHaveBeenCalled();
    expect(await handler(2)).toBe(4);
    expect(await handler(3)).toBe(6);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('fails the call with the ConfigError itself, as a rejection, until the setting is fixed', async () => {
    let set = false;
    const build = vi.fn(() => {
      if (!set) throw new ConfigError(`${ENV.callbackUrl} must be set`);
      return async () => 'ok';
    });
    const handler = wiredOnFirstCall(build);
    const first = handler();
    expect(first).toBeInstanceOf(Promise);
    await expect(first).rejects.toThrow(new ConfigError(`${ENV.callbackUrl} must be set`));
    await expect(handler()).rejects.toMatchObject({ name: 'ConfigError' });
    set = true;
    await expect(handler()).resolves.toBe('ok');
    expect(build).toHaveBeenCalledTimes(3);
  });
});
