/**
 * Reads the settings a handler needs from its environment, once per container. A missing
 * or malformed value throws at the first invocation (the cold start) with the variable's
 * name, instead of surfacing as an odd failure on some later request.
 */
import { ENV, type EnvName } from './env-names';
import { TOPOLOGY } from './topology';

type Env = Record<string, string | undefined>;

/**
 * A setting that is missing or wrong: the one error for every config reader (handlers'
 * variables, auth, the callback URL). Its message names the variable and never its value
 * when that may be a secret; `cause` carries the parser's own error where there is one.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function requireEnv(name: EnvName, env: Env = process.env): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} must be set`);
  return value;
}

export function optionalEnv(name: EnvName, env: Env = process.env): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function intEnv(
  name: EnvName,
  fallback: number,
  range: { min: number; max: number },
  env: Env = process.env,
): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigError(
      `${name} must be an integer from ${range.min} to ${range.max}, got "${raw}"`,
    );
  }
  return value;
}

/**
 * How every handler wires its real dependencies: on its first invocation, which is the cold
 * start in Lambda, so test files can import a handler module without an environment. A
 * setting that is wrong fails that invocation with its ConfigError (as a rejection, named
 * and with its message, which Lambda logs), before any handler code runs; nothing is kept,
 * so every later invocation fails the same way until the setting is fixed.
 */
export function wiredOnFirstCall<Args extends unknown[], R>(
  build: () => (...args: Args) => Promise<R>,
): (...args: Args) => Promise<R> {
  let built: ((...args: Args) => Promise<R>) | undefined;
  return async (...args) => {
    built ??= build();
    return built(...args);
  };
}

/** Posts in flight per invocation, as every handler that pushes reads it; `fallback` when unset. */
export function deliveryConcurrency(fallback: number, env: Env = process.env): number {
  return intEnv(ENV.deliveryConcurrency, fallback, { min: 1, max: 10_000 }, env);
}

/** How long notifications are kept: 90 days unless configured. */
export function retentionSeconds(env: Env = process.env): number {
  return intEnv(ENV.retentionDays, 90, { min: 1, max: 3650 }, env) * 24 * 3600;
}

/**
 * How long an envelope id is remembered (the event ledger's horizon): 24 hours unless
 * configured. At least a minute, at most a year, and never past the retention: the row (or
 * its tombstone) is what recognises a re-publish, so a horizon that outlived it would push
 * a re-published notification again once its row had expired.
 */
export function idempotencySeconds(env: Env = process.env): number {
  const horizon = intEnv(ENV.idempotencySeconds, 24 * 3600, { min: 60, max: 365 * 24 * 3600 }, env);
  const retention = retentionSeconds(env);
  if (horizon > retention) {
    throw new ConfigError(
      `${ENV.idempotencySeconds} (${horizon} s) must not exceed the retention (${ENV.retentionDays}, ${retention / 86_400} days): a re-publish after a notification expired would be pushed again`,
    );
  }
  return horizon;
}

/**
 * How far before its cursor a `resume` looks for notifications filed late (an hour unless
 * configured): at least the longest a publish can wait to be filed, that is the fan-out
 * queue's visibility timeout times its receive count, with room for split tasks.
 */
export function resumeLookbackSeconds(env: Env = process.env): number {
  const { visibilityTimeoutSeconds, maxReceiveCount } = TOPOLOGY.queues.fanOut;
  const floor = visibilityTimeoutSeconds * maxReceiveCount;
  return intEnv(ENV.resumeLookbackSeconds, 3600, { min: floor, max: 7 * 24 * 3600 }, env);
}

/** The caps on a client's frames, each within bounds a WebSocket frame (32 KB) can reach. */
export function messageLimits(
  defaults: { subscriptionsPerConnection: number; idsPerRequest: number; presenceUsers: number },
  env: Env = process.env,
) {
  return {
    subscriptionsPerConnection: intEnv(
      ENV.maxSubscriptionsPerConnection,
      defaults.subscriptionsPerConnection,
      { min: 1, max: 1000 },
      env,
    ),
    idsPerRequest: intEnv(ENV.maxIdsPerRequest, defaults.idsPerRequest, { min: 1, max: 1000 }, env),
    presenceUsers: intEnv(ENV.maxPresenceUsers, defaults.presenceUsers, { min: 1, max: 1000 }, env),
  };
}

/** The per-connection frame rate (a token bucket), each part within sane bounds. */
export function frameRateSettings(
  defaults: { perSecond: number; burst: number; refusalsBeforeClose: number },
  env: Env = process.env,
) {
  return {
    perSecond: intEnv(ENV.framesPerSecond, defaults.perSecond, { min: 1, max: 10_000 }, env),
    burst: intEnv(ENV.frameBurst, defaults.burst, { min: 1, max: 100_000 }, env),
    refusalsBeforeClose: intEnv(
      ENV.frameRefusalsBeforeClose,
      defaults.refusalsBeforeClose,
      { min: 1, max: 1_000_000 },
      env,
    ),
  };
}
