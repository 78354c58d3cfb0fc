/**
 * Reads the settings a handler needs from its environment, once per container. A missing
 * or malformed value throws at the first invocation (the cold start) with the variable's
 * name, instead of surfacing as an odd failure on some later request.
 */
import { ENV, type EnvName } from './env-names';

type Env = Record<string, string | undefined>;

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
 * Defers building a handler's real dependencies to its first invocation, which is the
 * cold start in Lambda, so test files can import `makeHandler` without an environment.
 */
export function wiredOnFirstCall<Args extends unknown[], R>(
  build: () => (...args: Args) => Promise<R>,
): (...args: Args) => Promise<R> {
  let built: ((...args: Args) => Promise<R>) | undefined;
  return (...args) => {
    built ??= build();
    return built(...args);
  };
}

/** How long notifications (and the ledger of event ids) are kept: 90 days unless configured. */
export function retentionSeconds(env: Env = process.env): number {
  return intEnv(ENV.retentionDays, 90, { min: 1, max: 3650 }, env) * 24 * 3600;
}
